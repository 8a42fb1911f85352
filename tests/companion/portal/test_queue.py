"""The escalation queue's order, overdue marking, filters, and the reviewer-note checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from companion.models import Escalation, EscalationStatus, utcnow
from companion.portal.escalation_actions import clean_note
from companion.portal.queue import InvalidAction, StatusFilter, build_queue, in_words
from companion.portal.targets import load_response_targets
from companion.runtime import Runtime
from safety.types import Assessment, Category, Signal, Tier
from tests.companion.portal.conftest import People

NOW = utcnow()
TARGETS = load_response_targets()


@pytest.fixture(autouse=True)
def _quiet_alerts(runtime: Runtime) -> None:
    runtime.store.alerts = None


def raise_escalation(runtime: Runtime, patient: str, escalation_id: str, tier: Tier, *, minutes_ago: int,
                     status: EscalationStatus = EscalationStatus.OPEN) -> None:
    """Record an escalation through the store, then move its clock back (no waiting in tests)."""
    assessment = Assessment.from_signals(
        [Signal(source="rules", id="test.rule", tier=tier, category=Category.ACTIVE_IDEATION)], version="test")
    runtime.store.record_escalation(patient_id=patient, escalation_id=escalation_id, assessment=assessment,
                                    excerpt=["..."], before_consent=False, safety_mode=True)
    with Session(runtime.engine) as db:
        row = db.get(Escalation, escalation_id)
        assert row is not None
        row.created_at = NOW - timedelta(minutes=minutes_ago)
        row.status = status
        if status is not EscalationStatus.OPEN:
            row.acknowledged_at = NOW
        db.add(row)
        db.commit()


def test_unresolved_first_then_higher_tier_then_overdue_then_newest(runtime: Runtime, people: People) -> None:
    p = people.patient
    raise_escalation(runtime, p, "t5-resolved", Tier.EMERGENCY, minutes_ago=1, status=EscalationStatus.RESOLVED)
    raise_escalation(runtime, p, "t3-new", Tier.ACTIVE, minutes_ago=5)
    raise_escalation(runtime, p, "t3-overdue", Tier.ACTIVE, minutes_ago=61)
    raise_escalation(runtime, p, "t3-acked-old", Tier.ACTIVE, minutes_ago=500, status=EscalationStatus.ACKNOWLEDGED)
    raise_escalation(runtime, p, "t4-new", Tier.URGENT, minutes_ago=2)
    raise_escalation(runtime, p, "t4-older", Tier.URGENT, minutes_ago=10)
    raise_escalation(runtime, p, "t2-overdue", Tier.UNCLEAR, minutes_ago=25 * 60)
    raise_escalation(runtime, p, "t1-distress", Tier.DISTRESS, minutes_ago=3)  # never queued
    queue = build_queue(runtime.engine, TARGETS, status=StatusFilter.ALL, now=NOW)
    assert [i.id for i in queue.items] == [
        "t4-new", "t4-older", "t3-overdue", "t3-new", "t3-acked-old", "t2-overdue", "t5-resolved",
    ]
    assert {i.id for i in queue.items if i.overdue} == {"t3-overdue", "t2-overdue"} and queue.overdue == 2


def test_overdue_means_unacknowledged_past_the_tier_target(runtime: Runtime, people: People) -> None:
    raise_escalation(runtime, people.patient, "just-in", Tier.URGENT, minutes_ago=14)
    raise_escalation(runtime, people.patient, "just-late", Tier.URGENT, minutes_ago=16)
    raise_escalation(runtime, people.patient, "late-but-acked", Tier.EMERGENCY, minutes_ago=60,
                     status=EscalationStatus.ACKNOWLEDGED)
    items = {i.id: i for i in build_queue(runtime.engine, TARGETS, now=NOW).items}
    assert not items["just-in"].overdue
    assert items["just-late"].overdue and items["just-late"].overdue_by == "1 minute"
    assert not items["late-but-acked"].overdue
    assert items["just-late"].target is not None and items["just-late"].target.target_minutes == 15


def test_the_default_filter_hides_resolved_and_the_overdue_count_ignores_the_filter(
    runtime: Runtime, people: People,
) -> None:
    raise_escalation(runtime, people.patient, "open-late", Tier.ACTIVE, minutes_ago=120)
    raise_escalation(runtime, people.patient, "contacted", Tier.ACTIVE, minutes_ago=5, status=EscalationStatus.CONTACTED)
    raise_escalation(runtime, people.patient, "done", Tier.ACTIVE, minutes_ago=5, status=EscalationStatus.RESOLVED)
    ids = {f: [i.id for i in build_queue(runtime.engine, TARGETS, status=f, now=NOW).items] for f in StatusFilter}
    assert sorted(ids[StatusFilter.ACTIVE]) == ["contacted", "open-late"]
    assert ids[StatusFilter.OPEN] == ["open-late"] and ids[StatusFilter.CONTACTED] == ["contacted"]
    assert ids[StatusFilter.RESOLVED] == ["done"] and ids[StatusFilter.ACKNOWLEDGED] == []
    assert build_queue(runtime.engine, TARGETS, status=StatusFilter.RESOLVED, now=NOW).overdue == 1


@pytest.mark.parametrize(("minutes", "words"), [
    (0, "less than a minute"), (1, "1 minute"), (59, "59 minutes"), (61, "1 hour 1 minute"),
    (24 * 60 + 120, "1 day 2 hours"), (3 * 24 * 60 + 5, "3 days 5 minutes"),
])
def test_times_in_words(minutes: int, words: str) -> None:
    assert in_words(timedelta(minutes=minutes)) == words


def test_notes_keep_line_breaks_and_refuse_control_characters_and_length() -> None:
    assert clean_note("  line one\r\nline two\ttabbed  ") == "line one\nline two\ttabbed"
    for bad in ("nul\x00", "escape\x1b[31m", "\u2028separator"):
        with pytest.raises(InvalidAction, match="control characters"):
            clean_note(bad)
    with pytest.raises(InvalidAction, match="4001 characters long; keep it to 4000"):
        clean_note("x" * 4001)
    assert clean_note("x" * 4000) == "x" * 4000
    with pytest.raises(InvalidAction, match="say why"):
        clean_note(" ", required="say why")
