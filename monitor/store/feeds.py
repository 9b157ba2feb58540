"""Feeds: claims (leases), validators and health."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from monitor.models import PollResult
from monitor.store.base import StoreBase, insert_or_ignore
from monitor.store.schema import feeds
from monitor.store.workers import LEASE
from monitor.timeutil import as_utc, utcnow


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


class FeedStore(StoreBase):
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
                conn.execute(insert_or_ignore(conn, feeds), rows)

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
