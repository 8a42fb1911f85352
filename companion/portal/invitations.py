"""Invitation codes: a therapist creates one, a patient redeems it once, the therapist may revoke it.

The code is 32 random bytes (256 bits, URL-safe text) shown to the therapist once; only its
SHA-256 is stored, as `Invite.id`. The therapist's reference for the person (e.g. initials) is
encrypted with owner `staff:<therapist id>`. Redeeming claims the invite with one conditional
UPDATE (unused, not revoked, not expired) and creates the patient's account and care-team link
in the same transaction, so a second or concurrent use of the same code creates nothing. The
reference is then copied into `CareTeam.reference`, encrypted with the patient's own key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from companion import audit
from companion.accounts import (
    MIN_PASSWORD_LENGTH,
    DuplicateUsernameError,
    create_user,
    validate_username,
)
from companion.crypto import PatientCrypto
from companion.db import session_scope
from companion.logging import get_logger
from companion.models import CareTeam, Invite, Role, User, as_utc, utcnow

__all__ = [
    "INVITE_PURPOSE",
    "REFERENCE_PURPOSE",
    "CreatedInvite",
    "InviteStatus",
    "InviteUnusable",
    "InviteView",
    "JoinProblem",
    "clean_text",
    "code_id",
    "create_invite",
    "invite_for_code",
    "list_invites",
    "redeem_invite",
    "revoke_invite",
]

log = get_logger("companion.portal.invitations")

#: Encryption purposes: the invite's reference (staff key) and the care team's reference (patient key).
INVITE_PURPOSE = "invite_reference"
REFERENCE_PURPOSE = "care_team_reference"


class InviteStatus(StrEnum):
    WAITING = "waiting"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class InviteUnusable(Exception):
    """The code is unknown, used, expired or revoked (the page says the same for each)."""


class JoinProblem(ValueError):
    """The chosen username or password does not meet the rules; the message says how to fix it."""


@dataclass(frozen=True)
class CreatedInvite:
    code: str  # shown once, never stored
    invite_id: str
    expires_at: datetime


@dataclass(frozen=True)
class InviteView:
    invite_id: str
    reference: str
    created_at: datetime
    expires_at: datetime
    status: InviteStatus


#: Text over a limit is shown again for editing, up to this many times the limit.
SHOW_AGAIN = 10
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(value: str, *, label: str, limit: int, multiline: bool = False) -> tuple[str, str | None]:
    """Apply the form rules for free text; return the text to keep (or show again) and a problem, if any.

    Control and direction-override characters are taken out (and the writer told); text over
    `limit` characters is returned whole with a problem, so nothing typed is lost.
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    cleaned = _UNSTORABLE.sub("", text).strip()
    if len(cleaned) > limit:
        shown = cleaned[: limit * SHOW_AGAIN]  # what was typed comes back, within reason
        return shown, (f"The {label} is {len(cleaned)} characters long; the limit is {limit}. "
                       "Shorten it and save again.")
    if cleaned != text.strip():
        return cleaned, (f"The {label} had control characters, which cannot be stored. They have been "
                         "taken out below: check the text and save again.")
    return cleaned, None


def code_id(code: str) -> str:
    """The stored id of an invitation code: its SHA-256, hex."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def staff_owner(therapist_id: str) -> str:
    return f"staff:{therapist_id}"


def status_of(invite: Invite, now: datetime) -> InviteStatus:
    if invite.revoked_at is not None:
        return InviteStatus.REVOKED
    if invite.used_at is not None:
        return InviteStatus.USED
    if as_utc(invite.expires_at) <= now:
        return InviteStatus.EXPIRED
    return InviteStatus.WAITING


def create_invite(engine: Engine, crypto: PatientCrypto, *, therapist_id: str, reference: str,
                  valid_days: int, now: datetime | None = None) -> CreatedInvite:
    """Create a single-use invitation and return its code (the only time it exists in plaintext)."""
    now = now or utcnow()
    code = secrets.token_urlsafe(32)
    blob = crypto.encrypt(staff_owner(therapist_id), reference, purpose=INVITE_PURPOSE) if reference else None
    invite = Invite(id=code_id(code), therapist_id=therapist_id, reference=blob, created_at=now,
                    expires_at=now + timedelta(days=valid_days))
    with session_scope(engine) as db:
        db.add(invite)
    return CreatedInvite(code=code, invite_id=invite.id, expires_at=invite.expires_at)


def list_invites(engine: Engine, crypto: PatientCrypto, *, therapist_id: str,
                 now: datetime | None = None) -> list[InviteView]:
    """The therapist's invitations, newest first, with their references decrypted (audited first)."""
    now = now or utcnow()
    with Session(engine) as db:
        rows = list(db.exec(select(Invite).where(Invite.therapist_id == therapist_id)
                            .order_by(col(Invite.created_at).desc())))
    if any(r.reference for r in rows):
        audit.record(engine, actor=therapist_id, action="read.invite_references", target=f"{len(rows)} invites")
    owner = staff_owner(therapist_id)
    return [
        InviteView(
            invite_id=r.id, created_at=as_utc(r.created_at), expires_at=as_utc(r.expires_at), status=status_of(r, now),
            reference=crypto.decrypt_text(owner, r.reference, purpose=INVITE_PURPOSE) if r.reference else "",
        )
        for r in rows
    ]


