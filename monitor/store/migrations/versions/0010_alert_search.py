"""alert search: full text over each alert's article title and snippets; the console's filters

`alert_search` holds one search document per alert (its article's title and the match's
snippets), written by a trigger on `alerts` so every writer of alerts keeps it without
knowing of it:

- SQLite: a contentless FTS5 table (the text lives in `alerts` and `articles` already), its
  rowid the alert's id; a query reads it newest first (`ORDER BY rowid DESC`) and stops at
  the page's end. Snippets are read with `json_each`, decoded (the JSON column stores
  `\\uXXXX` escapes for non-ASCII text).
- PostgreSQL: a table of (alert_id, document tsvector) with a GIN index on the document.
  The tsvector is stored, not only an index expression, so a recheck (phrase queries need
  one: GIN holds no positions) reads it instead of running to_tsvector again. Config
  'simple': news comes in many languages, so no stemming (FTS5's unicode61 neither stems).

Also indexes for the console: alerts by rule newest first, by severity (the match JSON's)
newest first, by creation time (date ranges, alerts per hour), articles by feed, figure
history by alert (a story's figures).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# what the search document holds, in SQLite: the article's title and the snippets, decoded
_SQLITE_DOCUMENT = """
    (SELECT title FROM articles WHERE articles.id = {row}.article_id),
    (SELECT coalesce(group_concat(value, ' '), '') FROM json_each({row}.match, '$.snippets'))
"""

_SQLITE = [
    # remove_diacritics 2: "Kyiv" finds "Kýiv", "cafe" finds "café"
    """CREATE VIRTUAL TABLE alert_search USING fts5(
        title, snippets, content='', tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER alert_search_insert AFTER INSERT ON alerts BEGIN
        INSERT INTO alert_search(rowid, title, snippets)
        VALUES (new.id, {_SQLITE_DOCUMENT.format(row="new")});
    END""",
    # a contentless table forgets a row only when told the values it was given
    f"""CREATE TRIGGER alert_search_delete AFTER DELETE ON alerts BEGIN
        INSERT INTO alert_search(alert_search, rowid, title, snippets)
        VALUES ('delete', old.id, {_SQLITE_DOCUMENT.format(row="old")});
    END""",
    f"""INSERT INTO alert_search(rowid, title, snippets)
        SELECT id, {_SQLITE_DOCUMENT.format(row="alerts")} FROM alerts""",
    """CREATE TRIGGER alert_severity AFTER INSERT ON alerts BEGIN
        UPDATE alerts SET severity = json_extract(new.match, '$.severity') WHERE id = new.id;
    END""",
    "UPDATE alerts SET severity = json_extract(match, '$.severity')",
]

# PostgreSQL's parser reads markup: "<script>" would hide everything after it, "&amp;" is an
# entity; the text is plain, so '<', '>' and '&' are only spaces to it
_POSTGRESQL_DOCUMENT = """to_tsvector('simple'::regconfig, translate(
    coalesce((SELECT title FROM articles WHERE articles.id = {row}.article_id), '') || ' ' ||
    coalesce((SELECT string_agg(s, ' ') FROM json_array_elements_text({row}.match -> 'snippets')
              AS s), ''), '<>&', '   '))"""

_POSTGRESQL = [
    f"""CREATE FUNCTION alert_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO alert_search (alert_id, document)
        VALUES (NEW.id, {_POSTGRESQL_DOCUMENT.format(row="NEW")});
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER alert_search_insert AFTER INSERT ON alerts
        FOR EACH ROW EXECUTE FUNCTION alert_search_insert()""",
    f"""INSERT INTO alert_search (alert_id, document)
        SELECT id, {_POSTGRESQL_DOCUMENT.format(row="alerts")} FROM alerts""",
    """CREATE FUNCTION alert_severity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.severity := NEW.match ->> 'severity';
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER alert_severity BEFORE INSERT ON alerts
        FOR EACH ROW EXECUTE FUNCTION alert_severity()""",
    "UPDATE alerts SET severity = match ->> 'severity'",
]


def upgrade() -> None:
    op.create_index("ix_alerts_rule", "alerts", ["rule", "id"])
    op.create_index("ix_alerts_created_at", "alerts", ["created_at"])
    op.create_index("ix_articles_feed_url", "articles", ["feed_url"])
    op.create_index("ix_figure_history_alert_id", "figure_history", ["alert_id"])
    # the severity is the match's, in its JSON: a column of its own (kept by a trigger) for
    # an index (SQLAlchemy cannot reflect SQLite's expression indexes)
    op.add_column("alerts", sa.Column("severity", sa.String(length=16), nullable=True))
    op.create_index("ix_alerts_severity", "alerts", ["severity", "id"])
    if op.get_context().dialect.name == "postgresql":
        op.create_table(
            "alert_search",
            sa.Column("alert_id", sa.Integer(), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("alert_id"),
        )
        op.create_index(
            "ix_alert_search_document", "alert_search", ["document"], postgresql_using="gin"
        )
        statements = _POSTGRESQL
    else:
        statements = _SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER alert_severity ON alerts")
        op.execute("DROP FUNCTION alert_severity()")
        op.execute("DROP TRIGGER alert_search_insert ON alerts")
        op.execute("DROP FUNCTION alert_search_insert()")
        op.drop_index("ix_alert_search_document", table_name="alert_search")
        op.drop_table("alert_search")
    else:
        op.execute("DROP TRIGGER alert_severity")
        op.execute("DROP TRIGGER alert_search_delete")
        op.execute("DROP TRIGGER alert_search_insert")
        op.execute("DROP TABLE alert_search")
    op.drop_index("ix_alerts_severity", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("severity")
    op.drop_index("ix_figure_history_alert_id", table_name="figure_history")
    op.drop_index("ix_articles_feed_url", table_name="articles")
    op.drop_index("ix_alerts_created_at", table_name="alerts")
    op.drop_index("ix_alerts_rule", table_name="alerts")
