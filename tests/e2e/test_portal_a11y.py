"""Accessibility of every portal page in headless Chromium, against the real server, with axe-core.

Each persona signs in through the real form and visits its pages at a phone viewport
(360x740) and a desktop one; axe-core (bundled by `axe_playwright_python`, never a CDN) runs
the WCAG 2.0/2.1/2.2 A and AA rules on each page and the test fails on any violation, naming
the page, the rule, its impact and the elements. Every request must stay on 127.0.0.1.

The data behind the pages is made the way it is in use: accounts with `companion users add`,
a patient who joined through a therapist's invitation, an escalation raised by a high-risk
message sent over the chat's socket, a second factor switched on from the account page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest

from tests.e2e.e2e_server import (
    Account,
    RunningServer,
    chat_as,
    join,
    new_invitation,
    portal_sign_in,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CRISIS_MESSAGE = "I have pills saved up and I'm going to take them tonight"
TIMEOUT_MS = 30_000


@dataclass
class PortalWorld:
    server: RunningServer
    therapist: Account
    reviewer: Account
    admin: Account
    with_second_factor: Account
    patient: Account  # joined through the therapist's invitation
    patient_page: str
    escalation_page: str
    join_page: str  # an open invitation nobody has used
    used_join_page: str  # the invitation the patient used
    totp_secret: str = field(repr=False, default="")


@pytest.fixture(scope="module")
def world(server: RunningServer, chromium: Any) -> Iterator[PortalWorld]:
    base = server.base_url
    therapist, reviewer, admin = (server.add_account(r) for r in ("therapist", "reviewer", "admin"))
    with_factor = server.add_account("reviewer", prefix="twostep")
    patient = Account(f"joined-{therapist.username[-6:]}", "a long patient password", "patient")
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        portal_sign_in(page, base, therapist)
        link = new_invitation(page, base, "P.A.")
        unused = new_invitation(page, base, "Q.B.")
        with chromium.new_context() as patient_context:
            join(patient_context.new_page(), link, patient.username, patient.password)
        page.goto(f"{base}/portal/patients")
        patient_page = str(page.locator('main a[href^="/portal/patients/"]').first.get_attribute("href"))
        page.goto(f"{base}{patient_page}")
        page.select_option("#module_id", "thought-record")
        page.get_by_role("button", name="Assign module").click()
        page.get_by_role("heading", name="Assignments").wait_for()

        chat_as(server, patient.username, patient.password, [CRISIS_MESSAGE])
        context.clear_cookies()
        portal_sign_in(page, base, reviewer)
        escalation_page = str(page.locator('main a[href^="/portal/escalations/"]').first.get_attribute("href"))

        context.clear_cookies()
        portal_sign_in(page, base, with_factor)
        page.goto(f"{base}/portal/account")
        secret = str(page.locator('input[name="secret"]').input_value())
        page.fill("#enable_code", pyotp.TOTP(secret).now())
        page.locator('form[action$="/account/second-factor"] button[type="submit"]').click()
        page.wait_for_load_state()
        assert "second_factor_on" in page.url, page.url
    finally:
        context.close()
    yield PortalWorld(server, therapist, reviewer, admin, with_factor, patient, patient_page, escalation_page,
                      urlsplit(unused).path, urlsplit(link).path, secret)


@dataclass(frozen=True)
class Visit:
    path: str  # "" means the page the sign-in itself landed on
    status: int
    heading: str  # text the page's h1 contains, so axe checks the page we meant


def pages_for(persona: str, world: PortalWorld) -> list[Visit]:
    return {
        "anonymous": [
            Visit("/portal/login", 200, "Sign in"),
            Visit("/portal/login?ended=idle", 200, "Sign in"),
            Visit(world.join_page, 200, "Create your account"),
            Visit(world.used_join_page, 410, ""),
        ],
        "therapist": [
            Visit("/portal/patients", 200, ""),
            Visit(world.patient_page, 200, ""),
            Visit("/portal/invites", 200, "Invitations"),
            Visit("/portal/account", 200, "Your account"),
            Visit("/portal/users", 403, "No access"),
        ],
        "reviewer": [
            Visit("/portal/escalations", 200, ""),
            Visit(world.escalation_page, 200, "escalation"),
            Visit("/portal/account", 200, "Your account"),
        ],
        "admin": [
            Visit("/portal/users", 200, ""),
            Visit("/portal/audit", 200, ""),
            Visit("/portal/account", 200, "Your account"),
        ],
        "patient": [Visit("", 403, "This portal is for care teams")],
        "second factor": [Visit("", 200, "Enter your code")],
    }[persona]


def account_of(persona: str, world: PortalWorld) -> Account | None:
    return {"therapist": world.therapist, "reviewer": world.reviewer, "admin": world.admin,
            "patient": world.patient, "second factor": world.with_second_factor}.get(persona)


def axe_violations(page: Any, label: str) -> list[str]:
    """Run axe-core on the page; return one line per violation (rule, impact, elements)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options).response
    assert results.get("testEngine", {}).get("name") == "axe-core", "axe-core did not run"
    assert results["passes"] or results["incomplete"] or results["inapplicable"], "axe-core checked no rules"
    return [
        f"{label}: {v['id']} ({v['impact']}) {[n['target'] for n in v['nodes']]} - {v['help']}"
        for v in results["violations"]
    ]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("persona", ["anonymous", "therapist", "reviewer", "admin", "patient", "second factor"])
