"""figure history keeps each figure's qualifier and when it was reported

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("figure_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qualifier", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("figure_history", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("qualifier")
