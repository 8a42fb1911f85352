"""The optional TOTP second factor for staff (RFC 6238 through pyotp).

The secret is encrypted at rest with the data key of owner `staff:<user id>`, like patient
text but under a key of its own. The set-up page shows it as text and as a QR code drawn on
the server (segno, SVG), so nothing is fetched from another host.
"""

from __future__ import annotations

import pyotp
import segno
from sqlalchemy.engine import Engine
from sqlmodel import Session

from companion.crypto import PatientCrypto
from companion.db import session_scope
from companion.models import User

__all__ = ["disable", "enable", "new_secret", "provisioning_svg", "provisioning_uri", "verify"]

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


def code_matches(secret: str, code: str) -> bool:
    """Accept the current code and its neighbours (30 s each way) for clock drift."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return len(digits) == 6 and pyotp.TOTP(secret).verify(digits, valid_window=1)


def enable(engine: Engine, crypto: PatientCrypto, *, user_id: str, secret: str) -> None:
    blob = crypto.encrypt(_owner(user_id), secret, purpose=PURPOSE)
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        user.totp_secret = blob
        session.add(user)


def disable(engine: Engine, *, user_id: str) -> None:
    with session_scope(engine) as session:
        user = session.get(User, user_id)
        if user is not None:
            user.totp_secret = None
            session.add(user)


def verify(engine: Engine, crypto: PatientCrypto, *, user_id: str, code: str) -> bool:
    """Check `code` against the user's stored secret; False when they have none."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        blob = None if user is None else user.totp_secret
    if blob is None:
        return False
    secret = crypto.decrypt_text(_owner(user_id), blob, purpose=PURPOSE)
    return code_matches(secret, code)
