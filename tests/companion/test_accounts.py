from __future__ import annotations

import pytest
from sqlmodel import Session, select

from companion.accounts import (
    DuplicateUsernameError,
    authenticate,
    create_user,
    generate_password,
    set_password,
)
from companion.db import create_db_engine, migrate
from companion.models import Role, User
from companion.settings import Settings


@pytest.fixture
def session(settings: Settings):
    engine = create_db_engine(settings)
    migrate(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_passwords_are_argon2id_hashed(session: Session) -> None:
    password = generate_password()
    create_user(session, username="pat", role=Role.PATIENT, password=password)
    stored = session.exec(select(User)).one()
    assert stored.password_hash.startswith("$argon2id$") and password not in stored.password_hash


def test_authenticate_accepts_right_and_refuses_wrong(session: Session) -> None:
    create_user(session, username="pat", role=Role.PATIENT, password="correct horse battery")
    assert authenticate(session, username="pat", password="correct horse battery") is not None
    assert authenticate(session, username="pat", password="wrong password!") is None
    assert authenticate(session, username="nobody", password="correct horse battery") is None


def test_inactive_users_cannot_sign_in(session: Session) -> None:
    create_user(session, username="pat", role=Role.PATIENT, password="correct horse battery")
    user = session.exec(select(User)).one()
    user.is_active = False
    session.add(user)
    assert authenticate(session, username="pat", password="correct horse battery") is None


def test_duplicate_and_invalid_usernames_are_refused(session: Session) -> None:
    create_user(session, username="pat", role=Role.PATIENT, password="x" * 12)
    with pytest.raises(DuplicateUsernameError, match="already taken"):
        create_user(session, username="pat", role=Role.THERAPIST, password="x" * 12)
    with pytest.raises(ValueError, match="username"):
        create_user(session, username="<script>", role=Role.PATIENT, password="x" * 12)
    with pytest.raises(ValueError, match="password"):
        create_user(session, username="ok", role=Role.PATIENT, password="short")


def test_set_password_replaces_the_hash_and_the_old_password_stops_working(session: Session) -> None:
    user = create_user(session, username="dr.ada", role=Role.THERAPIST, password="correct horse battery")
    set_password(session, user_id=user.id, password="a brand new password")
    stored = session.exec(select(User)).one()
    assert stored.password_hash.startswith("$argon2id$") and "brand new" not in stored.password_hash
    assert authenticate(session, username="dr.ada", password="a brand new password") is not None
    assert authenticate(session, username="dr.ada", password="correct horse battery") is None


def test_set_password_refuses_weak_or_odd_passwords_and_unknown_users(session: Session) -> None:
    user = create_user(session, username="dr.ada", role=Role.THERAPIST, password="correct horse battery")
    before = session.exec(select(User)).one().password_hash
    for bad, rule in (("short", "at least"), ("x" * 2000, "at most"), ("new\npassword!", "control characters")):
        with pytest.raises(ValueError, match=rule):
            set_password(session, user_id=user.id, password=bad)
    with pytest.raises(LookupError, match="no user"):
        set_password(session, user_id="no-such-id", password="a brand new password")
    assert session.exec(select(User)).one().password_hash == before


def test_usernames_are_unique_regardless_of_case(session: Session) -> None:
    create_user(session, username="Sam.K", role=Role.PATIENT, password="a-long-password")
    with pytest.raises(DuplicateUsernameError):
        create_user(session, username="sam.k", role=Role.THERAPIST, password="a-long-password")
