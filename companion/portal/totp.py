"""The optional TOTP second factor for staff (RFC 6238 through pyotp).

The secret is encrypted at rest with the data key of owner `staff:<user id>`, like patient
text but under a key of its own. The set-up page shows it as text and as a QR code drawn on
the server (segno, SVG), so nothing is fetched from another host. A code is accepted once:
the time step of the last accepted code is stored, and that code or an older one is refused.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import pyotp
import segno
from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, update

from companion.crypto import PatientCrypto
from companion.db import session_scope
from companion.models import User

__all__ = [
    "code_matches", "disable", "enable", "matching_step", "new_secret", "provisioning_svg", "provisioning_uri", "verify",
]

ISSUER = "Companion"
PURPOSE = "totp"


def _owner(user_id: str) -> str:
    return f"staff:{user_id}"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def provisioning_svg(secret: str, username: str) -> str:
    """The set-up QR code as an inline SVG data URI (allowed by the CSP's `img-src data:`)."""
    qr = segno.make(provisioning_uri(secret, username), error="m")
    return str(qr.svg_data_uri(scale=5, border=2))


def matching_step(secret: str, code: str, *, at: datetime | None = None) -> int | None:
    """The time step whose code `code` is: the current one or a neighbour (30 s each way), else None."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = at or datetime.now(UTC)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), digits):
            return int(totp.timecode(now)) + offset
    return None


def code_matches(secret: str, code: str) -> bool:
    """Accept the current code and its neighbours (30 s each way) for clock drift."""
    return matching_step(secret, code) is not None


def enable(engine: Engine, crypto: PatientCrypto, *, user_id: str, secret: str) -> None:
    blob = crypto.encrypt(_owner(user_id), secret, purpose=PURPOSE)
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        user.totp_secret = blob
        user.totp_last_step = None
        session.add(user)


def disable(engine: Engine, *, user_id: str) -> None:
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        if user is not None:
            user.totp_secret = None
            session.add(user)


def verify(engine: Engine, crypto: PatientCrypto, *, user_id: str, code: str) -> bool:
    """Check `code` against the user's stored secret, once: a code already accepted is refused.

    The accepted time step is recorded with a conditional update, so of two concurrent uses of
    one code only one succeeds. False when the user has no second factor.
    """
    with Session(engine) as session:
        user = session.get(User, user_id)
        blob = None if user is None else user.totp_secret
    if blob is None:
        return False
    step = matching_step(crypto.decrypt_text(_owner(user_id), blob, purpose=PURPOSE), code)
    if step is None:
        return False
    claim = (
        update(User)
        .where(col(User.id) == user_id)
        .where(or_(col(User.totp_last_step).is_(None), col(User.totp_last_step) < step))
        .values(totp_last_step=step)
    )
    with session_scope(engine) as session:
        return bool(session.execute(claim).rowcount)  # type: ignore[attr-defined]