def revoke_invite(engine: Engine, *, invite_id: str, therapist_id: str, now: datetime | None = None) -> bool:
    """Revoke a waiting invitation; False if it was already used or revoked."""
    statement = (
        update(Invite)
        .where(col(Invite.id) == invite_id, col(Invite.therapist_id) == therapist_id)
        .where(col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None))
        .values(revoked_at=now or utcnow())
    )
    with session_scope(engine) as db:
        return bool(db.execute(statement).rowcount)  # type: ignore[attr-defined]


def invite_for_code(engine: Engine, code: str, *, now: datetime | None = None) -> Invite:
    """The waiting invitation behind `code`, whose therapist is still active.

    Raises:
        InviteUnusable: unknown, used, expired or revoked, or the therapist's account is off.
    """
    now = now or utcnow()
    if not code or len(code) > 200:
        raise InviteUnusable()
    with Session(engine) as db:
        invite = db.get(Invite, code_id(code))
        if invite is None or status_of(invite, now) is not InviteStatus.WAITING:
            raise InviteUnusable()
        therapist = db.get(User, invite.therapist_id)
        if therapist is None or not therapist.is_active or therapist.role is not Role.THERAPIST:
            raise InviteUnusable()
        return invite


def check_new_account(username: str, password: str, repeated: str) -> str:
    """Apply the account rules before anything is written; return the cleaned username.

    Raises:
        JoinProblem: with a message that says what to change.
    """
    try:
        name = validate_username(username)
    except ValueError as error:
        raise JoinProblem(f"Choose another username: {error}.") from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise JoinProblem(f"Your password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        raise JoinProblem("Your password is too long: use at most 1024 characters.")
    if password != repeated:
        raise JoinProblem("The two passwords are not the same. Type the same password in both boxes.")
    return name


def redeem_invite(engine: Engine, crypto: PatientCrypto, *, code: str, username: str, password: str,
                  repeated: str, now: datetime | None = None) -> str:
    """Create the patient's account from an invitation, once; return the new patient's id.

    Raises:
        JoinProblem: the username or password breaks the rules, or the username is taken.
        InviteUnusable: the code is unknown, used, expired or revoked (including by a concurrent use).
    """
    now = now or utcnow()
    name = check_new_account(username, password, repeated)
    invite = invite_for_code(engine, code, now=now)
    therapist_id = invite.therapist_id
    reference = (crypto.decrypt_text(staff_owner(therapist_id), invite.reference, purpose=INVITE_PURPOSE)
                 if invite.reference else "")
    claim = (
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None))
        .where(col(Invite.expires_at) > now)
        .values(used_at=now)
    )
    try:
        with session_scope(engine) as db:
            if not db.execute(claim).rowcount:  # type: ignore[attr-defined]
                raise InviteUnusable()
            user = create_user(db, username=name, role=Role.PATIENT, password=password)
            db.execute(update(Invite).where(col(Invite.id) == invite.id).values(patient_id=user.id))
            db.add(CareTeam(patient_id=user.id, therapist_id=therapist_id))
    except DuplicateUsernameError:
        raise JoinProblem("That username is already taken. Choose another one.") from None
    except IntegrityError:  # the same username chosen at the same moment through another invitation
        raise JoinProblem("That username is already taken. Choose another one.") from None
    if reference:  # the patient's own key exists only now; the account works even if this fails
        try:
            blob = crypto.encrypt(user.id, reference, purpose=REFERENCE_PURPOSE)
            with session_scope(engine) as db:
                row = db.get(CareTeam, (user.id, therapist_id))
                if row is not None:
                    row.reference = blob
                    db.add(row)
        except Exception as error:  # noqa: BLE001 - the account exists; the reference can be set again
            log.error("invite_reference_not_copied", patient_id=user.id, error=type(error).__name__)
    log.info("invite_redeemed", patient_id=user.id, user_id=therapist_id)
    return user.id
