"""Subscriptions' cursors and the outbox of deliveries, with their leases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from monitor.store.base import StoreBase, insert_or_ignore
from monitor.store.schema import alerts, outbox, subscriptions
from monitor.store.workers import CLAIM_LIMIT, LEASE
from monitor.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class NewDelivery:
    """One target's copy of a digest, rendered: what `enqueue_digests` writes."""

    key: str
    digest: str
    channel: str
    target: str
    subject: str
    body: bytes
    content_type: str
    alert_ids: tuple[int, ...]
    story_ids: tuple[int, ...]


@dataclass(frozen=True)
class OutboxRow:
    """A claimed delivery: the exact bytes to send to one target."""

    id: int
    key: str
    digest: str
    subscription: str
    channel: str
    target: str
    body: bytes
    content_type: str
    alert_ids: tuple[int, ...]
    story_ids: tuple[int, ...]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    subscription: str
    target: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None


class OutboxStore(StoreBase):
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
                    insert_or_ignore(conn, subscriptions),
                    {"name": name, "cursor": cursor, "last_digest_at": since},
                )
                return cursor, since
            return row["cursor"], as_utc(row["last_digest_at"]) or utcnow()

    def enqueue_digests(
        self,
        subscription: str,
        deliveries: list[NewDelivery],
        cursor: int,
        now: datetime | None = None,
        *,
        expected: int | None = None,
    ) -> bool:
        """Write a due period's deliveries (every target of every digest) and move the
        subscription's cursor past their alerts, atomically. With `expected`, only if the
        cursor is still there: when another worker queued them first, nothing is written and
        False comes back."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            if not self._move_cursor(conn, subscription, expected, cursor, now):
                return False
            if deliveries:
                conn.execute(
                    insert(outbox),
                    [
                        {
                            "key": d.key,
                            "digest": d.digest,
                            "subscription": subscription,
                            "channel": d.channel,
                            "target": d.target,
                            "alert_ids": list(d.alert_ids),
                            "story_ids": list(d.story_ids),
                            "subject": d.subject,
                            "body": d.body,
                            "content_type": d.content_type,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                        for d in deliveries
                    ],
                )
        return True

    def peek_subscription(self, name: str) -> tuple[int, datetime | None]:
        """(cursor, last digest time) without writing: a subscription not seen yet starts at
        the newest alert and has had no digest."""
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.name == name)).first()
            if row is None:
                return conn.scalar(select(func.coalesce(func.max(alerts.c.id), 0))) or 0, None
            return row.cursor, as_utc(row.last_digest_at)

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
        """Claim pending rows that are due, at most `limit` (CLAIM_LIMIT when None), longest
        due first: each is leased for `lease`, renewed by `heartbeat`. Claiming a few at a
        time leaves the rest to other workers. One range scan of ix_outbox_due in its own
        order, whatever the number of rows sent before."""
        now = now or utcnow()
        limit = CLAIM_LIMIT if limit is None else limit
        if limit <= 0:
            return []
        with self._claiming() as conn:
            rows = (
                conn.execute(
                    select(outbox)
                    .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
                    .order_by(outbox.c.next_attempt_at, outbox.c.id)
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
        return [_outbox_row(r) for r in rows]

    def delivery(self, key: str) -> OutboxRow | None:
        """The delivery with this key (Message-ID / webhook-id), whatever its state."""
        with self.engine.connect() as conn:
            row = conn.execute(select(outbox).where(outbox.c.key == key)).mappings().first()
        return _outbox_row(row) if row is not None else None

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

    def let_leases_lapse(self, row_ids: list[int]) -> None:
        """Stop renewing the leases of rows this worker claimed but could not settle (a
        store failure mid-send): each runs out when it would have, and the row is sent again
        then, by whichever worker is free. Rows settled meanwhile are left as they are."""
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_(row_ids),
                    outbox.c.status == "pending",
                    outbox.c.leased_by == self.worker_id,
                )
                .values(leased_by=None)
            )

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

    def mark_skipped(self, row_id: int, reason: str) -> None:
        """A delivery that is not to be sent any more (its recipient unsubscribed)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(status="skipped", leased_by=None, last_error=reason)
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
        o = outbox.c
        query = (
            select(o.id, o.subscription, o.target, o.subject, o.status, o.attempts)
            .add_columns(o.last_error, o.created_at, o.next_attempt_at)
            .where(o.status.in_(statuses))
            .order_by(o.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            OutboxEntry(
                r["id"],
                r["subscription"],
                r["target"],
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


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(
        r["id"],
        r["key"],
        r["digest"],
        r["subscription"],
        r["channel"],
        r["target"],
        bytes(r["body"]),
        r["content_type"],
        tuple(r["alert_ids"]),
        tuple(r["story_ids"]),
        r["attempts"],
        as_utc(r["created_at"]) or utcnow(),
    )
