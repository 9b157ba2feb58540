"""article text: the words rules read, kept (compressed) for the latest articles

The console's playground shows what an edited rule would change on the last 1,000 stored
articles, so articles keep their text, summary (zlib-compressed UTF-8) and language. Only
the latest `KEEP_TEXTS` articles keep them (store/articles.py drops older ones as new ones
arrive); articles stored before this migration have none.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("text", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("summary", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("language")
        batch.drop_column("summary")
        batch.drop_column("text")
