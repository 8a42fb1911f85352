"""Tests for companion.web.csp: inline-script hashes, the policy text, third-party stripping."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from pathlib import Path

from companion.web.csp import build_csp, inline_script_hashes, strip_third_party, websocket_origins


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _stock_chainlit_page() -> str:
    spec = importlib.util.find_spec("chainlit")
    assert spec is not None and spec.origin is not None
    return (Path(spec.origin).parent / "frontend" / "dist" / "index.html").read_text("utf-8")


def test_hashes_cover_exact_inline_script_text() -> None:
    html = "<script>\n  a = 1;\n</script><script type=module src='/x.js'></script><SCRIPT>b()</SCRIPT>"
    assert inline_script_hashes(html) == [_sha("\n  a = 1;\n"), _sha("b()")]


def test_identical_inline_scripts_are_hashed_once() -> None:
    assert inline_script_hashes("<script>x</script><script>x</script>") == [_sha("x")]


def test_policy_has_no_unsafe_inline_for_scripts() -> None:
    policy = build_csp([_sha("x")], websocket_origins=["wss://chat.example"])
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == f"'self' {_sha('x')}"
    assert "unsafe" not in directives["script-src"]
    assert directives["connect-src"] == "'self' wss://chat.example"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["default-src"] == "'self'"


def test_websocket_origins_follow_the_scheme() -> None:
    assert websocket_origins(["https://a.example", "http://127.0.0.1:8000", "https://a.example"]) == [
        "wss://a.example",
        "ws://127.0.0.1:8000",
    ]


def test_stock_page_loses_every_cdn_link() -> None:
    page = _stock_chainlit_page()
    assert "cdn.jsdelivr.net" in page and "fonts.googleapis.com" in page  # the stock page
    stripped = strip_third_party(page)
    assert "https://" not in stripped
    assert "//fonts." not in stripped
    assert '<script type="module" crossorigin src="/assets/' in stripped  # own bundle kept
    assert 'href="/assets/' in stripped


def test_remote_meta_urls_are_removed_and_local_ones_kept() -> None:
    html = (
        '<meta property="og:image" content="https://cdn.example/x.png">'
        '<meta property="og:title" content="Companion">'
        '<link rel="icon" href="/chat/favicon" />'
    )
    assert strip_third_party(html) == (
        '<meta property="og:title" content="Companion"><link rel="icon" href="/chat/favicon" />'
    )
