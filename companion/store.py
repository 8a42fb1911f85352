"""The graph's `PatientStore`, on SQLModel: consent, answers, escalations, transcript.

Every piece of patient text is encrypted with the patient's data key before it reaches the
database. Writes are upserts under deterministic keys, so a node that re-runs does not
duplicate anything. Nothing here writes before the caller has checked consent, except
escalation records, which safety needs whatever the consent state.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from companion.crypto import PatientCrypto
from companion.db import session_scope
from companion.models import (
    Assignment,
    CareTeam,
    Consent,
    DataKey,
    Escalation,
    ExerciseAnswer,
    Message,
    Role,
    User,
    utcnow,
)
from safety.types import Assessment

if TYPE_CHECKING:
    from companion.notify import EscalationAlerts

__all__ = ["SqlPatientStore", "crypto_for"]

STORE_SCOPE = "store_conversations"
NOTIFY_URL_PURPOSE = "notify_url"
ENCRYPTED_URL = "enc:v1:"  # prefix of an encrypted notify URL in `User.notify_url`
MAX_NOTIFY_URL = 1000  # base64 of its ciphertext fits the 2000-character column
AI_SCOPE = "external_ai"


def _upsert(
    session: Session, model: type, rows: list[dict[str, Any]], *, keys: Sequence[str], update: Sequence[str]
) -> None:
    """Insert rows, or update `update` columns where a row with the same `keys` exists."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(model).values(rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(model).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in update}
    )
    session.execute(statement)


def crypto_for(engine: Engine, keyring: Any) -> PatientCrypto:
    """Build a `PatientCrypto` whose wrapped data keys live in the `datakey` table."""

    def load(owner_id: str) -> tuple[str, bytes] | None:
        with Session(engine) as session:
            row = session.get(DataKey, owner_id)
            return None if row is None else (row.kek_id, row.wrapped_key)

    def store(owner_id: str, kek_id: str, wrapped: bytes) -> None:
        with session_scope(engine) as session:
            if session.get(DataKey, owner_id) is None:
                session.add(DataKey(owner_id=owner_id, kek_id=kek_id, wrapped_key=wrapped))

    return PatientCrypto(keyring=keyring, load_wrapped=load, store_wrapped=store)


