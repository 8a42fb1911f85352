"""The chat sign-in (`ChatService.authenticate`) shares the portal's database-backed rate limit."""

from __future__ import annotations

from sqlmodel import Session, select

from companion.models import LoginAttempt
from tests.support_service import ChatHarness

RIGHT = "a-long-test-password"  # the harness patient's password


def failures(chat: ChatHarness) -> int:
    with Session(chat.runtime.engine) as session:
        return len(session.exec(select(LoginAttempt)).all())


def test_after_the_limit_even_the_right_password_is_refused(chat: ChatHarness) -> None:
    limit = chat.settings.login_max_failures
    for _ in range(limit):
        assert chat.service.authenticate(chat.username, "wrong password here") is None
    assert failures(chat) == limit  # one row per failure, keyed by an HMAC of the username only
    assert chat.service.authenticate(chat.username, RIGHT) is None
    assert chat.service.authenticate(f"  {chat.username.upper()} ", RIGHT) is None  # same key however typed
    assert failures(chat) == limit  # a refused attempt while paused is not counted again
    with Session(chat.runtime.engine) as session:
        keys = {row.key for row in session.exec(select(LoginAttempt))}
    assert all(key.startswith("user:") and chat.username not in key for key in keys)


def test_a_success_clears_the_count(chat: ChatHarness) -> None:
    limit = chat.settings.login_max_failures
    for _ in range(limit - 1):
        assert chat.service.authenticate(chat.username, "wrong password here") is None
    user = chat.service.authenticate(chat.username, RIGHT)
    assert user is not None and user.id == chat.patient_id
    assert failures(chat) == 0
    for _ in range(limit - 1):
        assert chat.service.authenticate(chat.username, "wrong password here") is None
    assert chat.service.authenticate(chat.username, RIGHT) is not None


def test_failures_for_unknown_usernames_do_not_pause_others(chat: ChatHarness) -> None:
    for _ in range(chat.settings.login_max_failures):
        assert chat.service.authenticate("somebody-else", RIGHT) is None
    assert chat.service.authenticate(chat.username, RIGHT) is not None
