"""The safety reviewers' escalation queue, the escalation page's data, and reviewers' actions.

`build_queue` lists escalations (tier 2 and up) with their time-to-acknowledge target and
whether they are overdue, sorted for triage: unresolved first, then the highest tier, then
overdue, then newest. `escalation_page` gathers one escalation for its page; every piece of
patient text it decrypts (excerpt, safety plan, action notes) is recorded in the audit log
first. The actions (`acknowledge`, `record_contact`, `resolve`, `clear_safety_mode`,
`label`) each write an `EscalationAction` (note encrypted with the patient's key) and move
`Escalation.status` on with conditional updates, so a repeated or concurrent submit never
corrupts the record: acknowledging or resolving twice changes nothing the second time, and a
form sent twice (the same `seen` action id) is recorded once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select, update

from companion import audit
from companion.crypto import DecryptionError
from companion.db import session_scope
from companion.labels import record_label
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
    utcnow,
)
from companion.portal.targets import QUEUED_TIERS, ResponseTargets, TierTarget
from companion.store import SqlPatientStore
from flows.modules import ModuleLibrary
from safety.types import Category, Signal

__all__ = [
    "CATEGORY_WORDS", "NOTE_PURPOSE", "NOTICES", "OUTCOME_WORDS", "SAFETY_PLAN_MODULE", "ContactOutcome",
    "EscalationNotFound", "EscalationPage", "InvalidAction", "Queue", "QueueItem", "StatusFilter",
    "acknowledge", "build_queue", "clean_note", "clear_safety_mode", "escalation_page", "label",
    "record_contact", "resolve",
]

log = get_logger(__name__)

NOTE_PURPOSE = "escalation_note"
MAX_NOTE = 4000
SAFETY_PLAN_MODULE = "safety-plan"
NOTE_UNAVAILABLE = "(note unavailable: the patient's data key is erased or not loaded)"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


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


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
    created = _aware(row.created_at)
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
                      created_at=_aware(action.created_at), outcome=OUTCOME_WORDS.get(action.outcome, action.outcome),
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


# ---- actions -------------------------------------------------------------------------------------

def clean_note(note: str, *, required: str = "") -> str:
    """Check a reviewer's note; `required` is the message to give when it is empty and must not be."""
    if _CONTROL.search(note):
        raise InvalidAction("The note contains control characters (invisible characters that are not text). "
                            "Retype it rather than pasting it, then send it again.")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise InvalidAction(f"The note is {len(note)} characters long; keep it to {MAX_NOTE} or fewer.")
    if required and not note:
        raise InvalidAction(required)
    return note


def _duplicate(db: Session, escalation_id: str, actor: str, kind: EscalationActionKind, seen: int | None) -> bool:
    if seen is None:
        return False
    query = select(func.count()).select_from(EscalationAction).where(
        EscalationAction.escalation_id == escalation_id, EscalationAction.actor_id == actor,
        EscalationAction.kind == kind, col(EscalationAction.id) > seen)
    return bool(db.exec(query).one())


def _write(store: SqlPatientStore, db: Session, row: Escalation, actor: str, kind: EscalationActionKind,
           note: str, outcome: str = "") -> None:
    blob = store.crypto.encrypt(row.patient_id, note, purpose=NOTE_PURPOSE) if note else None
    db.add(EscalationAction(escalation_id=row.id, actor_id=actor, kind=kind, outcome=outcome, note=blob))
    log.info("escalation_action", escalation_id=row.id, user_id=actor, kind=str(kind), outcome=outcome,
             has_note=bool(note))  # never the note itself


def _set(db: Session, escalation_id: str, *conditions: Any, **values: Any) -> int:
    statement = update(Escalation).where(col(Escalation.id) == escalation_id, *conditions).values(**values)
    return int(db.execute(statement).rowcount)  # type: ignore[attr-defined]


def _acknowledged(db: Session, escalation_id: str, now: datetime) -> int:
    """Set `acknowledged_at` if nobody has yet (contacting or resolving implies acknowledging)."""
    return _set(db, escalation_id, col(Escalation.acknowledged_at).is_(None), acknowledged_at=now)


def acknowledge(store: SqlPatientStore, escalation_id: str, *, actor: str, note: str = "", seen: int | None = None) -> str:
    """Acknowledge an escalation; return a `NOTICES` key. A second acknowledgement changes nothing."""
    note, now = clean_note(note), utcnow()
    with session_scope(store.engine) as db:
        row = _locked(db, escalation_id)
        if not _acknowledged(db, escalation_id, now):
            return "already_acknowledged"
        _set(db, escalation_id, col(Escalation.status) == EscalationStatus.OPEN, status=EscalationStatus.ACKNOWLEDGED)
        _write(store, db, row, actor, EscalationActionKind.ACKNOWLEDGED, note)
    return "acknowledged"


