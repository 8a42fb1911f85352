"""The safety reviewers' escalation queue and the escalation page's data.

`build_queue` lists escalations (tier 2 and up) with their time-to-acknowledge target and
whether they are overdue, sorted for triage: unresolved first, then the highest tier, then
overdue, then newest. `escalation_page` gathers one escalation for its page; every piece of
patient text it decrypts (excerpt, safety plan, action notes) is recorded in the audit log
first. The reviewers' actions are in `companion.portal.escalation_actions`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from companion import audit
from companion.crypto import DecryptionError
from companion.logging import get_logger
from companion.models import (
    CareTeam,
    Escalation,
    EscalationAction,
    EscalationActionKind,
    EscalationStatus,
    ExerciseAnswer,
    ReviewerLabel,
    User,
    as_utc,
    utcnow,
)
from companion.portal.targets import QUEUED_TIERS, ResponseTargets, TierTarget
from companion.store import SqlPatientStore
from flows.modules import ModuleLibrary
from safety.types import Category, Signal

__all__ = [
    "CATEGORY_WORDS", "NOTE_PURPOSE", "NOTICES", "OUTCOME_WORDS", "SAFETY_PLAN_MODULE", "ContactOutcome",
    "EscalationNotFound", "EscalationPage", "InvalidAction", "Queue", "QueueItem", "StatusFilter",
    "build_queue", "escalation_page", "get_escalation",
]

log = get_logger(__name__)

NOTE_PURPOSE = "escalation_note"
SAFETY_PLAN_MODULE = "safety-plan"
NOTE_UNAVAILABLE = "(note unavailable: the patient's data key is erased or not loaded)"


class StatusFilter(StrEnum):
    ACTIVE = "active"  # everything not resolved (the default)
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    ALL = "all"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    EMERGENCY_SERVICES = "emergency_services"
    OTHER = "other"


OUTCOME_WORDS = {
    ContactOutcome.REACHED: "Reached the patient", ContactOutcome.NO_ANSWER: "No answer",
    ContactOutcome.LEFT_MESSAGE: "Left a message", ContactOutcome.EMERGENCY_SERVICES: "Emergency services called",
    ContactOutcome.OTHER: "Other (see note)", "true_positive": "True positive", "false_positive": "False positive",
}
KIND_WORDS = {
    EscalationActionKind.ACKNOWLEDGED: "Acknowledged", EscalationActionKind.CONTACT_ATTEMPT: "Contact attempt",
    EscalationActionKind.RESOLVED: "Resolved", EscalationActionKind.SAFETY_MODE_CLEARED: "Safety mode cleared",
    EscalationActionKind.LABELLED: "Labelled",
}
CATEGORY_WORDS = {
    Category.DISTRESS: "Distress", Category.PASSIVE_IDEATION: "Passive wish to be dead",
    Category.ACTIVE_IDEATION: "Active suicidal thoughts", Category.METHOD_PLAN: "Method or plan",
    Category.INTENT: "Intent to act", Category.PREPARATION: "Preparation",
    Category.RECENT_ATTEMPT: "Recent attempt", Category.SELF_HARM: "Self-harm",
    Category.HARM_TO_OTHERS: "Harm to others", Category.ABUSE_DISCLOSURE: "Abuse or safeguarding disclosure",
    Category.MEDICAL_EMERGENCY: "Medical emergency", Category.IMMINENT: "Imminent danger",
    Category.SCREEN_ERROR: "Screening error (treated as risk)", Category.HELP_REQUEST: "Asked for help",
}


#: What the escalation page says after an action (the redirect names the key, never free text).
NOTICES = {
    "acknowledged": "Acknowledged. This escalation no longer counts against its target.",
    "already_acknowledged": "This escalation was already acknowledged; nothing was changed.",
    "contact_recorded": "Contact attempt recorded.",
    "already_recorded": "That was already saved (the form was sent twice); it was not added again.",
    "resolved": "Resolved. The patient's chat stays in safety mode until you clear it.",
    "already_resolved": "This escalation was already resolved; nothing was changed.",
    "safety_mode_cleared": "Safety mode cleared for this patient. Their chat can offer exercises again.",
    "not_in_safety_mode": "The patient was not in safety mode; nothing was changed.",
    "labelled": "Label saved. It will be part of the next label export.",
}


class EscalationNotFound(LookupError):
    """No escalation has this id."""


class InvalidAction(ValueError):
    """A reviewer's form cannot be stored as sent; the message says what to change."""


