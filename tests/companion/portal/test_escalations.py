"""The reviewer pages: queue, escalation page (decrypted on view, audited, escaped), actions, label export."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from companion import audit
from companion.models import (
    Escalation,
    EscalationAction,
    EscalationActionKind,
    EscalationStatus,
    ReviewerLabel,
    utcnow,
)
from companion.runtime import Runtime
from companion.safety_cli import _parse, screen_lines
from safety.types import Assessment, Category, Signal, Tier
from tests.companion.portal.conftest import People, csrf_from, post_form, sign_in

SCRIPT = "<script>alert('x')</script> I have the pills here"
EARLIER = "Nothing helps & I'm tired"


@pytest.fixture(autouse=True)
def _quiet_alerts(runtime: Runtime) -> None:
    runtime.store.alerts = None  # notifications have their own tests


def escalate(runtime: Runtime, patient: str, escalation_id: str = "esc-one", *, tier: Tier = Tier.URGENT,
             excerpt: tuple[str, ...] = (EARLIER, SCRIPT), minutes_ago: int = 0) -> str:
    assessment = Assessment.from_signals([
        Signal(source="rules", id="si.method.pills", tier=tier, category=Category.METHOD_PLAN),
        Signal(source="classifier", id="classifier.risk", tier=Tier.ACTIVE, category=Category.ACTIVE_IDEATION,
               detail="score 0.91"),
    ], version="rules-0.3.0+classifier-test")
    runtime.store.record_escalation(patient_id=patient, escalation_id=escalation_id, assessment=assessment,
                                    excerpt=list(excerpt), before_consent=False, safety_mode=True)
    if minutes_ago:
        with Session(runtime.engine) as db:
            row = db.get(Escalation, escalation_id)
            assert row is not None
            row.created_at = utcnow() - timedelta(minutes=minutes_ago)
            db.add(row)
            db.commit()
    return escalation_id


def page_of(client: TestClient, escalation_id: str) -> str:
    response = client.get(f"/portal/escalations/{escalation_id}")
    assert response.status_code == 200, response.text
    return response.text


def act(client: TestClient, escalation_id: str, action: str, data: dict[str, str | list[str]], *,
        page: str | None = None):  # type: ignore[no-untyped-def]
    """Post one of the escalation page's forms, with the CSRF token and `seen` value the page gave."""
    html = page or page_of(client, escalation_id)
    seen = re.search(r'name="seen" value="(\d+)"', html)
    assert seen
    return client.post(f"/portal/escalations/{escalation_id}/{action}",
                       data={"seen": seen[1], **data, "csrf_token": csrf_from(html)})


def actions(runtime: Runtime, escalation_id: str) -> list[EscalationAction]:
    with Session(runtime.engine) as db:
        query = select(EscalationAction).where(EscalationAction.escalation_id == escalation_id)
        return list(db.exec(query.order_by(col(EscalationAction.id))))


def stored(runtime: Runtime, escalation_id: str) -> Escalation:
    with Session(runtime.engine) as db:
        row = db.get(Escalation, escalation_id)
        assert row is not None
        return row


