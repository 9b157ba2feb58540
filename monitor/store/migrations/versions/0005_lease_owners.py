"""leases carry their owner; workers keep a heartbeat

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("process", sa.String(length=512), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in ("feeds", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("leased_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    for table in ("outbox", "feeds"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("leased_by")
    op.drop_table("workers")
