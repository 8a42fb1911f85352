"""Portal sessions and the sign-in rate limit: timeouts, storage, the cookie, deactivation.

Timeouts are tested by moving a session's timestamps back in the database (or by passing
`now`), never by waiting.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from companion import ratelimit
from companion.accounts import create_user
from companion.db import session_scope
from companion.models import LoginAttempt, PortalSession, Role, User, utcnow
from companion.portal.sessions import (
    COOKIE,
    PRE_COOKIE,
    TOUCH_EVERY,
    end_session,
    end_user_sessions,
    load_session,
    start_session,
    token_id,
)
from companion.portal.web import ENDED
from companion.runtime import Runtime
from tests.companion.portal.conftest import (
    BASE_URL,
    PASSWORD,
    People,
    csrf_from,
    sign_in,
    use_session,
)


@pytest.fixture
def client(shared_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(shared_app, base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


def _row(runtime: Runtime, token: str) -> PortalSession | None:
    with Session(runtime.engine) as db:
        return db.get(PortalSession, token_id(token))


def _move_back(runtime: Runtime, token: str, **by: timedelta) -> None:
    """Move the session's `created_at` / `last_seen_at` back by the given amounts."""
    with session_scope(runtime.engine) as db:
        row = db.get(PortalSession, token_id(token))
        assert row is not None
        for name, delta in by.items():
            setattr(row, name, getattr(row, name) - delta)
        db.add(row)


def _new_therapist(runtime: Runtime) -> str:
    with session_scope(runtime.engine) as db:
        return create_user(db, username=f"dr.{secrets.token_hex(4)}", role=Role.THERAPIST, password=PASSWORD).id


# timeouts through the portal ------------------------------------------------------------------

@pytest.mark.parametrize(("reason", "moved"), [
    ("idle", {"last_seen_at": timedelta(minutes=1)}),  # plus the idle limit, below
    ("expired", {"created_at": timedelta(minutes=1)}),  # plus the absolute limit, below
])
def test_an_ended_session_sends_to_sign_in_with_its_notice_and_is_deleted(
    client: TestClient, shared_runtime: Runtime, shared_people: People, reason: str, moved: dict[str, timedelta],
) -> None:
    settings = shared_runtime.settings
    limit = {"idle": timedelta(minutes=settings.portal_idle_minutes),
             "expired": timedelta(hours=settings.portal_absolute_hours)}[reason]
    token = start_session(shared_runtime.engine, user_id=shared_people.reviewer)
    use_session(client, token)
    assert client.get("/portal/escalations").status_code == 200  # live before the clock moves
    _move_back(shared_runtime, token, **{name: delta + limit for name, delta in moved.items()})

    response = client.get("/portal/escalations")

    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/login?next=/portal/escalations&ended={reason}"
    assert _row(shared_runtime, token) is None, "the ended session is still stored"
    cleared = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert cleared and "max-age=0" in cleared[0].lower(), "the ended session's cookie was not cleared"
    notice = client.get(response.headers["location"])
    assert ENDED[reason] in notice.text
    assert 'role="status"' in notice.text


def test_a_session_just_inside_both_limits_still_works_and_is_moved_on(
    client: TestClient, shared_runtime: Runtime, shared_people: People,
) -> None:
    settings = shared_runtime.settings
    token = start_session(shared_runtime.engine, user_id=shared_people.reviewer)
    _move_back(shared_runtime, token,
               last_seen_at=timedelta(minutes=settings.portal_idle_minutes) - timedelta(seconds=30),
               created_at=timedelta(hours=settings.portal_absolute_hours) - timedelta(seconds=30))
    before = _row(shared_runtime, token)
    assert before is not None
    use_session(client, token)
    assert client.get("/portal/escalations").status_code == 200
    after = _row(shared_runtime, token)
    assert after is not None and after.last_seen_at > before.last_seen_at