def test_queue_lists_escalations_urgent_first_with_overdue_marked_in_words(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    escalate(runtime, people.patient, "esc-late", tier=Tier.ACTIVE, minutes_ago=90)
    escalate(runtime, people.other_patient, "esc-urgent", tier=Tier.URGENT)
    sign_in(client, "rev.cy")
    page = client.get("/portal/escalations")
    assert page.status_code == 200
    assert page.text.index("/portal/escalations/esc-urgent") < page.text.index("/portal/escalations/esc-late")
    assert "1 overdue" in page.text and "Overdue by 30 minutes" in page.text
    assert "Method or plan" in page.text  # categories in words, not enum values
    assert page.text.count("<h1") == 1 and 'scope="col"' in page.text
    # no patient text in the queue
    assert "pills" not in page.text


def test_queue_filters_by_status_and_refuses_unknown_filters(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    escalate(runtime, people.patient, "esc-a")
    sign_in(client, "rev.cy")
    act(client, "esc-a", "resolve", {"note": "Spoke with the patient and their therapist."})
    assert "esc-a" not in client.get("/portal/escalations").text
    assert "esc-a" in client.get("/portal/escalations?status=resolved").text
    assert "esc-a" not in client.get("/portal/escalations?status=open").text
    assert "esc-a" in client.get("/portal/escalations?status=all").text
    unknown = client.get("/portal/escalations?status=<b>nope</b>")
    assert unknown.status_code == 400 and "<b>nope" not in unknown.text


def test_escalation_page_shows_the_excerpt_escaped_and_audits_every_view(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    html = page_of(client, "esc-one")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; I have the pills here" in html
    assert "Nothing helps &amp; I&#39;m tired" in html
    assert "si.method.pills" in html and "score 0.91" in html and "rules-0.3.0+classifier-test" in html
    assert "dr.ada" in html and "dr.bo" not in html  # the patient's own therapist only
    assert "no finished safety plan" in html
    page_of(client, "esc-one")
    reads = [e for e in audit.entries(runtime.engine, patient_id=people.patient) if e.action == "read.escalation_excerpt"]
    assert len(reads) == 2 and {e.actor for e in reads} == {people.reviewer} and reads[0].target == "esc-one"


def test_escalation_page_shows_the_patients_safety_plan_through_the_audit_log(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    module = runtime.modules.get("safety-plan")
    for step_id, value in (("warning_signs", "I stop <answering> messages"), ("ask_for_help", "My sister")):
        runtime.store.record_answer(patient_id=people.patient, run_id="run-1", module_id=module.id,
                                    module_version=module.version, step_id=step_id, value=value)
    runtime.store.record_answer(patient_id=people.patient, run_id="run-1", module_id=module.id,
                                module_version=module.version, step_id="summary", value="...", completed=True)
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    html = page_of(client, "esc-one")
    assert "My warning signs" in html and "I stop &lt;answering&gt; messages" in html and "My sister" in html
    reads = [e.action for e in audit.entries(runtime.engine, patient_id=people.patient)]
    assert "read.answers" in reads


def test_unknown_escalation_is_a_404_page(client: TestClient, people: People) -> None:
    sign_in(client, "rev.cy")
    response = client.get("/portal/escalations/esc-nope")
    assert response.status_code == 404 and "Escalation not found" in response.text
    html = client.get("/portal/escalations").text
    post = client.post("/portal/escalations/esc-nope/acknowledge", data={"csrf_token": csrf_from(html)})
    assert post.status_code == 404


def test_the_full_walk_from_open_to_labelled_and_exported(
    client: TestClient, people: People, runtime: Runtime, capfd: pytest.CaptureFixture[str],
) -> None:
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    assert runtime.store.in_safety_mode(people.patient)

    done = act(client, "esc-one", "acknowledge", {"note": ""})
    assert done.status_code == 303 and done.headers["location"].startswith("/portal/escalations/esc-one?done=acknowledged")
    row = stored(runtime, "esc-one")
    assert row.status is EscalationStatus.ACKNOWLEDGED and row.acknowledged_at is not None
    assert "Acknowledged. This escalation" in client.get(done.headers["location"]).text

    note = "Called at 14:05 <b>no</b> answer; note-marker-77"
    assert act(client, "esc-one", "contact", {"outcome": "no_answer", "note": note}).status_code == 303
    assert act(client, "esc-one", "contact", {"outcome": "reached", "note": ""}).status_code == 303
    assert stored(runtime, "esc-one").status is EscalationStatus.CONTACTED
    with Session(runtime.engine) as db:
        blobs = [a.note for a in db.exec(select(EscalationAction)) if a.note]
    assert blobs and all(b"note-marker-77" not in blob for blob in blobs)  # encrypted at rest

    assert act(client, "esc-one", "resolve", {"note": "Patient safe with family tonight."}).status_code == 303
    row = stored(runtime, "esc-one")
    assert row.status is EscalationStatus.RESOLVED and row.resolved_at is not None
    assert runtime.store.in_safety_mode(people.patient)  # resolving alone does not clear safety mode

    assert act(client, "esc-one", "clear-safety-mode", {"confirm": "yes"}).status_code == 303
    assert not runtime.store.in_safety_mode(people.patient)

    labelled = act(client, "esc-one", "label", {"verdict": "true_positive", "tier": "4",
                                                "categories": ["method_plan", "intent"], "note": "clear plan"})
    assert labelled.status_code == 303

    html = page_of(client, "esc-one")
    assert "Called at 14:05 &lt;b&gt;no&lt;/b&gt; answer" in html  # note decrypted, escaped
    assert [a.kind for a in actions(runtime, "esc-one")] == [
        EscalationActionKind.ACKNOWLEDGED, EscalationActionKind.CONTACT_ATTEMPT, EscalationActionKind.CONTACT_ATTEMPT,
        EscalationActionKind.RESOLVED, EscalationActionKind.SAFETY_MODE_CLEARED, EscalationActionKind.LABELLED,
    ]
    assert "read.escalation_notes" in {e.action for e in audit.entries(runtime.engine, patient_id=people.patient)}

    export = client.get("/portal/labels.jsonl")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment;")
    assert "no-store" in export.headers["cache-control"]
    [line] = export.text.splitlines()
    case = json.loads(line)
    assert case["escalation_id"] == "esc-one" and case["expected_tier"] == 4 and case["is_true_positive"] is True
    assert case["categories"] == ["method_plan", "intent"]
    assert [m["content"] for m in case["messages"]] == [EARLIER, SCRIPT]
    assert _parse(line.encode("utf-8"), 1)["id"] == case["id"]  # `companion safety screen` accepts it
    out = io.BytesIO()
    assert screen_lines([line.encode("utf-8")], out) == 0
    assert json.loads(out.getvalue())["id"] == case["id"]
    exports = [e for e in audit.entries(runtime.engine, patient_id=people.patient) if e.action == "export.labels"]
    assert [e.actor for e in exports] == [people.reviewer]
    logged = "".join(capfd.readouterr())
    assert "escalation_action" in logged  # the actions are logged ...
    assert "note-marker-77" not in logged and "pills" not in logged  # ... without patient text


def test_repeated_submits_do_not_corrupt_state(client: TestClient, people: People, runtime: Runtime) -> None:
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    html = page_of(client, "esc-one")
    for _ in range(2):  # the same form sent twice (double click, or back and send again)
        assert act(client, "esc-one", "acknowledge", {}, page=html).status_code == 303
        assert act(client, "esc-one", "contact", {"outcome": "left_message"}, page=html).status_code == 303
    again = act(client, "esc-one", "contact", {"outcome": "left_message"}, page=html)
    assert again.headers["location"].endswith("done=already_recorded#main")
    first_ack = stored(runtime, "esc-one").acknowledged_at
    act(client, "esc-one", "acknowledge", {})  # a fresh page: still only one acknowledgement
    assert stored(runtime, "esc-one").acknowledged_at == first_ack
    resolved = page_of(client, "esc-one")
    for _ in range(2):
        act(client, "esc-one", "resolve", {"note": "done"}, page=resolved)
        act(client, "esc-one", "clear-safety-mode", {"confirm": "yes"}, page=resolved)
        act(client, "esc-one", "label", {"verdict": "false_positive", "tier": "1"}, page=resolved)
    kinds = [a.kind for a in actions(runtime, "esc-one")]
    assert kinds == [EscalationActionKind.ACKNOWLEDGED, EscalationActionKind.CONTACT_ATTEMPT,
                     EscalationActionKind.RESOLVED, EscalationActionKind.SAFETY_MODE_CLEARED,
                     EscalationActionKind.LABELLED]
    with Session(runtime.engine) as db:
        assert len(db.exec(select(ReviewerLabel)).all()) == 1
    assert stored(runtime, "esc-one").status is EscalationStatus.RESOLVED


def test_resolving_an_unacknowledged_escalation_acknowledges_it_and_later_contacts_keep_it_resolved(
    client: TestClient, people: People, runtime: Runtime,
) -> None:
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    act(client, "esc-one", "resolve", {"note": "Therapist already in touch."})
    row = stored(runtime, "esc-one")
    assert row.status is EscalationStatus.RESOLVED and row.acknowledged_at is not None and row.resolved_at is not None
    act(client, "esc-one", "contact", {"outcome": "reached"})
    assert stored(runtime, "esc-one").status is EscalationStatus.RESOLVED
    assert [a.outcome for a in actions(runtime, "esc-one")] == ["", "reached"]


@pytest.mark.parametrize(("action", "data", "message"), [
    ("contact", {"outcome": "carrier_pigeon"}, "Choose what happened"),
    ("contact", {"outcome": "other", "note": ""}, "when the outcome is &#39;Other&#39;"),
    ("contact", {"outcome": "reached", "note": "x" * 4001}, "4001 characters long"),
    ("acknowledge", {"note": "bell\x07 here"}, "control characters"),
    ("resolve", {"note": "   "}, "how this escalation was resolved"),
    ("clear-safety-mode", {"note": "ok"}, "Tick the box"),
    ("label", {"verdict": "true_positive", "tier": "9"}, "number from 0 to 5"),
    ("label", {"verdict": "true_positive", "tier": "-1"}, "number from 0 to 5"),
    ("label", {"verdict": "maybe", "tier": "3"}, "Choose whether the detector"),
    ("label", {"verdict": "true_positive", "tier": "3", "categories": ["not_a_category"]}, "not known"),
    ("acknowledge", {"seen": "many"}, "Reload the page"),
])
def test_invalid_forms_are_refused_with_a_message_and_nothing_stored(
    client: TestClient, people: People, runtime: Runtime, action: str, data: dict[str, str], message: str,
) -> None:
    escalate(runtime, people.patient)
    sign_in(client, "rev.cy")
    response = act(client, "esc-one", action, data)
    assert response.status_code == 400 and message in response.text
    assert actions(runtime, "esc-one") == []
    row = stored(runtime, "esc-one")
    assert row.status is EscalationStatus.OPEN and row.acknowledged_at is None and row.safety_mode
    with Session(runtime.engine) as db:
        assert db.exec(select(ReviewerLabel)).first() is None


@pytest.mark.parametrize("username", ["dr.ada", "admin.di"])
def test_therapists_and_admins_are_refused(client: TestClient, people: People, runtime: Runtime, username: str) -> None:
    escalate(runtime, people.patient)
    sign_in(client, username)
    assert client.get("/portal/escalations").status_code == 403
    assert client.get("/portal/escalations/esc-one").status_code == 403
    assert client.get("/portal/labels.jsonl").status_code == 403
    refused = post_form(client, "/portal/escalations/esc-one/acknowledge")
    assert refused.status_code == 403
    assert actions(runtime, "esc-one") == []
    assert not [e for e in audit.entries(runtime.engine) if e.action == "read.escalation_excerpt"]
