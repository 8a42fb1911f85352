"""The caseload: own patients only, urgent risk events first, references decrypted (audited) and escaped."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from companion import audit
from companion.accounts import create_user
from companion.db import session_scope
from companion.models import CareTeam, Escalation, EscalationStatus, Role
from companion.portal.invitations import REFERENCE_PURPOSE
from companion.runtime import Runtime
from safety.types import Tier
from tests.companion.portal.conftest import PASSWORD, People, sign_in
from tests.companion.portal.test_progress import escalate, module_run, questionnaire


def add_patient(runtime: Runtime, therapist_id: str, username: str, reference: str = "") -> str:
    with session_scope(runtime.engine) as db:
        patient_id = create_user(db, username=username, role=Role.PATIENT, password=PASSWORD).id
    runtime.store.assign_therapist(patient_id=patient_id, therapist_id=therapist_id)
    if reference:
        blob = runtime.crypto.encrypt(patient_id, reference, purpose=REFERENCE_PURPOSE)
        with session_scope(runtime.engine) as db:
            team = db.get(CareTeam, (patient_id, therapist_id))
            assert team is not None
            team.reference = blob
            db.add(team)
    return patient_id


def test_caseload_shows_only_my_patients(client: TestClient, people: People, runtime: Runtime) -> None:
    add_patient(runtime, people.therapist, "pat.three", "C.D.")
    sign_in(client, "dr.ada")
    page = client.get("/portal/patients")
    assert page.status_code == 200
    assert "pat.one" in page.text and "pat.three" in page.text and "C.D." in page.text
    assert "pat.two" not in page.text and people.other_patient not in page.text
    assert page.text.count("<h1") == 1


def test_urgent_events_come_first_without_excerpts(client: TestClient, people: People, runtime: Runtime) -> None:
    calm = add_patient(runtime, people.therapist, "pat.calm", "CALM")
    risky = add_patient(runtime, people.therapist, "pat.risky", "RISKY")
    module_run(runtime, calm, "sleep", "run-calm", summary=None)  # the most recently active
    escalate(runtime, risky, "esc-urgent", Tier.URGENT)
    escalate(runtime, people.other_patient, "esc-not-mine", Tier.EMERGENCY)
    sign_in(client, "dr.ada")
    page = client.get("/portal/patients").text
    urgent_section = page.split('id="urgent-heading"')[1].split("</section>")[0]
    assert "RISKY" in urgent_section and "Urgent: tier 4" in urgent_section and "status: open" in urgent_section
    assert "active ideation" in urgent_section and "raised <time datetime=" in urgent_section
    assert "CALM" not in urgent_section and "pat.two" not in page
    assert "SECRET EXCERPT TEXT" not in page
    cards = page.split('id="patients-heading"')[1]
    assert cards.index("RISKY") < cards.index("CALM")


def test_resolved_events_out_of_safety_mode_are_not_urgent(client: TestClient, people: People,
                                                          runtime: Runtime) -> None:
    escalate(runtime, people.patient, "esc-done", Tier.URGENT, safety_mode=False)
    with session_scope(runtime.engine) as db:
        row = db.get(Escalation, "esc-done")
        assert row is not None
        row.status = EscalationStatus.RESOLVED
        db.add(row)
    sign_in(client, "dr.ada")
    assert 'id="urgent-heading"' not in client.get("/portal/patients").text
    # A lower tier still in safety mode is urgent until a reviewer clears it.
    escalate(runtime, people.patient, "esc-mode", Tier.UNCLEAR, safety_mode=True)
    assert 'id="urgent-heading"' in client.get("/portal/patients").text


def test_latest_scores_and_modules_are_listed(client: TestClient, people: People, runtime: Runtime) -> None:
    questionnaire(runtime, people.patient, "phq9", 15, date(2026, 1, 5), band="moderately_severe")
    questionnaire(runtime, people.patient, "phq9", 9, date(2026, 2, 5))
    questionnaire(runtime, people.patient, "gad7", 6, date(2026, 2, 5))
    module_run(runtime, people.patient, "cbt-model", "run-a", summary="done")
    module_run(runtime, people.patient, "sleep", "run-b", summary=None)
    sign_in(client, "dr.ada")
    page = client.get("/portal/patients").text
    assert "9 (mild, 2026-02-05)" in page and "6 (mild, 2026-02-05)" in page
    assert "<dt>In progress</dt><dd>Better sleep habits</dd>" in page
    assert "<dt>Completed</dt><dd>The CBT model</dd>" in page


def test_reading_the_caseload_is_audited_per_patient_and_references_are_escaped(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    patient = add_patient(runtime, people.therapist, "pat.html", '<img src=x onerror="alert(1)">')
    sign_in(client, "dr.ada")
    page = client.get("/portal/patients").text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page and "<img src=x" not in page
    for patient_id in (people.patient, patient):
        entries = audit.entries(runtime.engine, patient_id=patient_id)
        assert any(e.actor == people.therapist and e.action == "read.caseload" for e in entries)
    assert not audit.entries(runtime.engine, patient_id=people.other_patient)
    with Session(runtime.engine) as db:
        team = db.get(CareTeam, (patient, people.therapist))
        assert team is not None and team.reference is not None and b"onerror" not in team.reference


def test_other_roles_cannot_see_a_caseload(client: TestClient, people: People) -> None:
    sign_in(client, "rev.cy")
    assert client.get("/portal/patients").status_code == 403


def test_time_since_is_said_in_words() -> None:
    from datetime import datetime, timedelta

    from companion.portal.caseload import ago

    now = datetime(2026, 5, 1, 12, 0)
    assert ago(now, now) == "just now"
    assert ago(now - timedelta(minutes=1), now) == "1 minute ago"
    assert ago(now - timedelta(hours=5), now) == "5 hours ago"
    assert ago(now - timedelta(days=3, hours=2), now) == "3 days ago"