def test_a_post_after_the_idle_timeout_is_refused_and_signs_nobody_out(
    client: TestClient, shared_runtime: Runtime, shared_people: People,
) -> None:
    token = start_session(shared_runtime.engine, user_id=shared_people.reviewer)
    use_session(client, token)
    csrf = csrf_from(client.get("/portal/escalations").text)
    _move_back(shared_runtime, token, last_seen_at=timedelta(minutes=shared_runtime.settings.portal_idle_minutes + 1))
    response = client.post("/portal/logout", data={"csrf_token": csrf})
    assert response.status_code == 403  # the form's token died with its session
    assert _row(shared_runtime, token) is None


def test_a_form_sent_after_the_idle_timeout_says_why_and_drops_the_cookie(
    client: TestClient, shared_runtime: Runtime, shared_people: People,
) -> None:
    token = start_session(shared_runtime.engine, user_id=shared_people.reviewer)
    use_session(client, token)
    csrf = csrf_from(client.get("/portal/escalations").text)
    _move_back(shared_runtime, token, last_seen_at=timedelta(minutes=shared_runtime.settings.portal_idle_minutes + 1))
    response = client.post("/portal/invites", data={"csrf_token": csrf})
    assert response.status_code == 403
    assert "signed out after a period without activity" in response.text
    assert "form has expired" not in response.text
    cleared = [c for c in response.headers.get_list("set-cookie") if c.startswith("companion_portal=")]
    assert cleared and "max-age=0" in cleared[0].lower()


# deactivation ------------------------------------------------------------------------------------

def test_deactivating_an_account_ends_its_live_session_at_once(
    shared_app: FastAPI, shared_runtime: Runtime, shared_people: People,
) -> None:
    target = _new_therapist(shared_runtime)
    with (TestClient(shared_app, base_url=BASE_URL, follow_redirects=False) as them,
          TestClient(shared_app, base_url=BASE_URL, follow_redirects=False) as admin):
        use_session(them, start_session(shared_runtime.engine, user_id=target))
        use_session(them, start_session(shared_runtime.engine, user_id=target))  # a second device
        assert them.get("/portal/patients").status_code == 200
        use_session(admin, start_session(shared_runtime.engine, user_id=shared_people.admin))
        csrf = csrf_from(admin.get("/portal/users").text)
        done = admin.post(f"/portal/users/{target}/deactivate", data={"csrf_token": csrf})
        assert done.status_code == 303, done.text[:300]
        with Session(shared_runtime.engine) as db:
            assert not db.exec(select(PortalSession).where(PortalSession.user_id == target)).all()
        response = them.get("/portal/patients")
        assert response.status_code == 303 and response.headers["location"].startswith("/portal/login?")


def test_a_switched_off_account_is_signed_out_even_if_its_session_row_survived(
    client: TestClient, shared_runtime: Runtime,
) -> None:
    target = _new_therapist(shared_runtime)
    token = start_session(shared_runtime.engine, user_id=target)
    use_session(client, token)
    assert client.get("/portal/patients").status_code == 200
    with session_scope(shared_runtime.engine) as db:
        user = db.get(User, target)
        assert user is not None
        user.is_active = False
        db.add(user)
    response = client.get("/portal/patients")
    assert response.headers["location"] == "/portal/login?next=/portal/patients&ended=inactive"
    assert _row(shared_runtime, token) is None
    assert ENDED["inactive"] in client.get(response.headers["location"]).text


# the cookie ------------------------------------------------------------------------------------

def _attributes(set_cookie: str) -> dict[str, str]:
    parts = [p.strip() for p in set_cookie.split(";")]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts[1:]}


