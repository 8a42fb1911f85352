"""Tests for companion.web.security on a tiny app: headers everywhere, Origin check on the chat."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from companion.web.security import SecurityHeadersMiddleware

ORIGIN = "http://127.0.0.1:8000"
CSP = "default-src 'self'; script-src 'self' 'sha256-abc'"


async def _text(request: object) -> PlainTextResponse:
    response = PlainTextResponse("hello")
    response.set_cookie("access_token", "t", httponly=True)
    return response


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hi")
    await websocket.close()


def _client(*, https: bool = False) -> TestClient:
    app = Starlette(
        routes=[
            Route("/help", _text),
            Route("/chat/api", _text, methods=["GET", "POST"]),
            Route("/chat/assets/app.js", _text),
            WebSocketRoute("/chat/ws/socket.io/", _socket),
        ]
    )
    wrapped = SecurityHeadersMiddleware(app, csp=CSP, allowed_origins=[ORIGIN + "/"], https=https)
    return TestClient(wrapped, base_url=ORIGIN)


@pytest.mark.parametrize("path", ["/help", "/chat/api", "/chat/assets/app.js"])
def test_every_response_gets_the_security_headers(path: str) -> None:
    response = _client().get(path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "microphone=()" in response.headers["permissions-policy"]
    assert "geolocation=()" in response.headers["permissions-policy"]
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers


def test_chat_api_is_not_cached_but_fingerprinted_assets_may_be() -> None:
    client = _client()
    assert client.get("/chat/api").headers["cache-control"] == "no-store"
    assert "cache-control" not in client.get("/chat/assets/app.js").headers
    assert "cache-control" not in client.get("/help").headers


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": ORIGIN}, True),
        ({}, True),  # non-browser client, or a same-origin GET
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, True),  # own POST under no-referrer
        ({"Origin": "http://evil.example"}, False),
        ({"Origin": "http://127.0.0.1:9999"}, False),  # same site, other port
        ({"Origin": "null"}, True),  # no Sec-Fetch-Site: not a browser
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, False),  # sandboxed frame
        ({"Sec-Fetch-Site": "same-site"}, False),
    ],
)
def test_chat_http_requests_are_checked_for_origin(headers: dict[str, str], allowed: bool) -> None:
    response = _client().post("/chat/api", headers=headers)
    assert response.status_code == (200 if allowed else 403)
    assert response.headers["content-security-policy"] == CSP


def test_origin_is_not_checked_outside_the_chat() -> None:
    assert _client().get("/help", headers={"Origin": "http://evil.example"}).status_code == 200


def test_websocket_from_allowed_origin_is_accepted() -> None:
    with _client().websocket_connect("/chat/ws/socket.io/", headers={"Origin": ORIGIN}) as ws:
        assert ws.receive_text() == "hi"


def test_websocket_from_other_origin_is_closed_before_accept() -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with _client().websocket_connect(
            "/chat/ws/socket.io/", headers={"Origin": "http://evil.example"}
        ):
            pass  # pragma: no cover - the handshake is refused
    assert refused.value.code == 1008


def test_https_adds_hsts_and_secure_cookies() -> None:
    response = _client(https=True).get("/chat/api")
    assert response.headers["strict-transport-security"].startswith("max-age=")
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_plain_http_leaves_cookies_alone() -> None:
    assert "Secure" not in _client().get("/chat/api").headers["set-cookie"]


def test_websocket_without_origin_is_left_to_the_session_check() -> None:
    # Browsers always send Origin on a WebSocket handshake; a client without one is not a
    # browser (and could forge any header). Chainlit still requires its signed session cookie.
    with _client().websocket_connect("/chat/ws/socket.io/") as ws:
        assert ws.receive_text() == "hi"
