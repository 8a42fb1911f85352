"""audit log: append-only, hash-chained

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:00:00.000000

The table refuses UPDATE and DELETE at the database level (a trigger on each back-end; on
PostgreSQL also TRUNCATE). The hash chain in `companion.audit.verify` still catches tampering
by someone who drops or disables the triggers.
"""
from collections.abc import Sequence
from typing import Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MESSAGE = "the audit log is append-only"


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('auditentry',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditentry_patient_id'), ['patient_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION auditentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER auditentry_append_only BEFORE UPDATE OR DELETE ON auditentry "
            "FOR EACH ROW EXECUTE FUNCTION auditentry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER auditentry_no_truncate BEFORE TRUNCATE ON auditentry "
            "FOR EACH STATEMENT EXECUTE FUNCTION auditentry_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER auditentry_no_{event.lower()} BEFORE {event} ON auditentry "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS auditentry_no_truncate ON auditentry")
        op.execute("DROP TRIGGER IF EXISTS auditentry_append_only ON auditentry")
        op.execute("DROP FUNCTION IF EXISTS auditentry_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS auditentry_no_update")
        op.execute("DROP TRIGGER IF EXISTS auditentry_no_delete")
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_patient_id'))

    op.drop_table('auditentry')
