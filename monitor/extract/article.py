"""Main-text extraction: the only module that imports trafilatura.

Extraction is CPU-bound, so the pipeline runs `extract_html` in a process pool sized to the
cores (`make_pool`); it is a plain top-level function so it can be pickled to a worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import trafilatura
from trafilatura.settings import use_config

from monitor.models import Article

log = logging.getLogger("monitor.extract.article")

# Pages with more elements than this are not articles worth the CPU (or are hostile).
MAX_TREE_SIZE = 100_000
# How often a pool process checks that the worker is still alive, where pidfds are missing.
PARENT_CHECK_INTERVAL = 0.5
# A page that takes longer than this to extract is given up on (its feed summary stands in).
EXTRACT_TIMEOUT = 60.0
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "max_tree_size", str(MAX_TREE_SIZE))


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None

    def fill(self, article: Article) -> Article:
        """The entry's article completed by its page: the page's text, site and language; the
        feed's title and date first (pages often show the first publication, feeds the update)."""
        return replace(
            article,
            title=article.title or self.title or "",
            text=self.text,
            published=article.published or self.published,
            site_name=self.site_name,
            language=self.language,
            partial=False,
        )

    def as_article(self, url: str) -> Article:
        """The page as an article of its own (replay, benchmarks): the standfirst as summary."""
        return Article(
            url=url,
            title=self.title or "",
            text=self.text,
            summary=self.description or "",
            published=self.published,
            site_name=self.site_name,
            language=self.language,
        )


@dataclass(frozen=True)
class ExtractFailure:
    reason: str


def extract_html(html: bytes | str, url: str) -> Extracted | ExtractFailure:
    """Extract the main text and metadata of an article page."""
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            config=_CONFIG,
        )
    except Exception as exc:  # trafilatura and lxml raise many types on hostile markup
        return ExtractFailure(f"extract: failed ({type(exc).__name__}: {exc})")
    if not isinstance(doc, trafilatura.settings.Document) or not (doc.text or "").strip():
        return ExtractFailure("extract: no main text found")
    return Extracted(
        text=(doc.text or "").strip(),
        title=doc.title or None,
        published=_parse_date(doc.date),
        site_name=doc.sitename or None,
        language=doc.language or None,
        description=doc.description or None,
        canonical_url=doc.url or None,
    )


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def make_pool(workers: int | None = None) -> Executor:
    """A process pool for extraction; forkserver so workers never inherit the loop's threads.
    Its processes exit when the worker dies, even by kill -9 (see `_exit_with`)."""
    workers = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_exit_with,
        initargs=(os.getpid(),),
    )


def _exit_with(worker_pid: int) -> None:
    """In a pool process: exit as soon as the worker process is gone. Pool processes are the
    forkserver's children, and the forkserver lives as long as they do, so nobody else ends
    them: without this, a killed worker left them running, holding its memory and its stdout
    (`monitor once | logger` never ended)."""

    def watch() -> None:
        try:
            # a pidfd becomes readable when the process exits (immune to pid reuse)
            pidfd = os.pidfd_open(worker_pid)
            select.select([pidfd], [], [])
        except (AttributeError, OSError):  # no pidfds here: look now and then
            while _alive(worker_pid):
                time.sleep(PARENT_CHECK_INTERVAL)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-worker", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ExtractionPool:
    """The process pool extraction runs in, healed when it breaks: a process that dies (the
    pool is then broken for good: `BrokenProcessPool` for every later page) or a page that
    overruns its time (its process would go on for minutes) gets the pool's processes
    stopped and a new pool started, and the failure logged and counted. Pages in flight on
    the old pool fail with it; their feed summaries stand in."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.rebuilds = 0  # pools started again, for the logs and metrics
        self._pool = make_pool(workers)

    async def extract(
        self, html: bytes | str, url: str, *, timeout: float = EXTRACT_TIMEOUT
    ) -> Extracted | ExtractFailure:
        pool = self._pool
        try:
            job = asyncio.get_running_loop().run_in_executor(pool, extract_html, html, url)
            return await asyncio.wait_for(job, timeout)
        except TimeoutError:
            self._rebuild(pool, f"a page took over {timeout:g}s")
            return ExtractFailure(f"extract: gave up after {timeout:g}s (its process was stopped)")
        except BrokenProcessPool:
            self._rebuild(pool, "an extraction process died")
            return ExtractFailure("extract: the extraction process died (the pool was restarted)")

    def _rebuild(self, broken: Executor, why: str) -> None:
        if broken is not self._pool:
            return  # another page's failure restarted it already
        # the executor has no public way to stop a running call: its processes (a private
        # pid -> process map, taken before shutdown forgets it) are killed
        processes = list((getattr(broken, "_processes", None) or {}).values())
        broken.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.kill()
        self._pool = make_pool(self.workers)
        self.rebuilds += 1
        log.warning("extraction pool restarted (%s; %d processes stopped)", why, len(processes))

    def shutdown(self) -> None:
        self._pool.shutdown(cancel_futures=True)


async def extract(
    pool: ExtractionPool | None, html: bytes | str, url: str, *, timeout: float = EXTRACT_TIMEOUT
) -> Extracted | ExtractFailure:
    """Run `extract_html` in `pool` (in this process when pool is None). A page that takes
    longer than `timeout` is given up on, so one pathological page cannot stall a cycle."""
    if pool is None:
        return extract_html(html, url)
    return await pool.extract(html, url, timeout=timeout)
