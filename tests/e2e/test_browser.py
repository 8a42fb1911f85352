"""Headless Chromium at phone size against the real server: sign in, consent, a step, a crisis.

Uses Debian's `/usr/bin/chromium` (never `playwright install`). Without it the test is skipped
with a reason, unless `COMPANION_REQUIRE_BROWSER=1` (CI) makes a missing browser a failure.
Screenshots go to the test's temp directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.e2e_server import Patient, RunningServer

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
CRISIS_MESSAGE = "I have pills saved up and I'm going to take them tonight"
HTML_MESSAGE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> at work'
TIMEOUT_MS = 30_000


@pytest.fixture
def page(server: RunningServer, chromium: Any, tmp_path: Path) -> Iterator[object]:
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        page.screenshot(path=str(tmp_path / "last.png"), full_page=True)
        context.close()


def test_phone_sign_in_consent_step_and_crisis(
    server: RunningServer, patient: Patient, page: object, tmp_path: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )

    response = page.goto(f"{server.base_url}/")
    assert response is not None and response.ok
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self' 'sha256-" in csp and "'unsafe-inline'" not in csp.split(";")[1]
    assert response.headers.get("x-frame-options") == "DENY"

    # sign in: the field is labelled Username, not Email address
    expect(page.get_by_text("Username", exact=True)).to_be_visible()
    page.fill("#email", patient.username)
    page.fill("#password", patient.password)
    page.get_by_role("button", name="Sign in").click()

    # the help link is always there; the consent gate is the first thing shown
    expect(page.locator('#header a[href="/help"]')).to_be_visible()
    page.get_by_role("button", name="I agree").click()
    page.screenshot(path=str(tmp_path / "1-consented.png"))

    # check-in, then the thought record from the menu, then its first step
    page.get_by_role("button", name="Skip").last.click()
    page.get_by_role("button", name="Thought record").last.click()
    next_button = page.get_by_role("button", name="Next")
    next_button.last.click()
    send = page.locator("#chat-submit")
    box = send.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box

    # patient HTML shows as text and never runs
    page.fill("#chat-input", HTML_MESSAGE)
    send.click()
    expect(page.get_by_text("window.__pwned=2").first).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    page.screenshot(path=str(tmp_path / "2-step.png"))

    # the crisis path: crisis reply with the US lifeline number
    page.fill("#chat-input", CRISIS_MESSAGE)
    send.click()
    expect(page.get_by_text("988").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "3-crisis.png"), full_page=True)

    # every request went to this server only, and the CSP blocked nothing the page needs
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, sorted(hosts)
    assert not violations, violations


def test_help_page_works_on_a_phone_without_signing_in(server: RunningServer, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    response = page.goto(f"{server.base_url}/help")
    assert response is not None and response.ok
    assert "content-security-policy" in response.headers
    expect(page.locator('a[href="tel:988"]').first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the help page scrolls sideways on a phone ({width}px)"
