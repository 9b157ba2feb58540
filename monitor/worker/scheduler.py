"""The clock of `monitor run`: APScheduler's AsyncIOScheduler calls the pipeline's cycle and the
rule watcher. All schedule state (when each feed is due, when each digest was sent) lives in
the store, so the scheduler only decides how often to look."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config, load_config
from monitor.digest.render import make_environment
from monitor.errors import LocatedError, MonitorError
from monitor.metrics import Metrics
from monitor.rules.load import load_rules, rule_files
from monitor.rules.match import RuleSet
from monitor.timeutil import utcnow
from monitor.web.app import make_app, serving
from monitor.worker.deliver import build_digests, deliver
from monitor.worker.ingest import Poller
from monitor.worker.pipeline import CycleReport, Runtime, open_runtime, tidy
from monitor.worker.runtime import check_subscribed_rules

log = logging.getLogger("monitor.worker.scheduler")

# How often the worker looks for due feeds (each keeps its own interval); digests and
# deliveries run on their own clock (DELIVERY_SECONDS).
MAX_TICK = timedelta(seconds=30)
RULES_CHECK_SECONDS = 2.0
DELIVERY_SECONDS = 10.0
DELIVERY_JOB = "deliver"
TIDY_SECONDS = 600.0
# the worker says what it did at most this often (nothing when it did nothing)
LOG_SECONDS = 60
# On SIGTERM, running jobs get this long to finish their cancellation...
SHUTDOWN_SECONDS = 5.0
# ...and the whole process this long to exit, or it is ended (EXIT_CODE_FORCED).
EXIT_SECONDS = 10.0
EXIT_CODE_FORCED = 70  # EX_SOFTWARE


class ExitDeadline:
    """Once armed, ends the process after `seconds` if it has not exited by then: whatever
    still runs (a thread stuck in a library, a hung connection) cannot hold up a SIGTERM.
    Stored state is safe: everything the worker writes is committed in transactions."""

    def __init__(self, seconds: float) -> None:
        self.timer = threading.Timer(seconds, self._expire, args=(seconds,))
        self.timer.daemon = True  # never keeps the process alive itself

    def arm(self) -> None:
        if not self.timer.is_alive():
            self.timer.start()

    @staticmethod
    def _expire(seconds: float) -> None:
        sys.stderr.write(f"monitor: did not stop within {seconds:g} s of the signal: exiting\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE_FORCED)


class RuleWatcher:
    """Reloads the rule set when a rule file changes; an invalid change keeps the last good set."""

    def __init__(self, paths: tuple[Path, ...], metrics: Metrics) -> None:
        self.paths = paths
        self.metrics = metrics
        self.stamp = self._stamp()

    def _stamp(self) -> tuple[tuple[str, float, int], ...]:
        stamps = []
        for file in rule_files(self.paths):
            try:
                stat = file.stat()
            except OSError:
                continue
            stamps.append((str(file), stat.st_mtime, stat.st_size))
        return tuple(stamps)

    def check(self, rt: Runtime) -> bool:
        """Reload if anything changed; True when a new rule set became active."""
        return self.apply(rt, self.reload(rt.config))

    def reload(self, config: Config) -> RuleSet | None:
        """The rule set anew if a file changed and all is valid, else None (problems logged).
        Safe to run in another thread: it only reads."""
        stamp = self._stamp()
        if stamp == self.stamp:
            return None
        self.stamp = stamp
        try:
            rules = load_rules(self.paths)
            check_subscribed_rules(config, rules)
        except LocatedError as exc:  # invalid rules, or a subscribed rule gone
            self.metrics.rule_reloads.labels("failed").inc()
            for problem in exc.problems:
                log.error("rules not reloaded: %s", problem)
            return None
        self.metrics.rule_reloads.labels("ok").inc()
        return rules

    @staticmethod
    def apply(rt: Runtime, rules: RuleSet | None) -> bool:
        if rules is None:
            return False
        rt.rules = rules
        log.info("rules reloaded: %d rules active", len(rt.rules.rules))
        return True


class Jobs:
    """The jobs running now, so that shutdown stops them in order: cancelled, then awaited,
    before the runtime they use closes (a cancelled poll logs no traceback)."""

    def __init__(self) -> None:
        self.running: set[asyncio.Task[Any]] = set()

    def tracked(self, job: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def run(*args: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            try:
                await job(*args)
            except asyncio.CancelledError:
                log.info("%s stopped by shutdown", job.__name__.strip("_"))
            finally:
                self.running.discard(task)

        run.__name__ = job.__name__
        return run

    async def stop(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        for task in self.running:
            task.cancel()
        if self.running:
            await asyncio.wait(self.running, timeout=timeout)


@asynccontextmanager
async def _web(config: Config, rt: Runtime) -> AsyncIterator[None]:
    """The worker's web endpoint (health, metrics, unsubscribe pages), when `http:` is set."""
    if config.http is None:
        yield
        return
    host, port = config.http.host, config.http.port
    async with AsyncExitStack() as stack:
        app = make_app(config, rt.store, metrics=rt.metrics, ready_within=_ready_within(config))
        try:
            url = await stack.enter_async_context(serving(app, host, port))
        except OSError as exc:
            where = f"{config.path}: http.listen {host}:{port}"
            raise MonitorError(f"{where}: {exc.strerror or exc}") from exc
        log.info("serving %s", url)
        yield