def test_the_session_cookie_is_secure_httponly_strict_scoped_and_capped(
    client: TestClient, shared_runtime: Runtime, shared_people: People,
) -> None:
    page = client.get("/portal/login")
    pre = next(c for c in page.headers.get_list("set-cookie") if c.startswith(f"{PRE_COOKIE}="))
    pre_attrs = _attributes(pre)
    assert {"secure", "httponly"} <= set(pre_attrs) and pre_attrs["samesite"].lower() == "strict"
    assert pre_attrs["path"] == "/portal"

    response = client.post("/portal/login", data={"username": "rev.cy", "password": PASSWORD,
                                                   "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    attrs = _attributes(cookie)
    assert {"secure", "httponly"} <= set(attrs)
    assert attrs["samesite"].lower() == "strict" and attrs["path"] == "/portal"
    assert int(attrs["max-age"]) == shared_runtime.settings.portal_absolute_hours * 3600
    assert "domain" not in attrs  # host-only


def test_sign_out_clears_the_cookie(client: TestClient, shared_people: People) -> None:
    sign_in(client, "rev.cy")
    out = client.post("/portal/logout", data={"csrf_token": csrf_from(client.get("/portal/escalations").text)})
    cleared = next(c for c in out.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert _attributes(cleared)["max-age"] == "0"
    assert COOKIE not in client.cookies


# sessions.py ----------------------------------------------------------------------------------------

def test_the_database_holds_only_the_tokens_hash(shared_runtime: Runtime, shared_people: People) -> None:
    token = start_session(shared_runtime.engine, user_id=shared_people.admin)
    row = _row(shared_runtime, token)
    assert row is not None
    assert row.id == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(row.model_dump())
    assert row.csrf_token != token and len(token) >= 43  # 32 random bytes
    with Session(shared_runtime.engine) as db:
        assert all(token not in repr(r.model_dump()) for r in db.exec(select(PortalSession)).all())


def test_load_session_ends_idle_expired_and_inactive_sessions(shared_runtime: Runtime, shared_people: People) -> None:
    engine, settings = shared_runtime.engine, shared_runtime.settings
    now = utcnow()
    idle = timedelta(minutes=settings.portal_idle_minutes)
    absolute = timedelta(hours=settings.portal_absolute_hours)
    assert load_session(engine, None, settings) == (None, None)
    assert load_session(engine, "no-such-token", settings) == (None, None)

    token = start_session(engine, user_id=shared_people.reviewer)
    live, ended = load_session(engine, token, settings, now=now + idle - timedelta(seconds=1))
    assert ended is None and live is not None and live.role is Role.REVIEWER and live.username == "rev.cy"
    # last_seen moved on, so the idle clock restarts from there; the absolute clock does not
    still, _ = load_session(engine, token, settings, now=now + 2 * idle - timedelta(seconds=2))
    assert still is not None
    assert load_session(engine, token, settings, now=now + absolute + timedelta(seconds=1)) == (None, "expired")
    assert _row(shared_runtime, token) is None

    token = start_session(engine, user_id=shared_people.reviewer)
    assert load_session(engine, token, settings, now=now + idle + timedelta(seconds=1)) == (None, "idle")
    assert _row(shared_runtime, token) is None

    pending = start_session(engine, user_id=shared_people.reviewer, second_factor_pending=True)
    waiting, _ = load_session(engine, pending, settings)
    assert waiting is not None and waiting.second_factor_pending


def test_load_session_writes_last_seen_at_most_every_touch_interval(
    shared_runtime: Runtime, shared_people: People,
) -> None:
    engine, settings = shared_runtime.engine, shared_runtime.settings
    token = start_session(engine, user_id=shared_people.reviewer)
    first = _row(shared_runtime, token)
    assert first is not None
    load_session(engine, token, settings, now=first.last_seen_at + TOUCH_EVERY / 2)
    unchanged = _row(shared_runtime, token)
    assert unchanged is not None and unchanged.last_seen_at == first.last_seen_at
    later = first.last_seen_at + TOUCH_EVERY * 2
    load_session(engine, token, settings, now=later)
    moved = _row(shared_runtime, token)
    assert moved is not None and moved.last_seen_at == later


def test_end_user_sessions_ends_all_but_the_one_kept(shared_runtime: Runtime) -> None:
    engine = shared_runtime.engine
    user, other = _new_therapist(shared_runtime), _new_therapist(shared_runtime)
    tokens = [start_session(engine, user_id=user) for _ in range(3)]
    bystander = start_session(engine, user_id=other)
    assert end_user_sessions(engine, user, keep=token_id(tokens[0])) == 2
    assert _row(shared_runtime, tokens[0]) is not None
    assert _row(shared_runtime, tokens[1]) is None and _row(shared_runtime, tokens[2]) is None
    assert _row(shared_runtime, bystander) is not None
    assert end_user_sessions(engine, user) == 1
    assert end_user_sessions(engine, user) == 0
    end_session(engine, token_id(bystander))
    assert _row(shared_runtime, bystander) is None


# ratelimit.py ---------------------------------------------------------------------------------------

SECRET = "s" * 48


def test_attempt_keys_are_keyed_hashes_without_the_username_or_address() -> None:
    keys = ratelimit.attempt_keys(SECRET, username="  Dr.Ada ", address="203.0.113.7")
    assert [k.split(":")[0] for k in keys] == ["user", "addr"]
    assert keys == ratelimit.attempt_keys(SECRET, username="dr.ada", address="203.0.113.7")  # trimmed, any case
    for key in keys:
        assert "ada" not in key.lower() and "203.0.113" not in key and len(key) <= 80
    assert keys[0] != ratelimit.attempt_keys("t" * 48, username="dr.ada", address=None)[0], "not keyed"
    assert ratelimit.attempt_keys(SECRET, username="dr.ada", address=None) == keys[:1]
    assert keys[0] != ratelimit.attempt_keys(SECRET, username="dr.bo", address="203.0.113.7")[0]
    assert keys[1] == ratelimit.attempt_keys(SECRET, username="dr.bo", address="203.0.113.7")[1]


def _fail(runtime: Runtime, username: str, address: str, times: int) -> list[str]:
    keys = ratelimit.attempt_keys(SECRET, username=username, address=address)
    for _ in range(times):
        ratelimit.record_failure(runtime.engine, keys)
    return keys


def test_failures_pause_an_account_from_any_address(shared_runtime: Runtime) -> None:
    settings, name = shared_runtime.settings, f"acct-{secrets.token_hex(3)}"
    for n in range(settings.login_max_failures - 1):
        _fail(shared_runtime, name, f"198.51.100.{n}", 1)
    keys = ratelimit.attempt_keys(SECRET, username=name, address="198.51.100.200")
    assert ratelimit.retry_after_seconds(shared_runtime.engine, keys, settings) == 0
    _fail(shared_runtime, name, "198.51.100.99", 1)
    wait = ratelimit.retry_after_seconds(shared_runtime.engine, keys, settings)
    assert 0 < wait <= settings.login_window_minutes * 60 + 1


def test_failures_pause_an_address_across_accounts(shared_runtime: Runtime) -> None:
    settings, address = shared_runtime.settings, f"192.0.2.{secrets.randbelow(250)}"
    tag = secrets.token_hex(3)
    for n in range(settings.login_max_failures):
        _fail(shared_runtime, f"guess-{tag}-{n}", address, 1)
    fresh_name = ratelimit.attempt_keys(SECRET, username=f"someone-{tag}", address=address)
    assert ratelimit.retry_after_seconds(shared_runtime.engine, fresh_name, settings) > 0
    elsewhere = ratelimit.attempt_keys(SECRET, username=f"someone-{tag}", address="2001:db8::1")
    assert ratelimit.retry_after_seconds(shared_runtime.engine, elsewhere, settings) == 0


def test_failures_leave_the_window_and_success_clears_the_account(shared_runtime: Runtime) -> None:
    settings, engine = shared_runtime.settings, shared_runtime.engine
    keys = _fail(shared_runtime, f"win-{secrets.token_hex(3)}", "233.252.0.1", settings.login_max_failures)
    assert ratelimit.retry_after_seconds(engine, keys, settings) > 0
    window = timedelta(minutes=settings.login_window_minutes)
    assert ratelimit.retry_after_seconds(engine, keys, settings, now=utcnow() + window + timedelta(seconds=1)) == 0
    ratelimit.clear_failures(engine, keys[0])
    assert ratelimit.retry_after_seconds(engine, keys[:1], settings) == 0
    assert ratelimit.retry_after_seconds(engine, keys[1:], settings) > 0  # the address still counts
    with Session(engine) as db:
        stored = {row.key for row in db.exec(select(LoginAttempt)).all()}
    assert all(k.startswith(("user:", "addr:")) and "win-" not in k for k in stored)
