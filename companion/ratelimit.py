"""Login rate limiting: failed sign-ins counted per account and per client address.

After `COMPANION_LOGIN_MAX_FAILURES` failures within `COMPANION_LOGIN_WINDOW_MINUTES` for the
same username, or from the same address, sign-in pauses until the oldest of them leaves the
window. Failures are rows in the database (so every worker process sees them), keyed by an
HMAC of the username or address with the deployment's session secret: no usernames or
addresses are stored. A successful sign-in clears the account's count.

Note: behind a reverse proxy the address is the proxy's unless uvicorn is started with
`--proxy-headers` and the proxy's address is trusted (`--forwarded-allow-ips`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from companion.db import session_scope
from companion.models import LoginAttempt, as_utc, utcnow
from companion.settings import Settings

__all__ = ["attempt_keys", "clear_failures", "record_failure", "retry_after_seconds"]


def attempt_keys(secret: str, *, username: str, address: str | None) -> list[str]:
    """Return the keys a sign-in attempt counts against: its account and, if known, its address."""
    def mac(kind: str, value: str) -> str:
        digest = hmac.new(secret.encode("utf-8"), f"{kind}:{value}".encode(), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()[:64]}"

    keys = [mac("user", username.strip().lower())]
    if address:
        keys.append(mac("addr", address))
    return keys


def retry_after_seconds(engine: Engine, keys: Sequence[str], settings: Settings,
                        *, now: datetime | None = None) -> int:
    """Return 0 if sign-in may be tried now, else how many seconds until it may."""
    now = now or utcnow()
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    wait = 0
    with Session(engine) as session:
        for key in keys:
            times = session.exec(
                select(LoginAttempt.created_at)
                .where(LoginAttempt.key == key, col(LoginAttempt.created_at) > since)
                .order_by(col(LoginAttempt.created_at).desc())
                .limit(settings.login_max_failures)
            ).all()
            if len(times) >= settings.login_max_failures:
                oldest = as_utc(times[-1])
                wait = max(wait, int((oldest + window - now).total_seconds()) + 1)
    return wait


def record_failure(engine: Engine, keys: Sequence[str]) -> None:
    with session_scope(engine) as session:
        for key in keys:
            session.add(LoginAttempt(key=key))


def clear_failures(engine: Engine, key: str) -> None:
    with session_scope(engine) as session:
        session.exec(delete(LoginAttempt).where(col(LoginAttempt.key) == key))  # type: ignore[call-overload]
