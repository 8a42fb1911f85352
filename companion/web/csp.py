"""Build the Content-Security-Policy for the page Chainlit serves, and keep that page first-party.

The Chainlit page carries two small inline scripts (a `global` shim and the theme variables)
whose text depends on configuration, so their SHA-256 hashes are computed from the page as it
is actually rendered, once, at start-up. Scripts then run only from our own origin or with one
of those hashes; there is no `'unsafe-inline'` for scripts. Styles need `'unsafe-inline'`
because the React UI sets inline styles.

The stock page also links Google Fonts and a KaTeX stylesheet on a CDN. `strip_third_party`
removes every `<link>` to another host (and meta tags that name one), so a patient's browser
talks to nothing but this server.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

__all__ = [
    "build_csp",
    "inline_script_hashes",
    "strip_third_party",
    "websocket_origins",
]

# `<script>` elements without a `src` attribute, and their text.
_INLINE_SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
# A <link> (attributes may span lines) whose href points at another host.
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"'](?:https?:)?//[^\"']*[\"'][^>]*>\s*", re.I)
# A <meta> whose content is an absolute URL on another host (og:image, og:url).
_REMOTE_META = re.compile(
    r"<meta\b[^>]*\bcontent\s*=\s*[\"'](?:https?:)?//[^\"']*[\"'][^>]*>\s*", re.I
)


def strip_third_party(html: str) -> str:
    """Return `html` without links or meta tags that point at another host.

    Args:
        html: the page as Chainlit renders it.

    Returns:
        The same page with remote stylesheets, preconnects and remote meta URLs removed.
    """
    html = _REMOTE_LINK.sub("", html)
    return _REMOTE_META.sub("", html)


def inline_script_hashes(html: str) -> list[str]:
    """Return the CSP source expressions (`'sha256-…'`) of every inline script in `html`.

    The hash covers the exact text between `<script>` and `</script>`, as browsers compute it.
    Scripts with a `src` attribute are skipped: `'self'` covers them.
    """
    hashes: list[str] = []
    for match in _INLINE_SCRIPT.finditer(html):
        if re.search(r"\bsrc\s*=", match["attrs"], re.I):
            continue
        digest = hashlib.sha256(match["body"].encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return list(dict.fromkeys(hashes))


def build_csp(script_hashes: Iterable[str] = (), *, websocket_origins: Iterable[str] = ()) -> str:
    """Return the Content-Security-Policy header value.

    Args:
        script_hashes: `'sha256-…'` expressions of the inline scripts the page may run.
        websocket_origins: `ws://` / `wss://` origins to allow explicitly in `connect-src`
            (older Safari does not treat `'self'` as covering WebSockets).
    """
    script_src = " ".join(["'self'", *script_hashes])
    connect_src = " ".join(["'self'", *websocket_origins])
    directives = [
        "default-src 'self'",
        f"script-src {script_src}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src {connect_src}",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def websocket_origins(origins: Iterable[str]) -> list[str]:
    """Map http(s) origins to the ws(s) origins a socket connection to them uses."""
    mapped: list[str] = []
    for origin in origins:
        if origin.startswith("https://"):
            mapped.append("wss://" + origin.removeprefix("https://"))
        elif origin.startswith("http://"):
            mapped.append("ws://" + origin.removeprefix("http://"))
    return list(dict.fromkeys(mapped))
