"""Feeds: claims (leases), validators and health."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from monitor.models import PollResult
from monitor.store.base import StoreBase, insert_or_ignore
from monitor.store.schema import FEED_ACTIVE, feeds
from monitor.store.workers import CLAIM_LIMIT, LEASE, relaxed_commit
from monitor.timeutil import as_utc, utcnow

# `sync_feeds` switches feeds on and off this many at a time (one bound value each).
SYNC_CHUNK = 500


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
    # in the configuration (`sync_feeds`): only active feeds are claimed
    active: bool = True


class FeedStore(StoreBase):
    # -- feeds ------------------------------------------------------------------------------

    def sync_feeds(self, urls: Collection[str], now: datetime | None = None) -> None:
        """Record the configured feeds: each has a row (a feed never polled is due at once),
        and these, no others, are active, the only ones claimed. A feed taken out of the
        config keeps its row and its history, inactive, until it comes back. Workers sharing
        a database share one config: the last one to sync (at start, on reload) sets it."""
        now = now or utcnow()
        configured = dict.fromkeys(urls)  # in config order, once each
        with self._claiming() as conn:  # on SQLite: the write lock before the read
            known: dict[str, bool] = {
                url: bool(active)
                for url, active in conn.execute(select(feeds.c.url, feeds.c.active))
            }
            rows = [
                {
                    "url": url,
                    "created_at": now,
                    "consecutive_failures": 0,
                    "items_seen": 0,
                    "active": True,
                }
                for url in configured
                if url not in known
            ]
            if rows:  # ones another worker adds at the same moment are skipped
                conn.execute(insert_or_ignore(conn, feeds), rows)
            changed = {
                True: [url for url, active in known.items() if not active and url in configured],
                False: [url for url, active in known.items() if active and url not in configured],
            }
            for active, changing in changed.items():
                for start in range(0, len(changing), SYNC_CHUNK):
                    conn.execute(
                        update(feeds)
                        .where(feeds.c.url.in_(changing[start : start + SYNC_CHUNK]))
                        .values(active=active)
                    )

    def claim_due_feeds(
        self,
        urls: Collection[str] | None = None,
        now: datetime | None = None,
        *,
        poll_all: bool = False,
        limit: int | None = None,
        skip: Collection[int] = (),
        not_polled_since: datetime | None = None,
        lease: timedelta = LEASE,
    ) -> list[FeedState]:
        """Claim at most `limit` (CLAIM_LIMIT when None) of the active feeds that are due
        (every one with `poll_all`; none of the ids in `skip`, none polled at or after
        `not_polled_since`) and that no other worker holds: never polled first, then longest
        due. Each is leased until `record_poll`, renewed by `heartbeat`. Claiming only what it
        has room to poll leaves the rest to other workers.

        A pass over every feed (`monitor once`) names its start as `not_polled_since`, not
        the ids it polled in `skip`: a list of ids grows with the feeds, and past 65,535 bound
        values PostgreSQL refuses the statement.

        `urls` is not read: the configured feeds are the active ones (`sync_feeds`), so the
        claim is two short range scans of one index (ix_feeds_due), however many feeds there
        are. It stays for callers of the first signature, `claim_due_feeds(urls, now, ...)`."""
        now = now or utcnow()
        limit = CLAIM_LIMIT if limit is None else limit
        if limit <= 0:
            return []
        free = or_(feeds.c.leased_until.is_(None), feeds.c.leased_until <= now)
        claimable = select(feeds).where(FEED_ACTIVE, free)
        if skip:
            claimable = claimable.where(feeds.c.id.not_in(list(skip)))
        if not_polled_since is not None:
            last = feeds.c.last_polled_at
            claimable = claimable.where(or_(last.is_(None), last < not_polled_since))
        # Two index range scans in due order, not one ORDER BY ... NULLS FIRST: no index of
        # SQLite can hold NULLs first, and PostgreSQL's b-trees hold them last.
        never_polled = claimable.where(feeds.c.next_poll_at.is_(None))
        due = claimable.where(
            feeds.c.next_poll_at.is_not(None) if poll_all else feeds.c.next_poll_at <= now
        )
        with self._claiming() as conn:
            relaxed_commit(conn)
            rows: list[Any] = []
            for query in (never_polled, due):
                if len(rows) < limit:
                    ordered = query.order_by(feeds.c.next_poll_at, feeds.c.id)
                    rows += conn.execute(
                        ordered.limit(limit - len(rows)).with_for_update(skip_locked=True)
                    ).mappings()
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
            relaxed_commit(conn)
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
        """A poll's outcome, and the feed's lease let go (committed without waiting for the
        disk on PostgreSQL: see `relaxed_commit`)."""
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
            relaxed_commit(conn)
            conn.execute(update(feeds).where(feeds.c.id == feed_id).values(**values))


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
        bool(r["active"]),
    )