def test_portal_pages_have_no_wcag_violations(
    world: PortalWorld, chromium: Any, persona: str, viewport: str, tmp_path: Path,
) -> None:
    base = world.server.base_url
    context = chromium.new_context(**VIEWPORTS[viewport])
    context.set_default_timeout(TIMEOUT_MS)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    violations: list[str] = []
    visited: list[str] = []
    try:
        account = account_of(persona, world)
        landed = portal_sign_in(page, base, account) if account is not None else None
        for visit in pages_for(persona, world):
            response = landed if not visit.path else page.goto(f"{base}{visit.path}")
            label = f"{visit.path or urlsplit(page.url).path} as {persona} ({viewport})"
            assert response is not None and response.status == visit.status, (
                f"{label}: HTTP {response.status if response else None}, expected {visit.status}")
            heading = page.locator("h1").first.inner_text()
            assert visit.heading.lower() in heading.lower(), f"{label}: h1 is {heading!r}"
            violations += axe_violations(page, label)
            visited.append(label)
            page.screenshot(path=str(tmp_path / f"{len(visited)}.png"), full_page=True)
    finally:
        context.close()
    assert visited
    assert not violations, "WCAG violations:\n" + "\n".join(violations)
    hosts = {urlsplit(url).hostname for url in requested}
    assert hosts == {"127.0.0.1"}, sorted(hosts)


def test_pages_shown_after_a_form_have_no_wcag_violations(world: PortalWorld, chromium: Any) -> None:
    """Invitation created, account ready (patient), account created (admin): reached only by a POST."""
    base = world.server.base_url
    violations: list[str] = []
    with chromium.new_context(**VIEWPORTS["phone"]) as context:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        portal_sign_in(page, base, world.therapist)
        link = new_invitation(page, base, "R.C.")
        assert "Invitation created" in page.locator("h1").inner_text()
        violations += axe_violations(page, "invitation created")
        context.clear_cookies()
        join(page, link, f"later-{world.therapist.username[-6:]}", "another long patient password")
        violations += axe_violations(page, "account ready")
        portal_sign_in(page, base, world.admin)
        page.goto(f"{base}/portal/users")
        page.fill("#new_username", f"staff-{world.admin.username[-6:]}")
        page.select_option("#new_role", "reviewer")
        page.get_by_role("button", name="Create account").click()
        assert "Account created" in page.locator("h1").inner_text()
        violations += axe_violations(page, "account created")
    assert not violations, "WCAG violations:\n" + "\n".join(violations)
