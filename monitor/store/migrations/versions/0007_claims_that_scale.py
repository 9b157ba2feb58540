"""feeds carry whether they are configured (`active`); indexes that serve the claims and
the heartbeat

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every known feed starts active: the worker's `sync_feeds` at start sets the flag from
    # the config before it claims anything
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    active = sa.column("active", sa.Boolean()) == sa.true()
    leased = sa.column("leased_by", sa.String()).is_not(None)
    op.create_index(
        "ix_feeds_due",
        "feeds",
        ["next_poll_at", "id"],
        postgresql_where=active,
        sqlite_where=active,
    )
    for table in ("feeds", "outbox"):
        op.create_index(
            f"ix_{table}_leased_by",
            table,
            ["leased_by"],
            postgresql_where=leased,
            sqlite_where=leased,
        )
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    for table in ("outbox", "feeds"):
        op.drop_index(f"ix_{table}_leased_by", table_name=table)
    op.drop_index("ix_feeds_due", table_name="feeds")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("active")
