"""What the worker counts, for `/metrics` (Prometheus text format, prometheus-client).

Counters are kept in the process as the pipeline works (one registry per worker, never the
library's global one, so two runtimes in one process count apart). Gauges about stored state
(outbox depth, oldest pending delivery, feed lag) are read from the store when scraped, so
they are right whichever worker did the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from monitor.store import Store
from monitor.store.schema import feeds, outbox
from monitor.timeutil import as_utc, utcnow

__all__ = ["Metrics", "fetch_error_kind"]

# (kind, words in the error) in order: the first that matches names the kind
_FETCH_ERROR_KINDS = (
    ("timeout", ("timed out",)),
    ("refused", ("fetch: refused",)),  # the SSRF guard
    ("dns", ("cannot resolve",)),
    ("tls", ("TLS error",)),
    ("connection", ("connection", "disconnected")),
    ("too_large", ("larger than",)),
    ("redirect", ("redirect",)),
    ("not_a_feed", ("feed:",)),
)


def fetch_error_kind(error: str, status: int | None = None) -> str:
    """A small fixed set of labels for fetch and poll errors (never the error text itself:
    labels must not grow without bound)."""
    if status is not None and status >= 400:
        return "http_5xx" if status >= 500 else "http_4xx"
    for kind, words in _FETCH_ERROR_KINDS:
        if any(word in error for word in words):
            return kind
    return "other"


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    # when the last poll pass (tick) or one-off cycle ran: monotonic seconds, and UTC
    last_cycle_monotonic: float | None = None
    last_cycle_at: datetime | None = None

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter(
            "monitor_polls",
            "Feed polls, by outcome (ok, not_modified, failed)",
            ["outcome"],
            registry=r,
        )
        self.fetch_errors = Counter(
            "monitor_fetch_errors", "Failed feed and page fetches, by kind", ["kind"], registry=r
        )
        self.articles = Counter("monitor_articles", "New articles loaded", registry=r)
        self.extraction_seconds = Histogram(
            "monitor_extraction_seconds",
            "Time to extract an article page's main text",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.matches = Counter(
            "monitor_matches",
            "Rule matches (before alert policies), by rule",
            ["rule"],
            registry=r,
        )
        self.alerts = Counter("monitor_alerts", "Alerts recorded, by rule", ["rule"], registry=r)
        self.deliveries = Counter(
            "monitor_deliveries",
            "Delivery attempts, by channel and outcome (sent, retry, dead, skipped)",
            ["channel", "status"],
            registry=r,
        )
        self.rule_reloads = Counter(
            "monitor_rule_reloads",
            "Rule set reloads, by outcome (ok, failed)",
            ["outcome"],
            registry=r,
        )
        self.last_cycle = Gauge(
            "monitor_last_cycle_timestamp_seconds",
            "When the worker last finished a poll pass (Unix time)",
            registry=r,
        )

    def cycle_done(self) -> None:
        self.last_cycle.set_to_current_time()
        self.last_cycle_monotonic = time.monotonic()
        self.last_cycle_at = utcnow()

    def seconds_since_cycle(self) -> float | None:
        if self.last_cycle_monotonic is None:
            return None
        return time.monotonic() - self.last_cycle_monotonic

    def watch(self, store: Store) -> None:
        """Also report the stored state of `store` at every scrape."""
        self.registry.register(_StoredState(store))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _StoredState(Collector):
    """Gauges read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        depth = GaugeMetricFamily(
            "monitor_outbox_rows",
            "Outbox rows (one per target of a digest), by status",
            labels=["status"],
        )
        for status, count in sorted(self.store.outbox_counts().items()):
            depth.add_metric([status], count)
        yield depth
        with self.store.engine.connect() as conn:
            oldest = conn.scalar(
                select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
            )
            overdue = conn.scalar(
                select(func.min(feeds.c.next_poll_at)).where(feeds.c.next_poll_at <= now)
            )
        yield GaugeMetricFamily(
            "monitor_outbox_oldest_pending_seconds",
            "Age of the oldest delivery not sent yet (0 when none)",
            value=_age(oldest, now),
        )
        yield GaugeMetricFamily(
            "monitor_feed_lag_seconds",
            "How long the most overdue feed has been due (0 when none is)",
            value=_age(overdue, now),
        )


def _age(moment: datetime | None, now: datetime) -> float:
    stamp = as_utc(moment)
    return max(0.0, (now - stamp).total_seconds()) if stamp is not None else 0.0