def in_words(delta: timedelta) -> str:
    """'less than a minute', '12 minutes', '2 hours 5 minutes', '3 days 4 hours'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n][:2]
    return " ".join(shown)


def categories_in_words(raw: str) -> list[str]:
    words = []
    for value in (v for v in raw.split(",") if v):
        try:
            words.append(CATEGORY_WORDS[Category(value)])
        except ValueError:
            words.append(value.replace("_", " "))
    return words


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue, with its target and how late it is."""

    id: str
    tier: int
    urgent: bool
    categories: list[str]
    status: EscalationStatus
    created_at: datetime
    age: str
    target: TierTarget | None
    overdue: bool
    overdue_by: str
    safety_mode: bool

    def sort_key(self) -> tuple[bool, int, bool, float]:
        resolved = self.status is EscalationStatus.RESOLVED
        return (resolved, -self.tier, not self.overdue, -self.created_at.timestamp())


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    overdue: int  # across everything unresolved, whatever the filter
    status: StatusFilter


def _item(row: Escalation, targets: ResponseTargets, now: datetime) -> QueueItem:
    created = as_utc(row.created_at)
    target = targets.for_tier(row.tier)
    late = now - created - target.target if target else timedelta(0)
    overdue = bool(target) and row.acknowledged_at is None and row.status == EscalationStatus.OPEN and late > timedelta(0)
    return QueueItem(
        id=row.id, tier=row.tier, urgent=row.urgent, categories=categories_in_words(row.categories),
        status=EscalationStatus(row.status), created_at=created, age=in_words(now - created), target=target,
        overdue=overdue, overdue_by=in_words(late) if overdue else "", safety_mode=row.safety_mode,
    )


def build_queue(engine: Engine, targets: ResponseTargets, *, status: StatusFilter = StatusFilter.ACTIVE,
                now: datetime | None = None) -> Queue:
    """List queued escalations (tier 2 and up) for `status`, triage order, with the overdue count."""
    now = now or utcnow()
    with Session(engine) as db:
        rows = list(db.exec(select(Escalation).where(col(Escalation.tier) >= min(QUEUED_TIERS))))
    items = [_item(row, targets, now) for row in rows]
    overdue = sum(1 for item in items if item.overdue)
    if status is StatusFilter.ACTIVE:
        items = [i for i in items if i.status is not EscalationStatus.RESOLVED]
    elif status is not StatusFilter.ALL:
        items = [i for i in items if i.status.value == status.value]
    return Queue(items=sorted(items, key=QueueItem.sort_key), overdue=overdue, status=status)


# ---- the escalation page ----------------------------------------------------------------------

@dataclass(frozen=True)
class ActionView:
    id: int
    kind: str
    actor: str
    created_at: datetime
    outcome: str
    note: str


@dataclass
class EscalationPage:
    """Everything the escalation page shows; patient text here has been read through the audit log."""

    item: QueueItem
    escalation: Escalation
    patient: str
    therapists: list[str]
    signals: list[Signal]
    excerpt: list[str] | None  # None: the data key is gone
    safety_plan: list[tuple[str, str]] | None
    actions: list[ActionView]
    labels: list[ReviewerLabel] = field(default_factory=list)

    @property
    def seen(self) -> int:
        """The newest action id shown; forms send it back so a repeated submit is recorded once."""
        return max((a.id for a in self.actions), default=0)


