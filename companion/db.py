"""Database engine and schema migrations (SQLite by default, PostgreSQL through one URL).

SQLite runs in WAL mode with a busy timeout and full sync, so a committed turn survives a
crash. The schema is owned by Alembic (`companion/migrations/`); `migrate` brings any
database to the newest revision and is safe to run at every start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from companion.settings import Settings

__all__ = ["check_database", "create_db_engine", "migrate", "session_scope"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest audit entry's sequence number and hash, kept outside the database (see companion.audit).
AUDIT_ANCHOR = "audit-anchor.json"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def create_db_engine(settings: Settings) -> Engine:
    """Create the engine for `settings`, making the data directory for SQLite."""
    from companion.audit import anchor_to

    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    anchor_to(engine, settings.resolved_data_dir / AUDIT_ANCHOR)
    return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_database(engine: Engine) -> bool:
    """Return True when the database answers a trivial query."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
