"""The tables of the store (each change needs a migration in `migrations/versions/`)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData()

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(2048), nullable=False, unique=True),
    # where the feed lives now, after a permanent redirect (the configured URL stays its name)
    Column("poll_url", String(2048)),
    Column("etag", String(1024)),
    Column("last_modified", String(256)),
    Column("last_polled_at", DateTime(timezone=True)),
    # a feed never read successfully is still on its first poll (first_poll_max_age applies)
    Column("last_success_at", DateTime(timezone=True)),
    Column("next_poll_at", DateTime(timezone=True)),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("last_warning", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("items_seen", Integer, nullable=False, default=0),
    # the worker polling the feed holds it until then (renewed by its heartbeat)
    Column("leased_until", DateTime(timezone=True)),
    Column("leased_by", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # in the configuration now (`sync_feeds` keeps it): only active feeds are claimed, so a
    # claim reads a few entries of one index however many feeds there are; a feed taken out
    # of the config keeps its row and history, inactive, until it comes back
    Column("active", Boolean, nullable=False, server_default=true()),
)
# The claims' filter, spelt as in the partial index below: SQLite uses a partial index only
# for a query holding its WHERE term as written (`active = 1`, not a bare `active`).
FEED_ACTIVE = feeds.c.active == true()
# The claims (store/feeds.py): active feeds in due order, never-polled ones (NULL) apart.
Index(
    "ix_feeds_due",
    feeds.c.next_poll_at,
    feeds.c.id,
    postgresql_where=FEED_ACTIVE,
    sqlite_where=FEED_ACTIVE,
)
# A worker's heartbeat and release touch only the few feeds it holds.
Index(
    "ix_feeds_leased_by",
    feeds.c.leased_by,
    postgresql_where=feeds.c.leased_by.is_not(None),
    sqlite_where=feeds.c.leased_by.is_not(None),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identity", String(2048), nullable=False, unique=True),
    Column("url", String(2048), nullable=False),
    Column("feed_url", String(2048)),
    Column("title", Text, nullable=False),
    Column("published", DateTime(timezone=True)),
    Column("site_name", String(256)),
    Column("content_hash", String(64), index=True),
    Column("partial", Boolean, nullable=False, default=False),
    Column("alerted", Boolean, nullable=False, default=True),
    # the first article of the story this one belongs to (itself when it starts a story)
    Column("story_id", Integer, index=True),
    # unused since migration 0006 (stories come from the text's shingles)
    Column("headline_size", Integer, nullable=False, default=0),
    # the text's word-shingle hashes, sorted (digest/stories.py): exact containment
    Column("shingles", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # the words rules read, zlib-compressed UTF-8, so the console's playground can match an
    # edited rule against recent articles; only the latest KEEP_TEXTS articles keep theirs
    # (store/articles.py), None before migration 0011
    Column("text", LargeBinary),
    Column("summary", LargeBinary),
    Column("language", String(32)),
    # the console's Alerts page filtered by feed (store/search.py)
    Index("ix_articles_feed_url", "feed_url"),
)

# The MinHash LSH band keys of each article's text (digest/stories.py): an article finds
# the candidates for its story with one indexed query on these.
story_bands = Table(
    "story_bands",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("band", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_story_bands_band", "band", "created_at"),
    Index("ix_story_bands_created_at", "created_at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("match", JSON, nullable=False),
    Column("previous_figures", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # the database's clock at insert: digests read only alerts settled for a moment (see SETTLE)
    Column("inserted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # the match's severity, copied out of its JSON by a trigger (migration 0010), for an index
    Column("severity", String(16)),
    UniqueConstraint("article_id", "rule"),
    # the console's alert history (store/search.py): one rule or severity newest first, a
    # date range
    Index("ix_alerts_rule", "rule", "id"),
    Index("ix_alerts_severity", "severity", "id"),
    Index("ix_alerts_created_at", "created_at"),
)

# Full text over each alert's article title and snippets, one document per alert, written by
# a trigger on `alerts` (migration 0010). On PostgreSQL this table: a stored tsvector under
# a GIN index. On SQLite the name is a contentless FTS5 virtual table (title, snippets;
# rowid = alert id) that SQLAlchemy cannot declare: the migrations-match-schema test leaves
# `alert_search` and FTS5's shadow tables out on SQLite (ALERT_SEARCH_SQLITE_TABLES).
alert_search = Table(
    "alert_search",
    metadata,
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("document", TSVECTOR, nullable=False),
    Index("ix_alert_search_document", "document", postgresql_using="gin"),
)
ALERT_SEARCH_SQLITE_TABLES = frozenset(
    "alert_search" + suffix for suffix in ("", "_config", "_content", "_data", "_docsize", "_idx")
)

figure_history = Table(
    "figure_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("key", String(256), nullable=False, default=""),
    Column("value", Integer, nullable=False),
    Column("text", String(128), nullable=False),
    Column("qualifier", String(64)),
    Column("alert_id", Integer, ForeignKey("alerts.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # when the reporting article was published (else when it was stored): history's order
    Column("reported_at", DateTime(timezone=True)),
    UniqueConstraint("rule", "key", "value"),
    # a story's figure rules and keys (store/search.py)
    Index("ix_figure_history_alert_id", "alert_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("cursor", Integer, nullable=False, default=0),
    Column("last_digest_at", DateTime(timezone=True), nullable=False),
)

# One row per digest and target (an address, a webhook), holding the exact bytes sent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    # the delivery's idempotency key: Message-ID, webhook-id
    Column("key", String(64), nullable=False, unique=True),
    # the digest the row is one target of
    Column("digest", String(64), nullable=False, index=True),
    Column("subscription", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("target", String(512), nullable=False),
    Column("alert_ids", JSON, nullable=False),
    Column("story_ids", JSON, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    # also the lease of the worker sending the row (`leased_by`), renewed by its heartbeat
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("leased_by", String(128)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    # the claim (store/outbox.py): pending rows in due order, then by id
    Index("ix_outbox_due", "status", "next_attempt_at", "id"),
)
Index(
    "ix_outbox_leased_by",
    outbox.c.leased_by,
    postgresql_where=outbox.c.leased_by.is_not(None),
    sqlite_where=outbox.c.leased_by.is_not(None),
)

# Who unsubscribed from what: everything (scope "all"), a rule or a story, per address.
unsubscribes = Table(
    "unsubscribes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription", String(128), nullable=False),
    Column("address", String(512), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("value", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscription", "address", "scope", "value"),
)

# The workers using this database, so that a restarted one can free what a dead one held.
workers = Table(
    "workers",
    metadata,
    Column("id", String(128), primary_key=True),
    # which process it is (monitor.process.ProcessId): host and PID namespace, PID, start
    Column("process", String(512), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    # when it last ran a poll pass (None before its first)
    Column("last_cycle_at", DateTime(timezone=True)),
)

# Silences (Alertmanager's): alerts of a rule, story, feed or tag kept out of the digests of
# one subscription (or of all, `subscription` None) from `starts_at` until `ends_at`; ending
# one early moves `ends_at` to that moment.
silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscription", String(128)),
    Column("scope", String(16), nullable=False),  # rule, story, feed, tag
    Column("value", String(2048), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False, index=True),
    Column("comment", Text, nullable=False),
    Column("author", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