class SqlPatientStore:
    """Implements `flows.context.PatientStore` and the transcript writes of the adapter."""

    def __init__(self, engine: Engine, crypto: PatientCrypto, *, alerts: EscalationAlerts | None = None) -> None:
        self.engine = engine
        self.crypto = crypto
        self.alerts = alerts  # told about each escalation after it is committed (never blocks)

    # consent -----------------------------------------------------------------
    def _consents(self, session: Session, patient_id: str) -> list[Consent]:
        query = select(Consent).where(Consent.patient_id == patient_id, Consent.withdrawn_at == None)  # noqa: E711
        return list(session.exec(query))

    def consent_version(self, patient_id: str) -> str | None:
        with Session(self.engine) as session:
            rows = [c for c in self._consents(session, patient_id) if c.scope == STORE_SCOPE]
            return max(rows, key=lambda c: c.given_at).version if rows else None

    def agreed_to_earlier_version(self, patient_id: str, *, current: str) -> bool:
        with Session(self.engine) as session:
            query = select(Consent).where(Consent.patient_id == patient_id, Consent.version != current)
            return session.exec(query).first() is not None

    def ai_consent(self, patient_id: str) -> bool:
        version = self.consent_version(patient_id)
        with Session(self.engine) as session:
            return any(
                c.scope == AI_SCOPE and c.version == version for c in self._consents(session, patient_id)
            )

    def record_consent(self, *, patient_id: str, version: str, scopes: Sequence[str]) -> None:
        with session_scope(self.engine) as session:
            for scope in scopes:
                query = select(Consent).where(
                    Consent.patient_id == patient_id, Consent.version == version, Consent.scope == scope
                )
                row = session.exec(query).first()
                if row is None:
                    session.add(Consent(patient_id=patient_id, version=version, scope=scope))
                else:
                    row.withdrawn_at = None
                    row.given_at = utcnow()
                    session.add(row)

    def withdraw_consent(self, *, patient_id: str) -> None:
        with session_scope(self.engine) as session:
            for row in self._consents(session, patient_id):
                row.withdrawn_at = utcnow()
                session.add(row)

    # answers -----------------------------------------------------------------
    def record_answer(
        self, *, patient_id: str, run_id: str, module_id: str, module_version: str,
        step_id: str, value: Any, completed: bool = False,
    ) -> None:
        blob = self.crypto.encrypt(patient_id, json.dumps(value), purpose="answer")
        values = {
            "patient_id": patient_id, "run_id": run_id, "module_id": module_id, "module_version": module_version,
            "step_id": step_id, "ciphertext": blob, "completed": completed, "updated_at": utcnow(),
        }
        with session_scope(self.engine) as session:
            _upsert(session, ExerciseAnswer, [values], keys=("patient_id", "run_id", "step_id"),
                    update=("ciphertext", "completed", "updated_at"))

    def answers(self, *, patient_id: str, module_id: str | None = None) -> list[dict[str, Any]]:
        """Decrypt a patient's stored answers (for the patient's own views and tests)."""
        with Session(self.engine) as session:
            query = select(ExerciseAnswer).where(ExerciseAnswer.patient_id == patient_id)
            if module_id:
                query = query.where(ExerciseAnswer.module_id == module_id)
            rows = list(session.exec(query.order_by(col(ExerciseAnswer.id))))
        return [
            {"run_id": r.run_id, "module_id": r.module_id, "step_id": r.step_id, "completed": r.completed,
             "value": json.loads(self.crypto.decrypt_text(patient_id, r.ciphertext, purpose="answer"))}
            for r in rows
        ]

    # escalations -------------------------------------------------------------
    def record_escalation(
        self, *, patient_id: str, escalation_id: str, assessment: Assessment,
        excerpt: Sequence[str], before_consent: bool, safety_mode: bool,
    ) -> None:
        blob = self.crypto.encrypt(patient_id, json.dumps(list(excerpt)), purpose="escalation")
        with session_scope(self.engine) as session:
            row = session.get(Escalation, escalation_id) or Escalation(
                id=escalation_id, patient_id=patient_id, tier=int(assessment.tier),
                detector_version=assessment.detector_version,
            )
            row.tier = max(row.tier, int(assessment.tier))
            row.urgent = row.tier >= 4
            row.categories = ",".join(str(c) for c in assessment.categories)
            row.signals = json.dumps([s.model_dump(mode="json") for s in assessment.signals])
            row.before_consent, row.excerpt, row.safety_mode = before_consent, blob, safety_mode
            session.add(row)
        if self.alerts is not None:  # after the commit, so reviewers never see a record that is not there
            from companion.notify import EscalationEvent

            self.alerts.submit(EscalationEvent.from_escalation(row), patient_id=patient_id)

    def claim_notification(self, escalation_id: str, tier: int) -> bool:
        """Mark an escalation as notified at `tier`; False if that tier or a higher one already was.

        One atomic UPDATE, so two processes re-running the same turn cannot both notify.
        """
        statement = (
            update(Escalation)
            .where(col(Escalation.id) == escalation_id)
            .where((col(Escalation.notified_tier).is_(None)) | (col(Escalation.notified_tier) < tier))
            .values(notified_tier=tier)
        )
        with session_scope(self.engine) as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def in_safety_mode(self, patient_id: str) -> bool:
        with Session(self.engine) as session:
            query = select(Escalation.id).where(Escalation.patient_id == patient_id, Escalation.safety_mode == True)  # noqa: E712
            return session.exec(query).first() is not None

    def clear_safety_mode(self, *, patient_id: str) -> int:
        """Clear safety mode for a patient (a reviewer's action); return how many records changed."""
        with session_scope(self.engine) as session:
            rows = list(session.exec(select(Escalation).where(Escalation.patient_id == patient_id, Escalation.safety_mode == True)))  # noqa: E712
            for row in rows:
                row.safety_mode, row.cleared_at = False, utcnow()
                session.add(row)
            return len(rows)

    def escalations(self, *, patient_id: str) -> list[Escalation]:
        with Session(self.engine) as session:
            return list(session.exec(select(Escalation).where(Escalation.patient_id == patient_id)))

    def escalation_excerpt(self, escalation: Escalation) -> list[str]:
        if escalation.excerpt is None:
            return []
        return list(json.loads(self.crypto.decrypt_text(escalation.patient_id, escalation.excerpt, purpose="escalation")))

    # care team ---------------------------------------------------------------
    def assign_therapist(self, *, patient_id: str, therapist_id: str) -> None:
        """Put a patient in a therapist's care (idempotent)."""
        with session_scope(self.engine) as session:
            _require_role(session, patient_id, Role.PATIENT)
            _require_role(session, therapist_id, Role.THERAPIST)
            if session.get(CareTeam, (patient_id, therapist_id)) is None:
                session.add(CareTeam(patient_id=patient_id, therapist_id=therapist_id))

    def set_notify_url(self, *, user_id: str, url: str | None) -> None:
        """Set (or clear, with None) the apprise URL a therapist is notified at, encrypted.

        The URL may carry a password or token, so it is stored encrypted under the therapist's
        own key (owner `staff:<user id>`), like a TOTP secret.
        """
        if url is not None and (not url.strip() or "://" not in url):
            raise ValueError("a notify URL is an apprise URL (scheme://...), e.g. mailtos://user:pass@example.org")
        if url is not None and len(url) > MAX_NOTIFY_URL:
            raise ValueError(f"a notify URL is at most {MAX_NOTIFY_URL} characters")
        stored = None
        if url is not None:
            blob = self.crypto.encrypt(f"staff:{user_id}", url.strip(), purpose=NOTIFY_URL_PURPOSE)
            stored = ENCRYPTED_URL + base64.b64encode(blob).decode("ascii")
        with session_scope(self.engine) as session:
            user = _require_role(session, user_id, Role.THERAPIST)
            user.notify_url = stored
            session.add(user)

    def has_notify_url(self, user_id: str) -> bool:
        with Session(self.engine) as session:
            user = session.get(User, user_id)
            return user is not None and bool(user.notify_url)

    def therapist_notify_urls(self, patient_id: str) -> list[str]:
        """Return the notify URLs of the patient's active therapists who have one (decrypted)."""
        with Session(self.engine) as session:
            query = (
                select(User.id, User.notify_url)
                .join(CareTeam, col(CareTeam.therapist_id) == col(User.id))
                .where(CareTeam.patient_id == patient_id, User.is_active == True)  # noqa: E712
                .where(col(User.notify_url).is_not(None))
            )
            rows = list(session.exec(query))
        return [self._notify_url(user_id, stored) for user_id, stored in rows if stored]

    def _notify_url(self, user_id: str, stored: str) -> str:
        if not stored.startswith(ENCRYPTED_URL):  # set before URLs were encrypted (schema 0002-0007)
            return stored
        blob = base64.b64decode(stored.removeprefix(ENCRYPTED_URL))
        return self.crypto.decrypt_text(f"staff:{user_id}", blob, purpose=NOTIFY_URL_PURPOSE)

    # transcript --------------------------------------------------------------
    def append_messages(self, *, patient_id: str, turn_id: str, messages: Sequence[tuple[str, str]]) -> None:
        """Store (role, text) pairs of one turn, encrypted, under ids derived from the turn."""
        now = utcnow()
        rows = [
            {
                "id": f"{turn_id}:{index:03d}", "patient_id": patient_id, "role": role, "created_at": now,
                "ciphertext": self.crypto.encrypt(
                    patient_id, json.dumps({"role": role, "text": text}), purpose="message"
                ),
            }
            for index, (role, text) in enumerate(messages)
        ]
        if rows:
            with session_scope(self.engine) as session:
                _upsert(session, Message, rows, keys=("id",), update=("ciphertext",))

    def transcript(self, *, patient_id: str) -> list[dict[str, str]]:
        with Session(self.engine) as session:
            query = select(Message).where(Message.patient_id == patient_id).order_by(col(Message.created_at), col(Message.id))
            rows = list(session.exec(query))
        return [json.loads(self.crypto.decrypt_text(patient_id, r.ciphertext, purpose="message")) for r in rows]


    # assignments -------------------------------------------------------------
    def assign_module(
        self, *, patient_id: str, module_id: str, assigned_by: str | None = None,
        due_date: date | None = None, brief: str = "",
    ) -> None:
        """Assign a module to a patient (or update the assignment), with an encrypted brief."""
        blob = self.crypto.encrypt(patient_id, brief, purpose="brief") if brief else None
        with session_scope(self.engine) as session:
            _require_role(session, patient_id, Role.PATIENT)
            query = select(Assignment).where(Assignment.patient_id == patient_id, Assignment.module_id == module_id)
            row = session.exec(query).first() or Assignment(patient_id=patient_id, module_id=module_id)
            row.assigned_by, row.due_date, row.brief = assigned_by, due_date, blob
            session.add(row)

    def assignments(self, patient_id: str) -> list[dict[str, Any]]:
        """The patient's assigned modules, soonest due first: module_id, due (ISO date or ""), brief."""
        with Session(self.engine) as session:
            rows = list(session.exec(select(Assignment).where(Assignment.patient_id == patient_id)))
        rows.sort(key=lambda r: (r.due_date is None, r.due_date or date.max, r.id or 0))
        return [
            {
                "module_id": r.module_id,
                "due": r.due_date.isoformat() if r.due_date else "",
                "brief": self.crypto.decrypt_text(patient_id, r.brief, purpose="brief") if r.brief else "",
            }
            for r in rows
        ]


def _require_role(session: Session, user_id: str, role: Role) -> User:
    user = session.get(User, user_id)
    if user is None or user.role is not role:
        raise ValueError(f"user {user_id!r} is not a {role.value}; check the id (companion users add --role {role.value})")
    return user
