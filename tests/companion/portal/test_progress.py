"""A patient's progress page: scores as charts, outcomes in words, shared results only, audited reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from companion import audit
from companion.models import Assignment, CareTeam
from companion.portal.progress import load_progress
from companion.runtime import Runtime
from flows.nodes.share_summary import SHARE_STEP
from safety.types import Assessment, Category, Tier
from tests.companion.portal.conftest import People, post_form, sign_in

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date.today()


def check_in(runtime: Runtime, patient_id: str, mood: int, run: str) -> None:
    runtime.store.record_answer(patient_id=patient_id, run_id=f"check-in-{run}", module_id="check-in",
                                module_version="1.0.0", step_id="mood", value=mood, completed=True)


def questionnaire(runtime: Runtime, patient_id: str, qid: str, total: int, on: date, band: str = "mild") -> None:
    items = 9 if qid == "phq9" else 7
    runtime.store.record_answer(
        patient_id=patient_id, run_id=f"q-{on.isoformat()}-{qid}", module_id=qid, module_version="1.0.0",
        step_id="result", completed=True,
        value={"answers": {f"{qid}_{n}": 0 for n in range(1, items + 1)}, "total": total, "band": band,
               "date": on.isoformat()},
    )


def module_run(runtime: Runtime, patient_id: str, module_id: str, run: str, *, summary: str | None,
               shared: bool | None = None, answer: Any = "my private answer") -> None:
    module = runtime.modules.get(module_id)
    step = next(s for s in module.steps if s.expects_answer)
    runtime.store.record_answer(patient_id=patient_id, run_id=run, module_id=module_id,
                                module_version=module.version, step_id=step.id, value=answer)
    if summary is not None:
        runtime.store.record_answer(patient_id=patient_id, run_id=run, module_id=module_id,
                                    module_version=module.version, step_id=module.steps[-1].id,
                                    value=summary, completed=True)
    if shared is not None:
        runtime.store.record_answer(patient_id=patient_id, run_id=run, module_id=module_id,
                                    module_version=module.version, step_id=SHARE_STEP, value=shared,
                                    completed=True)


def escalate(runtime: Runtime, patient_id: str, escalation_id: str, tier: Tier, *, safety_mode: bool = True) -> None:
    assessment = Assessment(tier=tier, categories=(Category.ACTIVE_IDEATION,), detector_version="test")
    runtime.store.record_escalation(patient_id=patient_id, escalation_id=escalation_id, assessment=assessment,
                                    excerpt=["SECRET EXCERPT TEXT"], before_consent=False, safety_mode=safety_mode)


def test_scores_are_charts_with_a_point_per_score_and_outcomes_in_words(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    start = TODAY - timedelta(days=60)
    for offset, phq, gad in ((0, 18, 12), (30, 13, 9), (58, 7, 5)):
        questionnaire(runtime, people.patient, "phq9", phq, start + timedelta(days=offset))
        questionnaire(runtime, people.patient, "gad7", gad, start + timedelta(days=offset))
    check_in(runtime, people.patient, 3, "a")
    check_in(runtime, people.patient, 6, "b")
    sign_in(client, "dr.ada")
    page = client.get(f"/portal/patients/{people.patient}")
    assert page.status_code == 200
    charts = {}
    for chunk in page.text.split("<svg")[1:]:
        svg = ET.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>")
        charts[svg.find(f"{SVG}title").text] = svg  # type: ignore[union-attr]
    phq9 = charts["Chart of PHQ-9 total over time"]
    assert phq9.get("role") == "img"
    assert [c.get("data-value") for c in phq9.iter(f"{SVG}circle")] == ["18", "13", "7"]
    assert "Case threshold (10)" in [t.text for t in phq9.iter(f"{SVG}text")]
    assert [c.get("data-value") for c in charts["Chart of GAD-7 total over time"].iter(f"{SVG}circle")] == ["12", "9", "5"]
    assert [c.get("data-value") for c in charts["Chart of Mood (0 to 10) over time"].iter(f"{SVG}circle")] == ["3", "6"]
    assert "PHQ-9: reliable improvement from 18 to 7" in page.text
    assert "GAD-7: reliable improvement from 12 to 5" in page.text
    assert "Recovery: recovered between" in page.text and "(reliable recovery)" in page.text
    assert "<details" in page.text  # the text alternative, secondary to the picture


def test_only_shared_results_are_shown_and_private_answers_never_are(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    module_run(runtime, people.patient, "thought-record", "run-shared", summary="SHARED SUMMARY <i>x</i>", shared=True)
    module_run(runtime, people.patient, "worry-time", "run-private", summary="PRIVATE SUMMARY", shared=False)
    module_run(runtime, people.patient, "problem-solving", "run-undecided", summary="UNDECIDED SUMMARY")
    module_run(runtime, people.patient, "sleep", "run-open", summary=None)
    sign_in(client, "dr.ada")
    page = client.get(f"/portal/patients/{people.patient}").text
    assert "SHARED SUMMARY &lt;i&gt;x&lt;/i&gt;" in page
    for private in ("PRIVATE SUMMARY", "UNDECIDED SUMMARY", "my private answer"):
        assert private not in page
    assert "Better sleep habits" in page and "In progress" in page
    shared_reads = [e for e in audit.entries(runtime.engine, patient_id=people.patient) if e.action == "read.shared_result"]
    assert [e.target for e in shared_reads] == ["run-shared"]


def test_safety_plan_is_shown_only_when_shared(client: TestClient, people: People, runtime: Runtime) -> None:
    module_run(runtime, people.patient, "safety-plan", "plan-1", summary="MY PLAN: call my sister", shared=False)
    sign_in(client, "dr.ada")
    page = client.get(f"/portal/patients/{people.patient}").text
    assert "MY PLAN" not in page and "has made a safety plan and kept it private" in page
    module_run(runtime, people.patient, "safety-plan", "plan-2", summary="MY NEWER PLAN: call my sister", shared=True)
    page = client.get(f"/portal/patients/{people.patient}").text
    assert "MY NEWER PLAN: call my sister" in page and "kept it private" not in page


def test_every_decryption_is_audited_before_it_happens(people: People, runtime: Runtime) -> None:
    questionnaire(runtime, people.patient, "phq9", 12, TODAY)
    runtime.store.assign_module(patient_id=people.patient, module_id="sleep", brief="goals")
    module_run(runtime, people.patient, "sleep", "run-s", summary="shared", shared=True)
    needs = {"answer": "read.progress", "brief": "read.assignments", "care_team_reference": "read.progress"}
    order: list[str] = []
    real_decrypt = runtime.crypto.decrypt_text

    def spy(owner_id: str, blob: bytes, *, purpose: str) -> str:
        actions = {e.action for e in audit.entries(runtime.engine, patient_id=people.patient)}
        order.append(f"{purpose}:{'audited' if needs[purpose] in actions else 'NOT AUDITED'}")
        return real_decrypt(owner_id, blob, purpose=purpose)

    runtime.crypto.decrypt_text = spy  # type: ignore[method-assign]
    try:
        load_progress(runtime, patient_id=people.patient, therapist_id=people.therapist, today=TODAY)
    finally:
        runtime.crypto.decrypt_text = real_decrypt  # type: ignore[method-assign]
    assert {"answer:audited", "brief:audited"} <= set(order) and all(o.endswith(":audited") for o in order), order
    actions = {(e.actor, e.action) for e in audit.entries(runtime.engine, patient_id=people.patient)}
    assert {(people.therapist, "read.progress"), (people.therapist, "read.assignments"),
            (people.therapist, "read.shared_result")} <= actions


def test_assigning_validates_stores_encrypted_and_removes(client: TestClient, people: People, runtime: Runtime) -> None:
    sign_in(client, "dr.ada")
    page = f"/portal/patients/{people.patient}"
    due = (TODAY + timedelta(days=7)).isoformat()
    brief = 'Goal: sleep <script>alert("x")</script>\nAvoid: mornings'
    ok = post_form(client, f"{page}/assignments", {"module_id": "sleep", "due_date": due, "brief": brief}, page=page)
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"{page}?notice=assigned")
    shown = client.get(ok.headers["location"]).text
    assert "The module was assigned" in shown and "Better sleep habits" in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown and '<script>alert("x")' not in shown
    with Session(runtime.engine) as db:
        row = db.get(Assignment, 1)
        assert row is not None and row.brief is not None and b"Goal" not in row.brief
        assert row.assigned_by == people.therapist and row.due_date == TODAY + timedelta(days=7)

    for data, message in (
        ({"module_id": "no-such-module"}, "not in the library"),
        ({"module_id": "sleep", "due_date": "yesterday"}, "not a date"),
        ({"module_id": "sleep", "due_date": (TODAY - timedelta(days=1)).isoformat()}, "in the past"),
        ({"module_id": "worry-time", "brief": "b" * 2001}, "the limit is 2000"),
        ({"module_id": "worry-time", "brief": "nul\x00here"}, "control characters"),
    ):
        refused = post_form(client, f"{page}/assignments", data, page=page)
        assert refused.status_code == 400 and message in refused.text, (data, refused.text[-500:])
    kept = post_form(client, f"{page}/assignments", {"module_id": "worry-time", "brief": "b" * 2001}, page=page)
    assert "b" * 2001 in kept.text  # nothing typed is lost
    assert [a["module_id"] for a in runtime.store.assignments(people.patient)] == ["sleep"]

    removed = post_form(client, f"{page}/assignments/sleep/remove", page=page)
    assert removed.status_code == 303 and "notice=removed" in removed.headers["location"]
    assert runtime.store.assignments(people.patient) == []
    again = post_form(client, f"{page}/assignments/sleep/remove", page=page)
    assert "notice=not_assigned" in again.headers["location"]


def test_overdue_assignments_are_marked_in_words(client: TestClient, people: People, runtime: Runtime) -> None:
    runtime.store.assign_module(patient_id=people.patient, module_id="sleep", due_date=TODAY - timedelta(days=2))
    sign_in(client, "dr.ada")
    assert '<span class="badge overdue">Overdue</span>' in client.get(f"/portal/patients/{people.patient}").text


def test_pre_session_summary_covers_the_time_since_the_last_session(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    questionnaire(runtime, people.patient, "phq9", 16, TODAY - timedelta(days=30))
    questionnaire(runtime, people.patient, "phq9", 11, TODAY)
    check_in(runtime, people.patient, 2, "1")
    check_in(runtime, people.patient, 5, "2")
    module_run(runtime, people.patient, "cbt-model", "run-1", summary="s")
    escalate(runtime, people.patient, "esc-summary", Tier.ACTIVE)
    sign_in(client, "dr.ada")
    page = client.get(f"/portal/patients/{people.patient}").text
    assert "In the last 14 days" in page
    assert "2 mood check-ins, average 3.5 out of 10, from 2 to 5 (better)" in page
    assert "Modules completed: The CBT model." in page
    assert "PHQ-9: from 16 to 11." in page
    assert "1 risk event (highest tier 3)" in page
    assert "SECRET EXCERPT TEXT" not in page

    held = post_form(client, f"/portal/patients/{people.patient}/session", page=f"/portal/patients/{people.patient}")
    assert held.status_code == 303 and "notice=session" in held.headers["location"]
    with Session(runtime.engine) as db:
        assert db.get(CareTeam, (people.patient, people.therapist)).last_session_on == TODAY  # type: ignore[union-attr]
    page = client.get(held.headers["location"]).text
    assert f"Since the last session on {TODAY.isoformat()}" in page


def test_another_therapists_patient_is_refused(client: TestClient, people: People, runtime: Runtime) -> None:
    sign_in(client, "dr.ada")
    assert client.get(f"/portal/patients/{people.other_patient}").status_code == 403
    assert not [e for e in audit.entries(runtime.engine, patient_id=people.other_patient) if e.actor == people.therapist]


def test_binary_and_huge_form_input_is_refused_with_a_message(client: TestClient, people: People,
                                                              runtime: Runtime) -> None:
    sign_in(client, "dr.ada")
    page = f"/portal/patients/{people.patient}"
    token = client.get(page).text.split('name="csrf_token" value="')[1].split('"')[0]
    body = b"csrf_token=" + token.encode() + b"&module_id=sleep&brief=%FF%FE%00%01binary"
    binary = client.post(f"{page}/assignments", content=body,
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert binary.status_code in (303, 400), binary.text[-300:]
    if binary.status_code == 303:
        assert "\x00" not in runtime.store.assignments(people.patient)[0]["brief"]
    huge = post_form(client, f"{page}/assignments", {"module_id": "worry-time", "brief": "z" * 200_000}, page=page)
    assert huge.status_code == 400 and "200000 characters long" in huge.text
    assert "z" * 20_000 in huge.text and "z" * 20_001 not in huge.text
