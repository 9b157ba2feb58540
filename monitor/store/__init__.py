"""State: feeds and their health, articles, alerts, figure history, subscriptions, outbox.

SQLAlchemy 2 Core over SQLite (WAL) by default; the same statements run on PostgreSQL. The
outbox makes delivery at-least-once: a digest's row is written, in the same transaction that
moves its subscription's cursor past the alerts it holds, before anything is sent.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    CursorResult,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.codec import figure_from_json, figure_to_json, match_from_json, match_to_json
from monitor.digest.stories import STORY_WINDOW, identifying_text, same_story, story_words
from monitor.models import Alert, Article, Figure, Match, Message, PollResult
from monitor.process import ProcessId, is_running, this_process
from monitor.timeutil import as_utc, utcnow

metadata = MetaData()
# On PostgreSQL, digests take alerts inserted at least this long ago (see Store.alerts_after).
SETTLE = timedelta(seconds=10)
# "up from ..." shows at most this many earlier figures of a place or story, from this long
HISTORY_LIMIT = 5
HISTORY_WINDOW = timedelta(days=180)
# A worker holds the feeds it polls and the digests it sends this long, and renews the lease
# every HEARTBEAT while it runs: a killed worker's leases run out within about a minute.
LEASE = timedelta(seconds=60)
HEARTBEAT = timedelta(seconds=15)
# A worker that has not renewed anything for this long is forgotten.
WORKER_FORGOTTEN = timedelta(days=1)
# How many recent articles sharing headline words a new one is compared with (most shared first).
STORY_CANDIDATES = 50

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
    Column("headline_size", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The content words of each headline, so an article finds its story with one indexed query.
headline_words = Table(
    "headline_words",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id"), nullable=False),
    Column("word", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_headline_words_word", "word", "created_at"),
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
    UniqueConstraint("article_id", "rule"),
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
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("cursor", Integer, nullable=False, default=0),
    Column("last_digest_at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("subscription", String(128), nullable=False),
    Column("alert_ids", JSON, nullable=False),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    # also the lease of the worker sending the row (`leased_by`), renewed by its heartbeat
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("leased_by", String(128)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
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
)


@dataclass(frozen=True)
class FeedState:
    id: int
    url: str
    poll_url: str
    etag: str | None
    last_modified: str | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    next_poll_at: datetime | None
    last_status: int | None
    last_error: str | None
    last_warning: str | None
    consecutive_failures: int
    items_seen: int


@dataclass(frozen=True)
class OutboxRow:
    id: int
    key: str
    subscription: str
    alert_ids: tuple[int, ...]
    message: Message
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    subscription: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None


class Store:
    """All reads and writes of the worker's state; each method is one short transaction."""

    def __init__(self, url: str, *, settle: timedelta = SETTLE) -> None:
        self.engine: Engine = create_engine(url)
        self.settle = settle
        # the owner of this store's leases (`register_worker` makes it known to other workers)
        self.worker_id = uuid.uuid4().hex
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- workers and their leases -------------------------------------------------------------

    def register_worker(self, now: datetime | None = None) -> int:
        """Make this worker known, and free at once what dead workers of this machine held: a
        restarted worker takes up its feeds and digests without waiting for their leases to
        run out (other machines' dead workers lose theirs after LEASE). Returns how many."""
        now = now or utcnow()
        me = this_process()
        with self.engine.begin() as conn:
            gone = [
                row.id
                for row in conn.execute(select(workers))
                if _is_gone(row.process, me)
                or (as_utc(row.heartbeat_at) or now) < now - WORKER_FORGOTTEN
            ]
            freed = self._release(conn, gone, now)
            conn.execute(delete(workers).where(workers.c.id.in_(gone)))
            conn.execute(
                insert(workers).values(
                    id=self.worker_id, process=str(me), started_at=now, heartbeat_at=now
                )
            )
        return freed

    def heartbeat(self, now: datetime | None = None) -> None:
        """Renew this worker's leases: while it runs, nobody takes over what it holds."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(workers).where(workers.c.id == self.worker_id).values(heartbeat_at=now)
            )
            conn.execute(
                update(feeds)
                .where(feeds.c.leased_by == self.worker_id)
                .values(leased_until=now + LEASE)
            )
            conn.execute(
                update(outbox)
                .where(outbox.c.leased_by == self.worker_id, outbox.c.status == "pending")
                .values(next_attempt_at=now + LEASE)
            )

    def retire_worker(self, now: datetime | None = None) -> None:
        """A clean stop: what this worker held is free for the others at once."""
        with self.engine.begin() as conn:
            self._release(conn, [self.worker_id], now or utcnow())
            conn.execute(delete(workers).where(workers.c.id == self.worker_id))

    @staticmethod
    def _release(conn: Connection, owners: list[str], now: datetime) -> int:
        if not owners:
            return 0
        freed = conn.execute(
            update(feeds)
            .where(feeds.c.leased_by.in_(owners))
            .values(leased_by=None, leased_until=None)
        ).rowcount
        freed += conn.execute(  # a leased row was due when it was claimed
            update(outbox)
            .where(outbox.c.leased_by.in_(owners), outbox.c.status == "pending")
            .values(leased_by=None, next_attempt_at=now)
        ).rowcount
        return int(freed)

    # -- feeds ------------------------------------------------------------------------------

    def sync_feeds(self, urls: list[str], now: datetime | None = None) -> None:
        """Make sure every configured feed has a row (a feed never polled is due at once)."""
        now = now or utcnow()
        rows = [
            {"url": url, "created_at": now, "consecutive_failures": 0, "items_seen": 0}
            for url in urls
        ]
        if rows:  # known feeds, or ones another worker adds at the same moment, are skipped
            with self.engine.begin() as conn:
                conn.execute(_insert_or_ignore(conn, feeds), rows)

    def claim_due_feeds(
        self,
        urls: Collection[str],
        now: datetime,
        *,
        poll_all: bool = False,
        limit: int | None = None,
        skip: Collection[int] = (),
        lease: timedelta = LEASE,
    ) -> list[FeedState]:
        """Claim at most `limit` of the feeds among `urls` that are due (every one with
        `poll_all`; none of the ids in `skip`) and that no other worker holds, longest due
        first. Each is leased until `record_poll`, renewed by `heartbeat`. Claiming only what
        it has room to poll leaves the rest to other workers."""
        free = or_(feeds.c.leased_until.is_(None), feeds.c.leased_until <= now)
        due = or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now)
        query = (
            select(feeds)
            .where(free, feeds.c.url.in_(list(urls)), feeds.c.id.not_in(list(skip)))
            .order_by(feeds.c.next_poll_at.asc().nulls_first(), feeds.c.id)
            .limit(limit)
        )
        if not poll_all:
            query = query.where(due)
        with self._claiming() as conn:
            rows = conn.execute(query.with_for_update(skip_locked=True)).mappings().all()
            if rows:
                conn.execute(
                    update(feeds)
                    .where(feeds.c.id.in_([r["id"] for r in rows]))
                    .values(leased_until=now + lease, leased_by=self.worker_id)
                )
        return [_feed_state(r) for r in rows]

    def let_lease_lapse(self, feed_id: int) -> None:
        """Stop renewing a feed's lease (its poll failed unexpectedly): it runs out within
        LEASE, and the feed is polled again then, by whichever worker is free."""
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(leased_by=None))

    def feed_states(self) -> list[FeedState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(feeds).order_by(feeds.c.id)).mappings().all()
        return [_feed_state(r) for r in rows]

    def record_poll(
        self,
        feed_id: int,
        result: PollResult,
        next_poll_at: datetime,
        new_items: int,
        now: datetime,
    ) -> None:
        values: dict[str, Any] = {
            "last_polled_at": now,
            "next_poll_at": next_poll_at,
            "last_status": result.status,
            "leased_until": None,
            "leased_by": None,
        }
        if result.ok:
            values.update(
                last_success_at=now,
                consecutive_failures=0,
                last_error=None,
                last_warning=result.warning,
                items_seen=feeds.c.items_seen + new_items,
            )
            validators = {"etag": result.etag, "last_modified": result.last_modified}
            if result.not_modified:  # a 304 may refresh the validators, never clear them
                validators = {name: value for name, value in validators.items() if value}
            values.update(validators)
            if result.final_url:
                values.update(poll_url=result.final_url)
        else:
            values.update(
                consecutive_failures=feeds.c.consecutive_failures + 1, last_error=result.error
            )
        with self.engine.begin() as conn:
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))

    # -- articles and alerts ----------------------------------------------------------------

    def known_identities(self, identities: list[str]) -> set[str]:
        """Which of these entry identities are stored already."""
        if not identities:
            return set()
        with self.engine.connect() as conn:
            query = select(articles.c.identity).where(articles.c.identity.in_(identities))
            return set(conn.scalars(query))

    def has_article(self, identity: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.scalar(select(articles.c.id).where(articles.c.identity == identity))
                is not None
            )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several calls (`conn=`): an article, its alerts and their
        figure history are stored together or not at all, so a crash in between loses no
        alert (the entry is simply new again at the next poll)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _claiming(self) -> Iterator[Connection]:
        """A transaction that claims rows: on PostgreSQL `FOR UPDATE SKIP LOCKED` does it; on
        SQLite the transaction takes the write lock before it reads (BEGIN IMMEDIATE), so two
        processes on one file never both claim the same feeds."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _using(self, conn: Connection | None, *, write: bool = True) -> Iterator[Connection]:
        """The caller's transaction, or one of this call's own."""
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() if write else self.engine.connect() as own:
                yield own

    def add_article(
        self,
        identity: str,
        article: Article,
        *,
        alerted: bool = True,
        now: datetime | None = None,
        conn: Connection | None = None,
    ) -> tuple[int, int, bool]:
        """Store an article and file it under its story. Returns (article id, story id,
        duplicate): a duplicate repeats the full text of an article stored before."""
        now = now or utcnow()
        words = story_words(article.title)
        text_hash = content_hash(article.text) if identifying_text(article) else None
        with self._using(conn) as conn:
            earlier = None
            if text_hash is not None:
                earlier = conn.execute(
                    select(articles.c.story_id, articles.c.created_at)
                    .where(articles.c.content_hash == text_hash)
                    .order_by(articles.c.id.desc())
                    .limit(1)
                ).first()
            if earlier is not None and (as_utc(earlier.created_at) or now) >= now - STORY_WINDOW:
                story_id: int | None = int(earlier.story_id)
            else:
                story_id = self._find_story(conn, words, now - STORY_WINDOW)
            article_id = _inserted_id(
                conn.execute(
                    insert(articles).values(
                        identity=identity,
                        url=article.url,
                        feed_url=article.feed_url,
                        title=article.title,
                        published=article.published,
                        site_name=article.site_name,
                        content_hash=text_hash,
                        partial=article.partial,
                        alerted=alerted and earlier is None,
                        story_id=story_id,
                        headline_size=len(words),
                        created_at=now,
                    )
                )
            )
            if words:
                conn.execute(
                    insert(headline_words),
                    [{"article_id": article_id, "word": w[:128], "created_at": now} for w in words],
                )
            if story_id is None:
                story_id = article_id
                conn.execute(
                    update(articles).where(articles.c.id == article_id).values(story_id=story_id)
                )
        return article_id, story_id, earlier is not None

    @staticmethod
    def _find_story(conn: Connection, words: frozenset[str], since: datetime) -> int | None:
        """The story of the most similar recent headline, if similar enough."""
        if not words:
            return None
        shared = func.count().label("shared")
        candidates = conn.execute(
            select(articles.c.story_id, articles.c.headline_size, shared)
            .select_from(
                headline_words.join(articles, articles.c.id == headline_words.c.article_id)
            )
            .where(headline_words.c.word.in_(sorted(words)), headline_words.c.created_at >= since)
            .group_by(articles.c.id, articles.c.story_id, articles.c.headline_size)
            .order_by(shared.desc(), articles.c.id)
            .limit(STORY_CANDIDATES)
        )
        for story_id, size, count in candidates:
            if same_story(count, len(words), size):
                return int(story_id)
        return None

    def story_alerted(self, rule: str, story_id: int, *, conn: Connection | None = None) -> bool:
        """Whether `rule` already alerted on an article of this story."""
        query = (
            select(alerts.c.id)
            .join(articles, articles.c.id == alerts.c.article_id)
            .where(alerts.c.rule == rule, articles.c.story_id == story_id)
            .limit(1)
        )
        with self._using(conn, write=False) as conn:
            return conn.scalar(query) is not None

    def previous_figures(
        self,
        rule: str,
        key: str = "",
        *,
        now: datetime | None = None,
        within: timedelta = HISTORY_WINDOW,
        limit: int = HISTORY_LIMIT,
        conn: Connection | None = None,
    ) -> list[Figure]:
        """The figures alerted for (rule, key) in the last `within`: the `limit` latest, in
        publication order, each with its qualifier and when it was reported."""
        since = (now or utcnow()) - within
        reported = func.coalesce(figure_history.c.reported_at, figure_history.c.created_at)
        with self._using(conn, write=False) as conn:
            rows = conn.execute(
                select(
                    figure_history.c.value,
                    figure_history.c.text,
                    figure_history.c.qualifier,
                    reported.label("reported"),
                )
                .where(
                    figure_history.c.rule == rule,
                    figure_history.c.key == key,
                    figure_history.c.created_at >= since,
                )
                .order_by(reported.desc(), figure_history.c.id.desc())
                .limit(limit)
            ).all()
        return [
            Figure(value=r.value, text=r.text, qualifier=r.qualifier, reported=as_utc(r.reported))
            for r in reversed(rows)
        ]

    def known_figure_values(
        self, rule: str, key: str, values: list[int], *, conn: Connection | None = None
    ) -> set[int]:
        """Which of `values` the history of (rule, key) holds already, however old."""
        with self._using(conn, write=False) as conn:
            rows = conn.execute(
                select(figure_history.c.value).where(
                    figure_history.c.rule == rule,
                    figure_history.c.key == key,
                    figure_history.c.value.in_(values),
                )
            ).all()
        return {r.value for r in rows}

    def add_alert(
        self,
        article_id: int,
        match: Match,
        tags: tuple[str, ...],
        previous: tuple[Figure, ...] = (),
        figure_key: str | None = None,
        now: datetime | None = None,
        reported: datetime | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Store an alert; with `figure_key` set, its figures join the rule's figure history."""
        now = now or utcnow()
        with self._using(conn) as conn:
            alert_id = _inserted_id(
                conn.execute(
                    insert(alerts).values(
                        article_id=article_id,
                        rule=match.rule,
                        tags=list(tags),
                        match=match_to_json(match),
                        previous_figures=[figure_to_json(f) for f in previous],
                        created_at=now,
                    )
                )
            )
            if figure_key is not None and match.figures:
                # (rule, key, value) is unique: figures already in the history are skipped
                conn.execute(
                    _insert_or_ignore(conn, figure_history),
                    [
                        {
                            "rule": match.rule,
                            "key": figure_key,
                            "value": f.value,
                            "text": f.text,
                            "qualifier": f.qualifier,
                            "alert_id": alert_id,
                            "created_at": now,
                            "reported_at": reported or now,
                        }
                        for f in match.figures
                    ],
                )
        return alert_id

    def alerts_after(self, cursor: int) -> list[Alert]:
        """Alerts past a subscription's cursor. With several workers on PostgreSQL, ids are
        handed out before commit, so a younger alert can commit before an older one: only
        alerts inserted more than `settle` ago are read, so the cursor never passes one that
        is about to appear. (One worker, or SQLite, writes one alert at a time: no wait.)"""
        where = alerts.c.id > cursor
        if self.engine.dialect.name == "postgresql" and self.settle:
            where = and_(where, alerts.c.inserted_at < func.now() - self.settle)
        return self._alerts(where)

    def alerts_by_id(self, ids: list[int]) -> list[Alert]:
        return self._alerts(alerts.c.id.in_(ids))

    def _alerts(self, where: Any) -> list[Alert]:
        query = (
            select(
                alerts, articles.c.url, articles.c.title, articles.c.published, articles.c.site_name
            )
            .join(articles, articles.c.id == alerts.c.article_id)
            .where(where)
            .order_by(alerts.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Alert(
                id=r["id"],
                article_url=r["url"],
                article_title=r["title"],
                published=as_utc(r["published"]),
                site_name=r["site_name"],
                match=match_from_json(r["match"]),
                tags=tuple(r["tags"]),
                previous_figures=tuple(figure_from_json(f) for f in r["previous_figures"]),
            )
            for r in rows
        ]

    # -- subscriptions and outbox -----------------------------------------------------------

    def subscription_state(self, name: str, now: datetime | None = None) -> tuple[int, datetime]:
        """(cursor, last digest time); a new subscription starts at the newest alert."""
        with self.engine.begin() as conn:
            row = (
                conn.execute(select(subscriptions).where(subscriptions.c.name == name))
                .mappings()
                .first()
            )
            if row is None:
                cursor = conn.scalar(select(func.coalesce(func.max(alerts.c.id), 0))) or 0
                since = now or utcnow()
                conn.execute(
                    _insert_or_ignore(conn, subscriptions),
                    {"name": name, "cursor": cursor, "last_digest_at": since},
                )
                return cursor, since
            return row["cursor"], as_utc(row["last_digest_at"]) or utcnow()

    def enqueue_digest(
        self,
        subscription: str,
        alert_ids: list[int],
        cursor: int,
        message: Message,
        now: datetime | None = None,
        *,
        expected: int | None = None,
    ) -> str | None:
        """Write a digest to the outbox and move the subscription's cursor past its alerts,
        atomically. With `expected`, only if the cursor is still there: when another worker
        queued this digest first, nothing is written and None comes back."""
        now = now or utcnow()
        key = f"msg_{uuid.uuid4().hex}"
        with self.engine.begin() as conn:
            if not self._move_cursor(conn, subscription, expected, cursor, now):
                return None
            conn.execute(
                insert(outbox).values(
                    key=key,
                    subscription=subscription,
                    alert_ids=alert_ids,
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        return key

    def advance_subscription(
        self, subscription: str, cursor: int, now: datetime, *, expected: int | None = None
    ) -> bool:
        """A due period with nothing this subscription wants: skip its alerts, restart the clock
        (with `expected`, only if no other worker moved the cursor meanwhile)."""
        with self.engine.begin() as conn:
            return self._move_cursor(conn, subscription, expected, cursor, now)

    @staticmethod
    def _move_cursor(
        conn: Connection, subscription: str, expected: int | None, cursor: int, now: datetime
    ) -> bool:
        query = update(subscriptions).where(subscriptions.c.name == subscription)
        if expected is not None:  # compare and set: workers sharing a database never both win
            query = query.where(subscriptions.c.cursor == expected)
        return bool(conn.execute(query.values(cursor=cursor, last_digest_at=now)).rowcount)

    def due_deliveries(
        self,
        now: datetime | None = None,
        lease: timedelta = LEASE,
        *,
        limit: int | None = None,
    ) -> list[OutboxRow]:
        """Claim pending rows that are due, at most `limit`: each is leased for `lease`,
        renewed by `heartbeat`. Claiming a few at a time leaves the rest to other workers."""
        now = now or utcnow()
        with self._claiming() as conn:
            rows = (
                conn.execute(
                    select(outbox)
                    .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
                    .order_by(outbox.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
                .mappings()
                .all()
            )
            if rows:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([r["id"] for r in rows]))
                    .values(next_attempt_at=now + lease, leased_by=self.worker_id)
                )
        return [
            OutboxRow(
                r["id"],
                r["key"],
                r["subscription"],
                tuple(r["alert_ids"]),
                Message(r["subject"], r["text"], r["html"]),
                r["attempts"],
                as_utc(r["created_at"]) or utcnow(),
            )
            for r in rows
        ]

    def holds(self, row_id: int) -> bool:
        """Whether this worker still holds a row it claimed: if its lease ran out (the worker
        was stalled), another worker may be sending it, and it is not sent twice from here."""
        with self.engine.connect() as conn:
            query = select(outbox.c.id).where(
                outbox.c.id == row_id,
                outbox.c.status == "pending",
                outbox.c.leased_by == self.worker_id,
            )
            return conn.scalar(query) is not None

    def mark_sent(self, row_id: int, now: datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(
                    status="sent",
                    leased_by=None,
                    sent_at=now or utcnow(),
                    attempts=outbox.c.attempts + 1,
                    last_error=None,
                )
            )

    def mark_failed(self, row_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at `retry_at`, or dead-letter the row when None."""
        values: dict[str, Any] = {
            "attempts": outbox.c.attempts + 1,
            "last_error": error,
            "leased_by": None,
        }
        if retry_at is None:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = retry_at
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))

    def outbox_entries(self, statuses: tuple[str, ...]) -> list[OutboxEntry]:
        """Outbox rows in these states, oldest first: what an operator inspects."""
        query = select(outbox).where(outbox.c.status.in_(statuses)).order_by(outbox.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            OutboxEntry(
                r["id"],
                r["subscription"],
                r["subject"],
                r["status"],
                r["attempts"],
                r["last_error"],
                as_utc(r["created_at"]) or utcnow(),
                as_utc(r["next_attempt_at"]),
            )
            for r in rows
        ]

    def requeue(self, row_ids: list[int], now: datetime | None = None) -> int:
        """Send dead-lettered (or pending) rows again at the next cycle; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(row_ids), outbox.c.status.in_(("dead", "pending")))
                .values(
                    status="pending", next_attempt_at=now or utcnow(), attempts=0, leased_by=None
                )
            )
        return int(result.rowcount)

    def outbox_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(outbox.c.status, func.count()).group_by(outbox.c.status)
            ).all()
        return {status: count for status, count in rows}


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Workers sharing PostgreSQL take this advisory lock, so only one of them migrates at a time.
_MIGRATION_LOCK = 0x6E6D6967  # "nmig"


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration (Alembic, `monitor/store/migrations/`)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _insert_or_ignore(conn: Connection, table: Table) -> Any:
    """INSERT that skips rows whose unique key exists (SQLite and PostgreSQL alike)."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return dialect_insert(table).on_conflict_do_nothing()


def _inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL loses at most the last commits on power loss, never consistency
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # transactions are begun by `_sqlite_begin`, so that claims can take the write lock at once
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """pysqlite's own BEGIN is off (`_sqlite_pragmas`): begin here, IMMEDIATE for claims."""
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _is_gone(process: str, me: ProcessId) -> bool:
    """Whether a worker process of this machine has died (a PID now reused counts as dead)."""
    worker = ProcessId.parse(process)
    if worker is None or worker.machine != me.machine:
        return False
    return worker != me and not is_running(worker)


def _feed_state(r: Any) -> FeedState:
    return FeedState(
        r["id"],
        r["url"],
        r["poll_url"] or r["url"],
        r["etag"],
        r["last_modified"],
        as_utc(r["last_polled_at"]),
        as_utc(r["last_success_at"]),
        as_utc(r["next_poll_at"]),
        r["last_status"],
        r["last_error"],
        r["last_warning"],
        r["consecutive_failures"],
        r["items_seen"],
    )
