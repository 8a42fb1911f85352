"""Alembic environment: runs migrations on the connection `companion.db.migrate` hands it."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import companion.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through companion.db.migrate(engine)")
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
