"""Workers and their leases: heartbeats, and freeing what dead workers held."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, text, update

from monitor.process import ProcessId, is_running, this_process
from monitor.store.base import StoreBase
from monitor.store.schema import feeds, outbox, workers
from monitor.timeutil import as_utc, utcnow

# A worker holds the feeds it polls and the digests it sends this long, and renews the lease
# every HEARTBEAT while it runs: a killed worker's leases run out within about a minute.
LEASE = timedelta(seconds=60)
HEARTBEAT = timedelta(seconds=15)
# A claim of feeds or outbox rows takes at most this many when its caller names no limit: a
# claim is a batch, never the whole table.
CLAIM_LIMIT = 100
# A worker that has not renewed anything for this long is forgotten.
WORKER_FORGOTTEN = timedelta(days=1)


def relaxed_commit(conn: Connection) -> None:
    """On PostgreSQL, let this transaction commit without waiting for its WAL to reach the
    disk (`synchronous_commit = off`: visible at once, durable a moment later). For leases
    and poll records only: should the database server crash in that moment, a feed is polled
    once more (conditionally), never an alert lost, as articles and alerts commit as usual."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL synchronous_commit = off"))


class WorkerStore(StoreBase):
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

    def heartbeat(self, now: datetime | None = None, last_cycle: datetime | None = None) -> None:
        """Renew this worker's leases: while it runs, nobody takes over what it holds. It
        also says when the worker last ran a poll pass, for `monitor status`."""
        now = now or utcnow()
        seen: dict[str, datetime] = {"heartbeat_at": now}
        if last_cycle is not None:
            seen["last_cycle_at"] = last_cycle
        with self.engine.begin() as conn:
            relaxed_commit(conn)
            conn.execute(update(workers).where(workers.c.id == self.worker_id).values(**seen))
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


def _is_gone(process: str, me: ProcessId) -> bool:
    """Whether a worker process of this machine has died (a PID now reused counts as dead)."""
    worker = ProcessId.parse(process)
    if worker is None or worker.machine != me.machine:
        return False
    return worker != me and not is_running(worker)
