"""One cycle of the worker, as a recipe:

    poll due feeds -> for each new entry: fetch page -> extract -> match -> record alerts
    (monitor.worker.ingest) -> build the digests that are due -> deliver the outbox
    (monitor.worker.deliver)

Each step is a function over a `Runtime` (config, store, rules, HTTP session, extraction pool,
templates). Failures of one feed, page or delivery are recorded and logged; the cycle goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime

from monitor.timeutil import utcnow
from monitor.worker.deliver import build_digests, deliver
from monitor.worker.ingest import poll_feeds
from monitor.worker.runtime import CycleReport, Runtime, open_runtime

__all__ = ["CycleReport", "Runtime", "open_runtime", "run_cycle", "tidy"]

log = logging.getLogger("monitor.worker.pipeline")


async def run_cycle(
    rt: Runtime, *, poll_all: bool = False, now: datetime | None = None
) -> CycleReport:
    """Poll what is due (everything with `poll_all`), match, build due digests, deliver."""
    now = now or utcnow()
    report = CycleReport()
    await poll_feeds(rt, report, poll_all=poll_all, now=now)
    await build_digests(rt, report, now=now)
    await deliver(rt, report, now=now)
    await rt.db(tidy, rt, now)
    rt.metrics.cycle_done()
    log.info("cycle done: %s", report.summary())
    return report


def tidy(rt: Runtime, now: datetime | None = None) -> None:
    """Forget what no later step can need: story band keys older than the story window."""
    forgotten = rt.store.forget_story_bands(now)
    if forgotten:
        log.info("forgot %d story band keys past the story window", forgotten)
