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
from datetime import timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import Config
from monitor.errors import LocatedError, MonitorError
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

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths
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
            for problem in exc.problems:
                log.error("rules not reloaded: %s", problem)
            return None
        return rules

    @staticmethod
    def apply(rt: Runtime, rules: RuleSet | None) -> bool:
        if rules is None:
            return False
        rt.rules = rules
        log.info("rules reloaded: %d rules active", len(rt.rules.rules))
        return True


async def _guarded_delivery(rt: Runtime) -> None:
    try:
        now = utcnow()
        report = CycleReport()
        await build_digests(rt, report, now=now)
        await deliver(rt, report, now=now)
    except Exception:
        log.exception("delivery failed")


async def _guarded_tidy(rt: Runtime) -> None:
    try:
        tidy(rt)
    except Exception:  # the next run tries again
        log.exception("tidying the store failed")


def _start_polls(poller: Poller) -> None:
    try:
        poller.fill(CycleReport(), now=utcnow())
    except Exception:  # the worker outlives any one bad tick; the next one tries again
        log.exception("polling failed")


async def _poll_tick(poller: Poller) -> None:
    # starts the polls that are due and returns: a slow feed never makes a tick overrun
    _start_polls(poller)


def _after_poll(poller: Poller, scheduler: AsyncIOScheduler, report: CycleReport) -> None:
    # the place that poll took is free for a feed due meanwhile; what it found goes out now,
    # not at the delivery job's next tick
    _start_polls(poller)
    if report.alerts:
        scheduler.modify_job(DELIVERY_JOB, next_run_time=utcnow())


async def _check_rules(watcher: RuleWatcher, rt: Runtime) -> None:
    # compiled in a thread, so a big rule set never stalls polls and deliveries; swapped on
    # the event loop, between two steps of the pipeline, never in the middle of one
    watcher.apply(rt, await asyncio.to_thread(watcher.reload, rt.config))


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
    """The worker's web endpoint (unsubscribe pages), when the config has `http:`."""
    if config.http is None:
        yield
        return
    host, port = config.http.host, config.http.port
    async with AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(serving(make_app(config, rt.store), host, port))
        except OSError as exc:
            where = f"{config.path}: http.listen {host}:{port}"
            raise MonitorError(f"{where}: {exc.strerror or exc}") from exc
        log.info("serving %s", url)
        yield


async def run_worker(config: Config, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or `stop` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    deadline = ExitDeadline(EXIT_SECONDS)

    def on_signal(_signum: int, _frame: object) -> None:
        # a Python-level handler: it runs even while the loop is busy, and arms the deadline
        deadline.arm()
        loop.call_soon_threadsafe(stop.set)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    tick = min([MAX_TICK, *(f.interval for f in config.feeds)]).total_seconds()
    async with open_runtime(config, extract_workers=None) as rt, _web(config, rt):
        watcher = RuleWatcher(config.rule_paths)
        jobs = Jobs()
        scheduler = AsyncIOScheduler(timezone="UTC")
        poller = Poller(rt, on_polled=lambda report: _after_poll(poller, scheduler, report))
        scheduler.add_job(
            jobs.tracked(_poll_tick),
            "interval",
            args=[poller],
            seconds=tick,
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(tick),
            id="cycle",
        )
        # digests and deliveries on their own clock too: a slow poll never holds back an alert
        scheduler.add_job(
            jobs.tracked(_guarded_delivery),
            "interval",
            args=[rt],
            seconds=DELIVERY_SECONDS,
            # at once: a restarted worker sends what a stopped one left, without a wait
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            id=DELIVERY_JOB,
        )
        scheduler.add_job(
            jobs.tracked(_check_rules),
            "interval",
            args=[watcher, rt],
            seconds=RULES_CHECK_SECONDS,
            coalesce=True,
            max_instances=1,
            id="rules",
        )
        scheduler.add_job(
            jobs.tracked(_guarded_tidy),
            "interval",
            args=[rt],
            seconds=TIDY_SECONDS,
            coalesce=True,
            max_instances=1,
            id="tidy",
        )
        scheduler.start()
        log.info(
            "worker started: %d feeds, %d rules, %d subscriptions",
            len(config.feeds),
            len(rt.rules.rules),
            len(config.subscriptions),
        )
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await asyncio.gather(jobs.stop(), poller.stop(SHUTDOWN_SECONDS))
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("worker stopped")
