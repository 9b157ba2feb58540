"""outbox rows per target holding the exact bytes sent; stories by MinHash LSH bands;
unsubscribes and mutes

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # Digests queued but not sent were rendered in the old shape, for the whole subscription:
    # their alerts are planned again (the subscription's cursor moves back before them).
    unsent = bind.execute(
        sa.text("SELECT subscription, alert_ids FROM outbox WHERE status <> 'sent'")
    ).all()
    earliest: dict[str, int] = {}
    for subscription, alert_ids in unsent:
        ids = json.loads(alert_ids) if isinstance(alert_ids, str) else alert_ids
        if ids:
            earliest[subscription] = min(earliest.get(subscription, min(ids)), min(ids))
    for subscription, first in earliest.items():
        bind.execute(
            sa.text("UPDATE subscriptions SET cursor = :c WHERE name = :n AND cursor >= :c"),
            {"c": first - 1, "n": subscription},
        )
    op.drop_table("outbox")
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("subscription", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=False),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("story_ids", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_digest", "outbox", ["digest"])
    op.drop_table("headline_words")
    # (articles.headline_size stays, unused: dropping a column rebuilds the table on SQLite)
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shingles", sa.LargeBinary(), nullable=True))
    op.create_table(
        "story_bands",
        sa.Column("article_id", sa.Integer(), sa.ForeignKey("articles.id"), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_story_bands_band", "story_bands", ["band", "created_at"])
    op.create_index("ix_story_bands_created_at", "story_bands", ["created_at"])
    op.create_table(
        "unsubscribes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=512), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription", "address", "scope", "value"),
    )


def downgrade() -> None:
    raise NotImplementedError("0006 replaced the outbox's shape: restore a backup to go back")
