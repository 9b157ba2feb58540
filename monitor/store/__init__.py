"""State: feeds and their health, articles, alerts, figure history, subscriptions, outbox.

SQLAlchemy 2 Core over SQLite (WAL) by default; the same statements run on PostgreSQL. The
outbox makes delivery at-least-once: a digest's row is written, in the same transaction that
moves its subscription's cursor past the alerts it holds, before anything is sent.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine, create_engine, event

from monitor.store.alerts import SETTLE, AlertStore
from monitor.store.articles import ArticleStore
from monitor.store.base import _sqlite_begin, _sqlite_pragmas, migrate
from monitor.store.feeds import FeedState, FeedStore
from monitor.store.outbox import NewDelivery, OutboxEntry, OutboxRow, OutboxStore
from monitor.store.schema import alerts, articles, feeds, metadata, subscriptions
from monitor.store.search import SearchStore
from monitor.store.silences import SilenceStore
from monitor.store.subscribers import SubscriberStore, Unsubscribe
from monitor.store.workers import HEARTBEAT, LEASE, WorkerStore

__all__ = [
    "HEARTBEAT",
    "LEASE",
    "FeedState",
    "NewDelivery",
    "OutboxEntry",
    "OutboxRow",
    "Store",
    "Unsubscribe",
    "alerts",
    "articles",
    "feeds",
    "metadata",
    "subscriptions",
]


# SilenceStore reads alerts (it is an AlertStore): it comes before AlertStore
class Store(
    WorkerStore,
    FeedStore,
    ArticleStore,
    SilenceStore,
    AlertStore,
    OutboxStore,
    SubscriberStore,
    SearchStore,
):
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
