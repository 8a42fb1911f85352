"""Notifications to reviewers and therapists: delivered to a real local HTTP receiver, no patient text, never twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from companion.accounts import create_user
from companion.models import Role
from companion.notify import (
    AppriseNotifier,
    EscalationAlerts,
    EscalationEvent,
    NotificationError,
    RecordingNotifier,
    message_for,
)
from companion.runtime import open_runtime
from companion.settings import Settings
from flows.state import ReplyKind
from safety.types import Assessment, Category, Signal, Tier
from tests.conftest import make_settings
from tests.support.http_receiver import HttpReceiver
from tests.support_service import ChatHarness

MARKER = "zebra-marker-7731"
CRISIS = f"I'm going to kill myself tonight, I have the rope ready {MARKER}"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def harness_with_therapist(settings: Settings, therapist_url: str) -> ChatHarness:
    chat = ChatHarness(settings)
    with Session(chat.runtime.engine) as session:
        therapist = create_user(session, username="dr-notify", role=Role.THERAPIST, password="a-long-test-password")
        session.commit()
    chat.runtime.store.assign_therapist(patient_id=chat.patient_id, therapist_id=therapist.id)
    chat.runtime.store.set_notify_url(user_id=therapist.id, url=therapist_url)
    return chat


def event(tier: int = 4, escalation_id: str = "esc-1") -> EscalationEvent:
    return EscalationEvent(
        escalation_id=escalation_id, tier=tier, urgent=tier >= 4, categories=("method_plan", "intent"),
        detector_version="test-1", before_consent=False, created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        portal_path=f"/portal/escalations/{escalation_id}",
    )


def alerts(reviewers: RecordingNotifier, therapist: RecordingNotifier, claimed: set[tuple[str, int]] | None = None) -> EscalationAlerts:
    seen = claimed if claimed is not None else set()

    def claim(escalation_id: str, tier: int) -> bool:
        if any(e == escalation_id and t >= tier for e, t in seen):
            return False
        seen.add((escalation_id, tier))
        return True

    return EscalationAlerts(reviewers=reviewers, therapist_notifier=lambda urls: therapist,
                            therapist_urls=lambda patient_id: ["json://127.0.0.1:1/x"], claim=claim, retry_delay=0.01)


def test_a_crisis_turn_notifies_reviewers_and_the_therapist_once_without_patient_text(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    settings = make_settings(tmp_path / "var", notify_reviewer_urls=[receiver.apprise_url("/reviewers")])
    chat = harness_with_therapist(settings, receiver.apprise_url("/therapist"))
    try:
        chat.start()
        replies = chat.say(CRISIS)
        assert replies[0].kind is ReplyKind.CRISIS
        assert chat.runtime.alerts is not None and chat.runtime.alerts.wait_idle()
        posts = receiver.wait_for(2)
        assert sorted(p.path for p in posts) == ["/reviewers", "/therapist"]
        [escalation] = chat.runtime.store.escalations(patient_id=chat.patient_id)
        link = {"/reviewers": f"/portal/escalations/{escalation.id}", "/therapist": f"/portal/patients/{chat.patient_id}"}
        for post in posts:
            assert MARKER not in post.body and "rope" not in post.body and chat.username not in post.body
            assert "Open the escalation in the portal" in post.json()["message"]
            assert link[post.path] in post.json()["message"]
        assert escalation.notified_tier == escalation.tier
    finally:
        chat.close()
    assert len(receiver.posts) == 2, "nothing more was sent"


def test_re_recording_an_escalation_does_not_notify_again_even_from_another_process(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    settings = make_settings(tmp_path / "var", notify_reviewer_urls=[receiver.apprise_url("/reviewers")])
    chat = harness_with_therapist(settings, receiver.apprise_url("/therapist"))
    assessment = Assessment.from_signals(
        [Signal(source="rules", id="si.plan", tier=Tier.URGENT, category=Category.METHOD_PLAN)], version="t")
    record = {"patient_id": chat.patient_id, "escalation_id": "esc-rerun", "assessment": assessment,
              "excerpt": [MARKER], "before_consent": False, "safety_mode": True}
    try:
        chat.runtime.store.record_escalation(**record)  # type: ignore[arg-type]
        chat.runtime.store.record_escalation(**record)  # type: ignore[arg-type]  # the node re-runs
        assert chat.runtime.alerts is not None and chat.runtime.alerts.wait_idle()
        chat.restart()  # a new process: its in-memory guard is empty, the database claim holds
        chat.runtime.store.record_escalation(**record)  # type: ignore[arg-type]
        assert chat.runtime.alerts is not None and chat.runtime.alerts.wait_idle()
    finally:
        chat.close()
    assert sorted(p.path for p in receiver.posts) == ["/reviewers", "/therapist"]


def test_a_failing_receiver_does_not_break_the_turn_and_is_retried_once(tmp_path: Path, receiver: HttpReceiver) -> None:
    receiver.status = 500
    settings = make_settings(tmp_path / "var", notify_reviewer_urls=[receiver.apprise_url("/reviewers"),
                                                                       "json://127.0.0.1:1/refused"])
    chat = ChatHarness(settings)
    assert chat.runtime.alerts is not None
    chat.runtime.alerts.retry_delay = 0.05
    try:
        chat.start()
        assert chat.say(CRISIS)[0].kind is ReplyKind.CRISIS
        assert chat.runtime.alerts.wait_idle()
        assert receiver.attempts == 2, "one attempt and one retry"
        assert chat.say("I want to end my life")[0].kind is ReplyKind.CRISIS, "the chat goes on"
    finally:
        chat.close()


def test_a_transient_failure_is_delivered_by_the_retry(tmp_path: Path, receiver: HttpReceiver) -> None:
    receiver.fail_next(1)
    notifier = AppriseNotifier([receiver.apprise_url("/r")], timeout=5)
    with pytest.raises(NotificationError, match="not delivered"):
        notifier.notify(event())
    notifier.notify(event())
    assert len(receiver.posts) == 1


def test_tier_two_flags_go_to_the_therapist_only_and_tier_three_to_both() -> None:
    reviewers, therapist = RecordingNotifier(), RecordingNotifier()
    worker = alerts(reviewers, therapist)
    worker.submit(event(tier=2, escalation_id="flag"), patient_id="p")
    worker.submit(event(tier=3, escalation_id="esc"), patient_id="p")
    assert worker.wait_idle()
    worker.close()
    assert [e.escalation_id for e in reviewers.events] == ["esc"]
    assert sorted(e.escalation_id for e in therapist.events) == ["esc", "flag"]
    # Each is sent to the page its reader can open: reviewers the escalation, therapists the patient.
    assert all(e.portal_path.startswith("/portal/escalations/") for e in reviewers.events)
    assert all(e.portal_path.startswith("/portal/patients/") for e in therapist.events)


def test_a_higher_tier_on_the_same_escalation_is_news_but_a_repeat_is_not() -> None:
    reviewers, therapist = RecordingNotifier(), RecordingNotifier()
    worker = alerts(reviewers, therapist)
    for tier in (3, 3, 4, 4, 3):
        worker.submit(event(tier=tier), patient_id="p")
        assert worker.wait_idle()
    worker.close()
    assert [e.tier for e in reviewers.events] == [3, 4]


def test_retry_then_give_up_without_raising() -> None:
    reviewers, therapist = RecordingNotifier(fail_times=1), RecordingNotifier(fail_times=5)
    worker = alerts(reviewers, therapist)
    worker.submit(event(), patient_id="p")
    assert worker.wait_idle()
    worker.close()
    assert len(reviewers.events) == 1 and therapist.events == [] and therapist.fail_times == 3


def test_a_full_queue_drops_instead_of_blocking_the_turn() -> None:
    gate = threading.Event()

    class Blocking(RecordingNotifier):
        def notify(self, event: EscalationEvent) -> None:
            gate.wait(5)
            super().notify(event)

    reviewers = Blocking()
    worker = EscalationAlerts(reviewers=reviewers, therapist_notifier=lambda urls: RecordingNotifier(),
                              therapist_urls=lambda patient_id: [], claim=lambda e, t: True,
                              workers=1, max_pending=1)
    for index in range(4):
        worker.submit(event(escalation_id=f"esc-{index}"), patient_id="p")  # returns at once
    gate.set()
    assert worker.wait_idle()
    worker.close()
    assert 1 <= len(reviewers.events) < 4


def test_the_message_says_what_to_do_and_holds_only_ids() -> None:
    title, body = message_for(event(tier=5), base_url="https://companion.example.org/")
    assert "tier 5" in title
    assert "Open the escalation in the portal now" in body
    assert "https://companion.example.org/portal/escalations/esc-1" in body
    assert "method plan, intent" in body


def test_an_unknown_reviewer_url_is_refused_at_start_naming_the_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var", notify_reviewer_urls=["nosuchservice://x"])
    with pytest.raises(ValueError, match=r"COMPANION_NOTIFY_REVIEWER_URLS\[0\]"):
        open_runtime(settings)
    with pytest.raises(ValueError, match="COMPANION_NOTIFY_REVIEWER_URLS"):
        make_settings(tmp_path, notify_reviewer_urls=["not a url"])


@pytest.mark.postgres
def test_care_team_and_notification_claims_on_each_backend(backend_settings: Settings) -> None:
    chat = harness_with_therapist(backend_settings, "json://127.0.0.1:1/therapist")
    store = chat.runtime.store
    store.alerts = None  # storage only
    try:
        assert store.therapist_notify_urls(chat.patient_id) == ["json://127.0.0.1:1/therapist"]
        assert store.therapist_notify_urls("someone-else") == []
        with pytest.raises(ValueError, match="is not a therapist"):
            store.assign_therapist(patient_id=chat.patient_id, therapist_id=chat.patient_id)
        assessment = Assessment.from_signals(
            [Signal(source="rules", id="x", tier=Tier.ACTIVE, category=Category.SELF_HARM)], version="t")
        store.record_escalation(patient_id=chat.patient_id, escalation_id="esc-claim", assessment=assessment,
                                excerpt=["x"], before_consent=False, safety_mode=True)
        assert store.claim_notification("esc-claim", 3) is True
        assert store.claim_notification("esc-claim", 3) is False
        assert store.claim_notification("esc-claim", 4) is True
        assert store.claim_notification("missing", 3) is False
    finally:
        chat.close()
