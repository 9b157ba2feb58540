"""What a cycle runs with: config, store, compiled rules, the HTTP sessions, the extraction
pool and the templates, opened and closed together; while open, the worker's heartbeat keeps
its leases."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

import aiohttp

from monitor.config import Config
from monitor.digest.render import BoundedEnvironment, make_environment
from monitor.errors import ConfigError
from monitor.extract import article as extraction
from monitor.intake.netguard import DEFAULT_USER_AGENT, make_session
from monitor.intake.robots import RobotsPolicy
from monitor.metrics import Metrics
from monitor.rules import BUILTIN_RULES
from monitor.rules.load import load_rules
from monitor.rules.match import RuleSet
from monitor.store import HEARTBEAT, Store

log = logging.getLogger("monitor.worker.runtime")

# Store calls run in threads, off the event loop: a slow database delays the pipeline's
# steps that wait for it, never the loop (fetches, sends, the web endpoint, the heartbeat).
# SQLite takes one writer at a time, so it gets one thread; PostgreSQL a few.
DB_THREADS = 4

T = TypeVar("T")


@dataclass
class Runtime:
    """Everything a cycle runs with; `rules` is replaced whole on a hot reload."""

    config: Config
    store: Store
    rules: RuleSet
    session: aiohttp.ClientSession  # feeds and pages
    # webhooks have their own connections: heavy ingest never makes a digest wait for one
    webhook_session: aiohttp.ClientSession
    pool: extraction.ExtractionPool | None
    robots: RobotsPolicy | None = None  # None when robots.txt is not to be respected
    templates: BoundedEnvironment = field(init=False)
    # identities of entries being processed right now, by any feed of this worker
    in_flight: set[str] = field(init=False, default_factory=set)
    # pages of each feed that failed extraction in a row (see ingest.record_extraction)
    extraction_failures: dict[str, int] = field(init=False, default_factory=dict)
    metrics: Metrics = field(init=False, default_factory=Metrics)
    db_threads: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.templates = make_environment(self.config.templates_dir)
        self.metrics.watch(self.store)
        threads = 1 if self.store.engine.dialect.name == "sqlite" else DB_THREADS
        self.db_threads = ThreadPoolExecutor(threads, thread_name_prefix="store")

    async def db(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`call(*args, **kwargs)` (a store method, or a step made of store calls) in the
        store's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db_threads, functools.partial(call, *args, **kwargs))


@dataclass
class CycleReport:
    feeds_polled: int = 0
    feeds_failed: int = 0
    articles: int = 0
    alerts: int = 0
    digests: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    # of the failures, those given up on (dead letters)
    dead_lettered: int = 0

    def since(self, earlier: CycleReport) -> CycleReport:
        """What happened after `earlier`, a copy of this report taken then."""
        return CycleReport(**{k: v - getattr(earlier, k) for k, v in asdict(self).items()})

    def summary(self) -> str:
        """ "polled 12 feeds (1 failed), 30 new articles, 4 alerts, 2 digests, 2 delivered" """
        text = (
            f"polled {self.feeds_polled} feeds ({self.feeds_failed} failed), "
            f"{self.articles} new articles, {self.alerts} alerts, {self.digests} digests, "
            f"{self.delivered} delivered"
        )
        if self.delivery_failures:
            text += f" ({self.delivery_failures} failed, {self.dead_lettered} for good)"
        return text


def check_subscribed_rules(config: Config, rules: RuleSet) -> None:
    """A misspelt rule id in a subscription would silently receive nothing: refuse to start."""
    known = set(rules.ids) | set(BUILTIN_RULES)
    problems = [
        replace(where, message=f"subscription '{sub.name}': unknown rule '{rule}'")
        for sub in config.subscriptions
        for rule, where in zip(sub.rules, sub.rule_locations, strict=True)
        if rule not in known
    ]
    if problems:
        raise ConfigError(problems)


@asynccontextmanager
async def open_runtime(
    config: Config, *, extract_workers: int | None = 0
) -> AsyncIterator[Runtime]:
    """Everything a cycle needs; `extract_workers=None` sizes the process pool to the cores,
    0 extracts in this process (tests, one-shot runs)."""
    rules = load_rules(config.rule_paths)
    check_subscribed_rules(config, rules)
    store = Store(config.database_url, settle=config.alert_settle)
    store.sync_feeds([f.url for f in config.feeds])
    # a subscription receives alerts recorded from the moment it is first seen
    for sub in config.subscriptions:
        store.subscription_state(sub.name)
    # what is loaded so far (modules, config, the first rule set) lives as long as the worker:
    # keep the garbage collector from rescanning it (a reloaded rule set is not frozen)
    gc.freeze()
    freed = store.register_worker()
    if freed:
        log.info("took over %d leases of a worker that stopped on this machine", freed)
    pool = None if extract_workers == 0 else extraction.ExtractionPool(extract_workers)
    session = make_session(allow_private=config.allow_private_networks)
    webhook_session = make_session(allow_private=config.allow_private_networks)
    robots = (
        RobotsPolicy(
            session, allow_private=config.allow_private_networks, user_agent=DEFAULT_USER_AGENT
        )
        if config.respect_robots_txt
        else None
    )
    rt = Runtime(config, store, rules, session, webhook_session, pool, robots)
    heartbeat = asyncio.create_task(_beat(rt))
    try:
        yield rt
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        rt.db_threads.shutdown(wait=True)
        await session.close()
        await webhook_session.close()
        if pool is not None:
            pool.shutdown()
        try:
            store.retire_worker()
        except Exception:  # its leases simply run out
            log.exception("could not release this worker's leases")
        store.close()


async def _beat(rt: Runtime) -> None:
    """Renew this worker's leases while it runs (a failed beat is retried at the next one)."""
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            await rt.db(rt.store.heartbeat, last_cycle=rt.metrics.last_cycle_at)
        except Exception:
            log.exception("heartbeat failed: leases may run out")
