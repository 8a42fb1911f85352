"""Portal sessions: a random token in a cookie, its SHA-256 in the database, two timeouts.

The cookie is `Secure; HttpOnly; SameSite=Strict; Path=/portal`. A session ends after
`COMPANION_PORTAL_IDLE_MINUTES` without a request or `COMPANION_PORTAL_ABSOLUTE_HOURS` after
sign-in, whichever comes first, and at once when the account is deactivated or its password
changes. Each session carries its own CSRF token. A session can wait for its second factor
(`second_factor_pending`): then only the code page is open.

Visitors who are not signed in get a separate CSRF cookie (double submit) so the sign-in and
invitation forms are protected too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from companion.db import session_scope
from companion.models import PortalSession, Role, User, as_utc, utcnow
from companion.settings import Settings

__all__ = [
    "COOKIE",
    "PRE_COOKIE",
    "ActiveSession",
    "end_session",
    "end_user_sessions",
    "load_session",
    "new_token",
    "start_session",
    "token_id",
]

COOKIE = "companion_portal"
PRE_COOKIE = "companion_portal_csrf"
#: Write `last_seen_at` at most this often (a page with several requests writes once).
TOUCH_EVERY = timedelta(seconds=20)


@dataclass(frozen=True)
class ActiveSession:
    """The signed-in user behind a request, as the portal sees them."""

    session_id: str
    user_id: str
    username: str
    role: Role
    csrf_token: str
    second_factor_pending: bool
    has_second_factor: bool


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    """The stored id of a session token (its SHA-256, hex): the database never holds the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, *, user_id: str, second_factor_pending: bool = False) -> str:
    """Create a session for `user_id` and return the token for its cookie."""
    token = new_token()
    with session_scope(engine) as session:
        session.add(PortalSession(
            id=token_id(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
            second_factor_pending=second_factor_pending,
        ))
    return token


def load_session(engine: Engine, token: str | None, settings: Settings,
                 *, now: datetime | None = None) -> tuple[ActiveSession | None, str | None]:
    """Return the live session for `token`, or None and why it ended ("idle", "expired", "inactive").

    An ended session is deleted. A live one has its `last_seen_at` moved on.
    """
    if not token:
        return None, None
    now = now or utcnow()
    sid = token_id(token)
    with session_scope(engine) as session:
        row = session.get(PortalSession, sid)
        if row is None:
            return None, None
        user = session.get(User, row.user_id)
        reason = None
        if user is None or not user.is_active:
            reason = "inactive"
        elif now - as_utc(row.created_at) > timedelta(hours=settings.portal_absolute_hours):
            reason = "expired"
        elif now - as_utc(row.last_seen_at) > timedelta(minutes=settings.portal_idle_minutes):
            reason = "idle"
        if reason is not None:
            session.delete(row)
            return None, reason
        assert user is not None
        if now - as_utc(row.last_seen_at) > TOUCH_EVERY:
            row.last_seen_at = now
            session.add(row)
        return ActiveSession(
            session_id=sid, user_id=user.id, username=user.username, role=user.role,
            csrf_token=row.csrf_token, second_factor_pending=row.second_factor_pending,
            has_second_factor=user.totp_secret is not None,
        ), None


def end_session(engine: Engine, session_id: str) -> None:
    with session_scope(engine) as session:
        session.exec(delete(PortalSession).where(col(PortalSession.id) == session_id))  # type: ignore[call-overload]


def end_user_sessions(engine: Engine, user_id: str, *, keep: str | None = None) -> int:
    """End every session of `user_id` (except `keep`); return how many ended."""
    with session_scope(engine) as session:
        rows = session.exec(select(PortalSession).where(PortalSession.user_id == user_id)).all()
        ended = [r for r in rows if r.id != keep]
        for row in ended:
            session.delete(row)
        return len(ended)


def count_sessions(engine: Engine, user_id: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(PortalSession.id).where(PortalSession.user_id == user_id)).all())
