"""Shared fixtures: settings on a temporary data dir, and the two storage back-ends.

PostgreSQL runs only when `COMPANION_TEST_POSTGRES_URL` is set (CI sets it to the local
server); without it the PostgreSQL variants are skipped with a reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from companion.settings import FORBIDDEN_VARIABLES, Settings

POSTGRES_URL = os.environ.get("COMPANION_TEST_POSTGRES_URL", "")


@pytest.fixture(autouse=True)
def _no_forbidden_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never run with the variables that switch on Chainlit's plaintext storage."""
    for name in FORBIDDEN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings that ignore the developer's environment and .env file."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var")


@contextmanager
def fresh_postgres_database(prefix: str = "companion_test") -> Iterator[str]:
    """Create a PostgreSQL database of its own, yield its URL, drop it afterwards (skips if unconfigured)."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL storage test skipped: set COMPANION_TEST_POSTGRES_URL to run it")
    import psycopg

    base = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each storage back-end; PostgreSQL is skipped unless configured."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return make_settings(tmp_path / "var", database_url=url)
    return make_settings(tmp_path / "var")