def get_escalation(engine: Engine, escalation_id: str) -> Escalation:
    with Session(engine) as db:
        row = db.get(Escalation, escalation_id)
    if row is None:
        raise EscalationNotFound(escalation_id)
    return row


def escalation_page(store: SqlPatientStore, modules: ModuleLibrary, targets: ResponseTargets, escalation_id: str,
                    *, actor: str, now: datetime | None = None) -> EscalationPage:
    """Gather one escalation for `actor`; each decryption is audited before it happens."""
    row = get_escalation(store.engine, escalation_id)
    with Session(store.engine) as db:
        patient = db.get(User, row.patient_id)
        therapists = list(db.exec(select(User.username).join(CareTeam, col(CareTeam.therapist_id) == col(User.id))
                                  .where(CareTeam.patient_id == row.patient_id).order_by(col(User.username))))
        actions = list(db.exec(select(EscalationAction, User.username)
                               .join(User, col(User.id) == col(EscalationAction.actor_id))
                               .where(EscalationAction.escalation_id == row.id).order_by(col(EscalationAction.id))))
        labels = list(db.exec(select(ReviewerLabel).where(ReviewerLabel.escalation_id == row.id)
                              .order_by(col(ReviewerLabel.id))))
        has_plan = db.exec(select(ExerciseAnswer.id).where(
            ExerciseAnswer.patient_id == row.patient_id, ExerciseAnswer.module_id == SAFETY_PLAN_MODULE,
            ExerciseAnswer.completed == True)).first() is not None  # noqa: E712
    try:
        excerpt: list[str] | None = audit.read_excerpt(store, row, actor=actor)
    except DecryptionError:
        excerpt = None
    if any(a.note for a, _ in actions):
        audit.record(store.engine, actor=actor, action="read.escalation_notes", patient_id=row.patient_id, target=row.id)
    return EscalationPage(
        item=_item(row, targets, now or utcnow()), escalation=row, patient=patient.username if patient else "(unknown)",
        therapists=therapists, signals=[Signal.model_validate(s) for s in json.loads(row.signals or "[]")],
        excerpt=excerpt, safety_plan=_safety_plan(store, modules, row.patient_id, actor) if has_plan else None,
        actions=[_action_view(store, row.patient_id, a, name) for a, name in actions], labels=labels,
    )


def _action_view(store: SqlPatientStore, patient_id: str, action: EscalationAction, actor: str) -> ActionView:
    note = ""
    if action.note:
        try:
            note = store.crypto.decrypt_text(patient_id, action.note, purpose=NOTE_PURPOSE)
        except DecryptionError:
            note = NOTE_UNAVAILABLE
    assert action.id is not None
    return ActionView(id=action.id, kind=KIND_WORDS.get(action.kind, str(action.kind)), actor=actor,
                      created_at=as_utc(action.created_at), outcome=OUTCOME_WORDS.get(action.outcome, action.outcome),
                      note=note)


def _safety_plan(store: SqlPatientStore, modules: ModuleLibrary, patient_id: str, actor: str) -> list[tuple[str, str]] | None:
    """The patient's newest finished safety plan as (part, their words), read through the audit log."""
    if SAFETY_PLAN_MODULE not in modules.modules:
        return None
    module = modules.get(SAFETY_PLAN_MODULE)
    try:
        rows = audit.read_answers(store, patient_id=patient_id, actor=actor, module_id=SAFETY_PLAN_MODULE)
    except DecryptionError:
        return None
    last = module.steps[-1].id
    finished = [r["run_id"] for r in rows if r["step_id"] == last and r["completed"]]
    if not finished:
        return None
    answers = {r["step_id"]: r["value"] for r in rows if r["run_id"] == finished[-1]}
    plan = []
    for step in module.steps:
        if step.id in answers and step.summary_line:
            found = re.search(r"\*\*(.+?)\*\*", step.summary_line)
            part = (found[1] if found else step.id.replace("_", " ")).rstrip(": ")
            value = answers[step.id]
            plan.append((part, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return plan
