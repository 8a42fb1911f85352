"""Longer escalation.detector_version: it names every layer and rule file version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalation") as batch:
        batch.alter_column(
            "detector_version",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=200),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("escalation") as batch:
        batch.alter_column(
            "detector_version",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
