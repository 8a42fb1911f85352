"""A therapist's writes about one patient on their caseload: remove an assignment, record a session."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, delete

from companion.db import session_scope
from companion.models import Assignment, CareTeam

__all__ = ["record_session", "remove_assignment"]


def remove_assignment(engine: Any, *, patient_id: str, module_id: str) -> bool:
    """Remove one assignment; False if there was none."""
    with session_scope(engine) as db:
        statement = delete(Assignment).where(col(Assignment.patient_id) == patient_id,
                                             col(Assignment.module_id) == module_id)
        return bool(db.exec(statement).rowcount)  # type: ignore[call-overload]


def record_session(engine: Any, *, patient_id: str, therapist_id: str, on: date) -> None:
    """Record that this therapist held a session with this patient on `on`."""
    with session_scope(engine) as db:
        row = db.get(CareTeam, (patient_id, therapist_id))
        if row is None:
            raise LookupError(f"patient {patient_id!r} is not on the caseload of {therapist_id!r}")
        row.last_session_on = on
        db.add(row)