def record_contact(store: SqlPatientStore, escalation_id: str, *, actor: str, outcome: str, note: str = "",
                   seen: int | None = None) -> str:
    """Record one attempt to contact the patient; the escalation becomes "contacted" unless resolved."""
    try:
        chosen = ContactOutcome(outcome)
    except ValueError:
        raise InvalidAction("Choose what happened when you tried to make contact (for example: reached, no answer).") from None
    note = clean_note(note, required="Describe what happened in the note when the outcome is 'Other'."
                      if chosen is ContactOutcome.OTHER else "")
    now = utcnow()
    with session_scope(store.engine) as db:
        row = _locked(db, escalation_id)
        if _duplicate(db, escalation_id, actor, EscalationActionKind.CONTACT_ATTEMPT, seen):
            return "already_recorded"
        _acknowledged(db, escalation_id, now)
        _set(db, escalation_id, col(Escalation.status) != EscalationStatus.RESOLVED, status=EscalationStatus.CONTACTED)
        _write(store, db, row, actor, EscalationActionKind.CONTACT_ATTEMPT, note, chosen.value)
    return "contact_recorded"


def resolve(store: SqlPatientStore, escalation_id: str, *, actor: str, note: str, seen: int | None = None) -> str:
    """Resolve an escalation (a note is required). Safety mode is not cleared by this."""
    note, now = clean_note(note, required="Write a short note saying how this escalation was resolved."), utcnow()
    with session_scope(store.engine) as db:
        row = _locked(db, escalation_id)
        _acknowledged(db, escalation_id, now)
        if not _set(db, escalation_id, col(Escalation.status) != EscalationStatus.RESOLVED,
                    status=EscalationStatus.RESOLVED, resolved_at=now):
            return "already_resolved"
        _write(store, db, row, actor, EscalationActionKind.RESOLVED, note)
    return "resolved"


def clear_safety_mode(store: SqlPatientStore, escalation_id: str, *, actor: str, confirmed: bool, note: str = "",
                      seen: int | None = None) -> str:
    """Take the patient out of safety mode (every escalation of theirs) after an explicit confirmation."""
    note = clean_note(note)
    if not confirmed:
        raise InvalidAction("Tick the box to confirm that the patient may leave safety mode.")
    row = get_escalation(store.engine, escalation_id)
    cleared = store.clear_safety_mode(patient_id=row.patient_id)
    if not cleared:
        return "not_in_safety_mode"
    with session_scope(store.engine) as db:
        _write(store, db, row, actor, EscalationActionKind.SAFETY_MODE_CLEARED, note, f"{cleared} records")
    return "safety_mode_cleared"


def label(store: SqlPatientStore, escalation_id: str, *, actor: str, verdict: str, tier: str,
          categories: list[str], note: str = "", seen: int | None = None) -> str:
    """Store a reviewer's label (companion.labels) and note it in the escalation's history."""
    if verdict not in ("true_positive", "false_positive"):
        raise InvalidAction("Choose whether the detector was right (true positive) or wrong (false positive).")
    if not tier.isdigit() or not 0 <= int(tier) <= 5:
        raise InvalidAction("Choose the correct tier, a number from 0 to 5.")
    known = {c.value for c in Category}
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise InvalidAction(f"{len(unknown)} of the chosen categories are not known; reload the page and choose again.")
    note = clean_note(note)
    with session_scope(store.engine) as db:
        row = _locked(db, escalation_id)
        if _duplicate(db, escalation_id, actor, EscalationActionKind.LABELLED, seen):
            return "already_recorded"
    record_label(store, escalation_id=escalation_id, reviewer_id=actor, is_true_positive=verdict == "true_positive",
                 correct_tier=int(tier), correct_categories=categories, note=note)
    with session_scope(store.engine) as db:
        _write(store, db, row, actor, EscalationActionKind.LABELLED, note, verdict)
    return "labelled"


def _locked(db: Session, escalation_id: str) -> Escalation:
    """Lock and load the escalation in the action's transaction, or raise `EscalationNotFound`.

    The first statement is a write that changes nothing: it takes SQLite's write lock (or the
    row lock on PostgreSQL), so two submits of the same form are serialised, never interleaved.
    """
    if not _set(db, escalation_id, status=col(Escalation.status)):
        raise EscalationNotFound(escalation_id)
    row = db.get(Escalation, escalation_id)
    assert row is not None
    return row
