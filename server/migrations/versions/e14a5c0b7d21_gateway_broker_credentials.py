"""gateway broker credentials

Revision ID: e14a5c0b7d21
Revises: 4c231461fb6b
Create Date: 2026-12-06 07:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e14a5c0b7d21"
down_revision = "4c231461fb6b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mqtt_password_hash", sa.String(length=160), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("gateways", schema=None) as batch_op:
        batch_op.drop_column("mqtt_password_hash")
