"""The portal's main flows in headless Chromium against the real server.

(a) A therapist invites a patient; the patient joins through the link, the therapist assigns
a module on the patient's page, and the patient, signed in to the chat, consents and finds
that module in the menu marked as suggested by their therapist.
(b) A patient's high-risk message, sent over the chat's real socket, raises an escalation; a
safety reviewer works it from open to resolved in the portal (acknowledge, a contact attempt,
resolve, clear safety mode, label), and the page shows the new status after each step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
CRISIS_MESSAGE = "I have pills saved up and I'm going to take them tonight"
TIMEOUT_MS = 30_000


@pytest.fixture
def context(chromium: Any, tmp_path: Path) -> Any:
    context = chromium.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    for number, page in enumerate(context.pages):
        page.screenshot(path=str(tmp_path / f"last-{number}.png"), full_page=True)
    context.close()


def test_invited_patient_finds_the_assigned_module_in_the_chat(
    server: RunningServer, chromium: Any, context: Any, tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    base = server.base_url
    therapist = server.add_account("therapist")
    patient = Account(f"joiner-{therapist.username[-6:]}", "my own long password", "patient")
    portal = context.new_page()
    portal_sign_in(portal, base, therapist)
    reference = f"J.D. {therapist.username[-6:]}"  # what the therapist calls the patient in the portal
    link = new_invitation(portal, base, reference)

    with chromium.new_context(**PHONE) as patient_context:
        patient_context.set_default_timeout(TIMEOUT_MS)
        phone = patient_context.new_page()
        join(phone, link, patient.username, patient.password)

        # the patient is now on the therapist's caseload; the therapist assigns a module
        portal.goto(f"{base}/portal/patients")
        expect(portal.locator("main")).to_contain_text(patient.username)
        row = portal.locator("main h3 a", has_text=reference)
        expect(row).to_have_count(1)
        row.click()
        portal.select_option("#module_id", "worry-time")
        portal.fill("#brief", "Keep it short; evenings work best.")
        portal.get_by_role("button", name="Assign module").click()
        assignments = portal.locator("#assignments")
        expect(assignments.get_by_role("rowheader", name="Worry time")).to_be_visible()
        portal.screenshot(path=str(tmp_path / "1-assigned.png"), full_page=True)

        # the invitation link works once
        used = phone.goto(link)
        assert used is not None and used.status >= 400, used.status if used else None
        expect(phone.locator("#password_again")).to_have_count(0)

        # the patient signs in to the chat, consents, and sees the assignment in the menu
        phone.goto(f"{base}/chat/")
        phone.fill("#email", patient.username)
        phone.fill("#password", patient.password)
        phone.get_by_role("button", name="Sign in").click()
        phone.get_by_role("button", name="I agree").click()
        phone.get_by_role("button", name="Skip").last.click()
        expect(phone.get_by_text("suggested by your therapist").first).to_be_visible()
        expect(phone.get_by_text("Worry time").first).to_be_visible()
        expect(phone.get_by_role("button", name="Worry time").last).to_be_visible()
        phone.screenshot(path=str(tmp_path / "2-menu.png"), full_page=True)


def _status(page: Any) -> str:
    return str(page.locator("dl.facts .status").first.inner_text()).strip()


def test_reviewer_works_an_escalation_from_open_to_resolved(
    server: RunningServer, context: Any, tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    base = server.base_url
    reviewer = server.add_account("reviewer")
    patient = server.add_account("patient")
    page = context.new_page()
    portal_sign_in(page, base, reviewer)
    links = page.locator('main a[href^="/portal/escalations/"]')
    before = {links.nth(i).get_attribute("href") for i in range(links.count())}

    replies = chat_as(server, patient.username, patient.password, [CRISIS_MESSAGE])
    assert any("988" in str(m.get("output")) for m in replies[0]), "the crisis reply did not come"

    page.goto(f"{base}/portal/escalations")
    new = [h for h in (links.nth(i).get_attribute("href") for i in range(links.count())) if h not in before]
    assert len(new) == 1, f"expected one new escalation in the queue, got {new}"
    page.goto(f"{base}{new[0]}")
    expect(page.locator("dl.facts")).to_contain_text(patient.username)
    assert _status(page) == "Open"
    expect(page.locator("dl.facts .badge.warn")).to_have_text("On")  # safety mode

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".notice")).to_contain_text("Acknowledged")
    assert _status(page) == "Acknowledged"

    page.check("#outcome-reached")
    page.fill("#contact-note", "Spoke on the phone; they are with their sister tonight.")
    page.get_by_role("button", name="Record attempt").click()
    expect(page.locator(".notice")).to_contain_text("Contact attempt recorded")
    assert _status(page) == "Contacted"

    page.fill("#resolve-note", "Safety plan reviewed together; follow-up booked.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".notice")).to_contain_text("Resolved")
    assert _status(page) == "Resolved"
    expect(page.locator("dl.facts .badge.warn")).to_have_text("On")  # resolving does not clear it

    page.check("#confirm-clear")
    page.get_by_role("button", name="Clear safety mode").click()
    expect(page.locator(".notice")).to_contain_text("Safety mode cleared")
    expect(page.locator("dl.facts .badge.ok")).to_have_text("Cleared")
    assert _status(page) == "Resolved"

    page.check("#verdict-true")
    page.select_option("#label-tier", "4")
    page.get_by_role("button", name="Save label").click()
    expect(page.locator(".notice")).to_contain_text("Label saved")
    page.screenshot(path=str(tmp_path / "resolved.png"), full_page=True)

    # the resolved escalation leaves the active queue
    page.goto(f"{base}/portal/escalations")
    assert page.locator(f'main a[href="{new[0]}"]').count() == 0
