"""Database tables (SQLModel). Patient text only ever appears here as AES-GCM ciphertext.

Families follow the full-stack-fastapi-template habit: `UserBase` / `User(table=True)` /
`UserPublic`. Ids are opaque random or derived strings, never built from patient text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "Assignment",
    "AuditEntry",
    "CareTeam",
    "Consent",
    "DataKey",
    "Escalation",
    "EscalationAction",
    "EscalationActionKind",
    "EscalationStatus",
    "ExerciseAnswer",
    "Invite",
    "LoginAttempt",
    "Message",
    "PortalSession",
    "ReviewerLabel",
    "ReviewerLabelCreate",
    "ReviewerLabelPublic",
    "Role",
    "User",
    "UserPublic",
    "as_utc",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives them back naive; they are stored as UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Role(StrEnum):
    PATIENT = "patient"
    THERAPIST = "therapist"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, min_length=1, max_length=64)
    role: Role
    is_active: bool = True


class User(UserBase, table=True):
    id: str = Field(primary_key=True, max_length=36)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    #: A therapist's own apprise URL for risk notifications about their patients (may hold a token).
    notify_url: str | None = Field(default=None, max_length=2000)
    #: Staff TOTP secret, encrypted with the data key of owner `staff:<user id>`; None = no second factor.
    totp_secret: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: The time step of the last TOTP code accepted, so a code cannot be used twice.
    totp_last_step: int | None = None


class UserPublic(UserBase):
    id: str


class DataKey(SQLModel, table=True):
    """A patient's data-encryption key, wrapped by the key-encryption key `kek_id`.

    Deleting the row crypto-shreds everything encrypted for that patient.
    """

    owner_id: str = Field(primary_key=True, max_length=64)
    kek_id: str = Field(max_length=64)
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Consent(SQLModel, table=True):
    """One consent decision of a patient for one version of the consent text."""

    __table_args__ = (UniqueConstraint("patient_id", "version", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: str = Field(index=True, max_length=36)
    version: str = Field(max_length=64)
    scope: str = Field(max_length=32)
    given_at: datetime = Field(default_factory=utcnow)
    withdrawn_at: datetime | None = None


class Message(SQLModel, table=True):
    """One transcript message, encrypted with the patient's data key."""

    id: str = Field(primary_key=True, max_length=80)  # deterministic: turn id + role + index
    patient_id: str = Field(index=True, max_length=36)
    role: str = Field(max_length=16)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ExerciseAnswer(SQLModel, table=True):
    """A patient's answer to one module step, encrypted."""

    __table_args__ = (UniqueConstraint("patient_id", "run_id", "step_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: str = Field(index=True, max_length=36)
    run_id: str = Field(max_length=64)  # one run of a module
    module_id: str = Field(max_length=64)
    module_version: str = Field(max_length=32)
    step_id: str = Field(max_length=64)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    completed: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CONTACTED = "contacted"
    RESOLVED = "resolved"


class Escalation(SQLModel, table=True):
    """A risk event for reviewers. The excerpt is encrypted; tier, categories and signals are not patient text."""

    id: str = Field(primary_key=True, max_length=80)  # deterministic from the turn
    patient_id: str = Field(index=True, max_length=36)
    tier: int = Field(index=True)
    urgent: bool = False
    categories: str = Field(default="", max_length=400)  # comma-separated Category values
    signals: str = Field(default="", max_length=4000)  # JSON list of Signal dumps
    detector_version: str = Field(max_length=200)
    before_consent: bool = False
    excerpt: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: EscalationStatus = Field(default=EscalationStatus.OPEN, index=True)
    safety_mode: bool = True  # the conversation stays in safety mode until a reviewer clears it
    created_at: datetime = Field(default_factory=utcnow, index=True)
    cleared_at: datetime | None = None
    #: Highest tier the care team has been notified about (claimed before sending; never twice).
    notified_tier: int | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


class CareTeam(SQLModel, table=True):
    """Which therapist looks after which patient (a patient may have more than one)."""

    patient_id: str = Field(primary_key=True, foreign_key="user.id", max_length=36)
    therapist_id: str = Field(primary_key=True, foreign_key="user.id", index=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow)
    #: The therapist's own reference for the patient (e.g. initials), encrypted with the patient's key.
    reference: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: Date of the last therapy session, for the pre-session summary ("since last session").
    last_session_on: date | None = None


class ReviewerLabelBase(SQLModel):
    """A reviewer's judgement of one escalation: was the detector right, and what was the tier."""

    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=80)
    reviewer_id: str = Field(foreign_key="user.id", max_length=36)
    is_true_positive: bool
    correct_tier: int = Field(ge=0, le=5)
    correct_categories: str = Field(default="", max_length=400)  # comma-separated Category values


class ReviewerLabelCreate(ReviewerLabelBase):
    note: str = Field(default="", max_length=4000)  # plaintext only in memory; stored encrypted


class ReviewerLabel(ReviewerLabelBase, table=True):
    """A stored label; the note is encrypted with the patient's data key (it may quote them)."""

    id: int | None = Field(default=None, primary_key=True)
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ReviewerLabelPublic(ReviewerLabelBase):
    id: int
    note: str
    created_at: datetime


class Assignment(SQLModel, table=True):
    """A module a therapist assigned to a patient, with a due date and a brief (encrypted).

    The brief (goals, preferences, things to avoid) shapes the wording of the module's steps.
    """

    __table_args__ = (UniqueConstraint("patient_id", "module_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    module_id: str = Field(max_length=64)
    assigned_by: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    due_date: date | None = None
    brief: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """One entry of the append-only, hash-chained audit log of reads of patient data (see `companion.audit`).

    No patient text: who (actor), what (action), whose data (patient id) and which record (target id).
    `hash` is SHA-256 over the canonical JSON of the other fields, `prev_hash` included.
    """

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    patient_id: str | None = Field(default=None, index=True, max_length=36)
    target: str | None = Field(default=None, max_length=200)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(unique=True, max_length=64)


class PortalSession(SQLModel, table=True):
    """A signed-in portal session. The cookie holds a random token; only its SHA-256 is stored."""

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie token
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    #: Password checked, TOTP code still to come: only the second-factor page is open.
    second_factor_pending: bool = False


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in, for rate limiting. Username and address are stored as keyed hashes."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, max_length=80)  # "user:<hash>" or "addr:<hash>"
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Invite(SQLModel, table=True):
    """A single-use invitation a therapist gives a patient. Only the code's SHA-256 is stored."""

    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the code
    therapist_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    #: The therapist's reference for the person invited, encrypted with owner `staff:<therapist id>`.
    reference: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    patient_id: str | None = Field(default=None, foreign_key="user.id", max_length=36)


class EscalationActionKind(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    CONTACT_ATTEMPT = "contact_attempt"
    RESOLVED = "resolved"
    SAFETY_MODE_CLEARED = "safety_mode_cleared"
    LABELLED = "labelled"


class EscalationAction(SQLModel, table=True):
    """What a reviewer did about an escalation; the note is encrypted with the patient's key."""

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: str = Field(foreign_key="escalation.id", index=True, max_length=80)
    actor_id: str = Field(foreign_key="user.id", max_length=36)
    kind: EscalationActionKind
    outcome: str = Field(default="", max_length=32)  # contact attempts: reached, no_answer, ...
    note: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, index=True)