def _tick(config: Config) -> float:
    """How often to look for due feeds: the shortest feed interval, at most MAX_TICK."""
    return min([MAX_TICK, *(f.interval for f in config.feeds)]).total_seconds()


def _ready_within(config: Config) -> float:
    """`/readyz` fails once no poll pass has run for this long (a stuck scheduler)."""
    return 3 * _tick(config) + 10


class Worker:
    """The jobs of `monitor run` on one runtime: polls as room frees up, digests and
    deliveries on their own clock, rule hot reload, tidying, and a log line per period.
    SIGHUP reloads the config and rules (`reload`)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.jobs = Jobs()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.watcher = RuleWatcher(rt.config.rule_paths, rt.metrics)
        self.poller = Poller(rt, on_polled=self._after_poll)
        # what the worker did since it started, and at the last log line
        self.totals = CycleReport()
        self.logged = CycleReport()
        self.alerts_sent_for = 0  # the alert count when delivery was last woken by a poll

    def start(self) -> None:
        tick = _tick(self.rt.config)
        every = self._every
        every(
            self._poll_tick, tick, id="cycle", next_run_time=utcnow(), misfire_grace_time=int(tick)
        )
        # digests and deliveries on their own clock: a slow poll never holds back an alert;
        # at once at start, so a restarted worker sends what a stopped one left
        every(self._deliver, DELIVERY_SECONDS, id=DELIVERY_JOB, next_run_time=utcnow())
        every(self._check_rules, RULES_CHECK_SECONDS, id="rules")
        every(self._tidy, TIDY_SECONDS, id="tidy")
        every(self._log_period, LOG_SECONDS, id="log")
        self.scheduler.start()
        config = self.rt.config
        log.info(
            "worker started: %d feeds, %d rules, %d subscriptions",
            len(config.feeds),
            len(self.rt.rules.rules),
            len(config.subscriptions),
        )

    def _every(self, job: Callable[[], Awaitable[None]], seconds: float, **options: Any) -> None:
        # one run at a time; runs missed while one was running collapse into one
        self.scheduler.add_job(
            self.jobs.tracked(job),
            "interval",
            seconds=seconds,
            coalesce=True,
            max_instances=1,
            **options,
        )

    async def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        await asyncio.gather(self.jobs.stop(), self.poller.stop(SHUTDOWN_SECONDS))
        self._log_totals()

    async def _start_polls(self) -> None:
        try:
            await self.poller.fill(self.totals, now=utcnow())
        except Exception:  # the worker outlives any one bad tick; the next one tries again
            log.exception("polling failed")

    async def _poll_tick(self) -> None:
        # starts the polls that are due and returns: a slow feed never makes a tick overrun
        await self._start_polls()
        self.rt.metrics.cycle_done()

    async def _after_poll(self, report: CycleReport) -> None:
        # the place that poll took is free for a feed due meanwhile; what it found goes out
        # now, not at the delivery job's next tick
        await self._start_polls()
        if report.alerts > self.alerts_sent_for:
            self.alerts_sent_for = report.alerts
            self.scheduler.modify_job(DELIVERY_JOB, next_run_time=utcnow())

    async def _deliver(self) -> None:
        try:
            now = utcnow()
            await build_digests(self.rt, self.totals, now=now)
            await deliver(self.rt, self.totals, now=now)
        except Exception:
            log.exception("delivery failed")

    async def _check_rules(self) -> None:
        # compiled in a thread, so a big rule set never stalls polls and deliveries; swapped
        # on the event loop, between two steps of the pipeline, never in the middle of one
        rules = await asyncio.to_thread(self.watcher.reload, self.rt.config)
        self.watcher.apply(self.rt, rules)

    async def _tidy(self) -> None:
        try:
            await self.rt.db(tidy, self.rt)
        except Exception:  # the next run tries again
            log.exception("tidying the store failed")

    async def _log_period(self) -> None:
        period = self.totals.since(self.logged)
        if period == CycleReport():
            return  # nothing happened: no line (`/metrics` and `monitor status` say it lives)
        self.logged = replace(self.totals)
        log.info("%s in the last %d s", period.summary(), LOG_SECONDS)

    def _log_totals(self) -> None:
        log.info("since start: %s", self.totals.summary())

    async def reload(self) -> None:
        """Read the config and rules again and apply what can change while running: feeds,
        subscriptions, schedules, rules, templates, SMTP and webhooks. An invalid config
        keeps the running one; the database, `http:` and `allow_private_networks` need a
        restart."""
        old = self.rt.config
        if old.path is None:
            return
        try:
            new = await asyncio.to_thread(load_config, old.path)
            rules = await asyncio.to_thread(load_rules, new.rule_paths)
            check_subscribed_rules(new, rules)
        except LocatedError as exc:
            for problem in exc.problems:
                log.error("config not reloaded: %s", problem)
            return
        fixed = {
            "database": old.database_url != new.database_url,
            "http": old.http != new.http,
            "allow_private_networks": old.allow_private_networks != new.allow_private_networks,
        }
        for key in (k for k, changed in fixed.items() if changed):
            log.warning("config: %s changed: it takes effect at the next restart", key)
        new = replace(
            new,
            database_url=old.database_url,
            http=old.http,
            allow_private_networks=old.allow_private_networks,
        )
        # the poller knows the new feeds before the store makes them claimable
        self.poller.feeds = {f.url: f for f in new.feeds}
        store = self.rt.store
        await self.rt.db(store.sync_feeds, [f.url for f in new.feeds])
        for sub in new.subscriptions:
            await self.rt.db(store.subscription_state, sub.name)
        self.rt.config, self.rt.rules = new, rules
        self.rt.templates = make_environment(new.templates_dir)
        self.watcher = RuleWatcher(new.rule_paths, self.rt.metrics)
        self.scheduler.reschedule_job("cycle", trigger="interval", seconds=_tick(new))
        log.info(
            "config reloaded: %d feeds, %d rules, %d subscriptions",
            len(new.feeds),
            len(rules.rules),
            len(new.subscriptions),
        )


async def run_worker(config: Config, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set), then shut down cleanly; SIGHUP reloads
    the config and rules."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = ExitDeadline(EXIT_SECONDS)
    worker: Worker | None = None
    reloads: set[asyncio.Task[None]] = set()

    def on_signal(_signum: int, _frame: object) -> None:
        # a Python-level handler: it runs even while the loop is busy, and arms the deadline
        deadline.arm()
        loop.call_soon_threadsafe(stop.set)

    def on_hangup(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(_start_reload)

    def _start_reload() -> None:
        if worker is not None:
            task = loop.create_task(worker.reload())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

    handlers = {signal.SIGTERM: on_signal, signal.SIGINT: on_signal, signal.SIGHUP: on_hangup}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        async with open_runtime(config, extract_workers=None) as rt, _web(config, rt):
            worker = Worker(rt)
            worker.start()
            try:
                await stop.wait()
            finally:
                await worker.stop()
                log.info("worker stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
