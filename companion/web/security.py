"""Security headers and the Origin check, as one pure ASGI middleware around the whole app.

Being pure ASGI (not `BaseHTTPMiddleware`) it sees every HTTP response and every WebSocket
handshake, including those of the Chainlit app mounted at `/chat`, without buffering bodies.

What it does:

* Adds to every HTTP response: the Content-Security-Policy, `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`, a `Permissions-Policy` that turns
  off camera, microphone and geolocation, `Cross-Origin-Opener-Policy: same-origin`, and
  `Cache-Control: no-store` on chat responses other than fingerprinted static files. When the
  public origin is https it also adds HSTS and marks cookies `Secure` (Chainlit does not).
* Refuses cross-origin requests to the chat (`/chat/...`, including the socket.io endpoint
  `/chat/ws/socket.io`), because Chainlit's socket.io server switches its own Origin check off,
  and to the portal (`/portal/...`), as a second line behind its CSRF tokens:

  - an `Origin` header that is not one of `Settings.origins` is refused: 403 for HTTP
    (socket.io polling and the chat API), and the WebSocket handshake is closed (the server
    answers it with 403);
  - `Origin: null` or no `Origin` is allowed only if `Sec-Fetch-Site` is absent, `same-origin`
    or `none`. Browsers always send a real `Origin` on WebSocket handshakes and cross-origin
    requests, and under `Referrer-Policy: no-referrer` they send `Origin: null` on our own
    same-origin POSTs, which `Sec-Fetch-Site: same-origin` tells apart from a sandboxed
    cross-site frame. A request with neither header comes from a non-browser client, which
    could forge any header anyway; it still needs Chainlit's signed session cookie.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.logging import get_logger

__all__ = ["SecurityHeadersMiddleware", "is_allowed_origin"]

log = get_logger("companion.web.security")

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
_SAME_SITE_FETCH = {"same-origin", "none"}


def is_allowed_origin(headers: Headers, allowed: frozenset[str]) -> bool:
    """Decide whether a request to the chat may proceed, from its Origin and Sec-Fetch-Site.

    Args:
        headers: the request headers.
        allowed: origins (scheme://host[:port], no trailing slash) that may use the chat.
    """
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        return origin.rstrip("/") in allowed
    fetch_site = headers.get("sec-fetch-site")
    return fetch_site is None or fetch_site in _SAME_SITE_FETCH


class SecurityHeadersMiddleware:
    """Add security headers to every response and refuse cross-origin chat requests."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        csp: str,
        allowed_origins: Iterable[str],
        protected_prefixes: tuple[str, ...] = ("/chat",),
        static_prefixes: tuple[str, ...] = ("/chat/assets/",),
        https: bool = False,
    ) -> None:
        """Wrap `app`.

        Args:
            app: the ASGI app to protect.
            csp: the Content-Security-Policy value (see `companion.web.csp.build_csp`).
            allowed_origins: origins that may open the chat socket and call the chat API.
            protected_prefixes: path prefixes where the Origin check and `no-store` apply.
            static_prefixes: fingerprinted static files that may be cached.
            https: the public origin is https: add HSTS and mark cookies Secure.
        """
        self.app = app
        self.csp = csp
        self.allowed = frozenset(o.rstrip("/") for o in allowed_origins)
        self.prefixes = tuple(p.rstrip("/") for p in protected_prefixes)
        self.static_prefixes = static_prefixes
        self.https = https

    def _is_protected(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        protected = self._is_protected(path)
        if protected and not is_allowed_origin(Headers(scope=scope), self.allowed):
            await self._refuse(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        no_store = protected and not path.startswith(self.static_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add_headers(MutableHeaders(scope=message), no_store=no_store)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add_headers(self, headers: MutableHeaders, *, no_store: bool) -> None:
        headers["Content-Security-Policy"] = self.csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if no_store:
            headers["Cache-Control"] = "no-store"
        if self.https:
            headers["Strict-Transport-Security"] = "max-age=31536000"
            self._secure_cookies(headers)

    @staticmethod
    def _secure_cookies(headers: MutableHeaders) -> None:
        cookies = headers.getlist("set-cookie")
        if not cookies:
            return
        del headers["set-cookie"]
        for cookie in cookies:
            if "secure" not in {part.strip().lower() for part in cookie.split(";")}:
                cookie += "; Secure"
            headers.append("set-cookie", cookie)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Names the origin so a deployment missing COMPANION_PUBLIC_URL is easy to diagnose.
        headers = Headers(scope=scope)
        log.warning(
            "origin_refused",
            url=headers.get("origin", "")[:100],
            source=headers.get("sec-fetch-site", ""),
            path=str(scope.get("path", ""))[:100],
            reason="set COMPANION_PUBLIC_URL or COMPANION_ALLOWED_ORIGINS to allow it",
        )
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the handshake with 403.
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        body = b'{"detail":"Origin not allowed"}'
        start: Message = {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        self._add_headers(MutableHeaders(scope=start), no_store=True)
        await send(start)
        await send({"type": "http.response.body", "body": body})
