"""What safety reviewers do about an escalation: acknowledge, contact, resolve, clear safety mode, label.

Each action writes an `EscalationAction` (note encrypted with the patient's key) and moves
`Escalation.status` on with conditional updates, so a repeated or concurrent submit never
corrupts the record: acknowledging or resolving twice changes nothing the second time, and a
form sent twice (the same `seen` action id) is recorded once. Each returns a key of
`companion.portal.queue.NOTICES`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select, update

from companion.db import session_scope
from companion.labels import record_label
from companion.logging import get_logger
from companion.models import (
    Escalation,
    EscalationAction,
    EscalationActionKind,
    EscalationStatus,
    utcnow,
)
from companion.portal.queue import (
    NOTE_PURPOSE,
    ContactOutcome,
    EscalationNotFound,
    InvalidAction,
    get_escalation,
)
from companion.store import SqlPatientStore
from safety.types import Category

__all__ = ["acknowledge", "clean_note", "clear_safety_mode", "label", "record_contact", "resolve"]

log = get_logger(__name__)

MAX_NOTE = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")



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
