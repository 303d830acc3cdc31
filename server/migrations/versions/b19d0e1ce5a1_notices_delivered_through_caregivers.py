"""notices delivered through the caregivers' channels: notice jobs and attempts, residents unreached

Revision ID: b19d0e1ce5a1
Revises: 86a8d26fad66
Create Date: 2026-12-06 08:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b19d0e1ce5a1"
down_revision = "86a8d26fad66"
branch_labels = None
depends_on = None

TABLES = ("notification_jobs", "notification_attempts")


def upgrade() -> None:
    """Apply this revision."""
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
            batch_op.alter_column("alarm_id", existing_type=sa.Integer(), nullable=True)
            batch_op.create_index(batch_op.f(f"ix_{table}_notice_id"), ["notice_id"], unique=False)
            batch_op.create_foreign_key(f"{table}_notice_id_fkey", "notices", ["notice_id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreached", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("read_aloud", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("homes", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Undo this revision (notice deliveries are dropped)."""
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_column("homes")
        batch_op.drop_column("read_aloud")
        batch_op.drop_column("unreached")
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE alarm_id IS NULL"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"{table}_notice_id_fkey", type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_notice_id"))
            batch_op.alter_column("alarm_id", existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column("notice_id")
