"""Accounts: create users and check passwords (argon2id through pwdlib)."""

from __future__ import annotations

import secrets
import uuid

from pwdlib import PasswordHash
from sqlmodel import Session, func, select

from companion.models import Role, User, UserPublic

__all__ = [
    "DuplicateUsernameError",
    "authenticate",
    "create_user",
    "generate_password",
    "get_user",
    "set_password",
    "validate_password",
    "validate_username",
]

_hasher = PasswordHash.recommended()
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class DuplicateUsernameError(ValueError):
    """A user with that username already exists."""


def generate_password() -> str:
    """Return a random password that is easy to type on a phone (about 96 bits)."""
    return secrets.token_urlsafe(12)


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-@" for c in name):
        raise ValueError(
            "a username is 1-64 characters of letters, digits and . _ - @ (no spaces)"
        )
    return name


def validate_password(password: str) -> str:
    """Return `password` if it meets the rules, else raise ValueError saying which rule it breaks."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise ValueError("a password cannot contain control characters (such as tabs or line breaks)")
    return password


def create_user(session: Session, *, username: str, role: Role, password: str) -> UserPublic:
    """Create a user with an argon2id password hash.

    Raises:
        DuplicateUsernameError: the username is taken.
        ValueError: the username or password does not meet the rules.
    """
    name = validate_username(username)
    validate_password(password)
    # Unique regardless of case: "Sam" and "sam" would be one person to the rate limit and to staff.
    if session.exec(select(User).where(func.lower(User.username) == name.lower())).first() is not None:
        raise DuplicateUsernameError(f"username {name!r} is already taken; choose another")
    user = User(id=str(uuid.uuid4()), username=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return UserPublic.model_validate(user, from_attributes=True)


def authenticate(session: Session, *, username: str, password: str) -> UserPublic | None:
    """Return the active user whose password matches, else None (same work either way)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        _hasher.verify(password, _DUMMY_HASH)
        return None
    if not _hasher.verify(password, user.password_hash) or not user.is_active:
        return None
    return UserPublic.model_validate(user, from_attributes=True)


def set_password(session: Session, *, user_id: str, password: str) -> None:
    """Replace the password of `user_id` with a new argon2id hash (the caller ends their sessions).

    Raises:
        LookupError: there is no user `user_id`.
        ValueError: the password does not meet the rules.
    """
    validate_password(password)
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user with id {user_id!r}; check the id")
    user.password_hash = _hasher.hash(password)
    session.add(user)
    session.flush()


def get_user(session: Session, user_id: str) -> UserPublic | None:
    user = session.get(User, user_id)
    return None if user is None else UserPublic.model_validate(user, from_attributes=True)
