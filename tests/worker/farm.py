"""Test-side rig for several `monitor run` processes sharing one database: a publisher of many
feeds on 127.0.0.1 that records every request per feed, the worker script and config, and
readers of what the shared store holds (leases, outbox, alerts).

The publisher serves its feeds from a few ports, one per "publisher": the worker's session
allows a few connections per host and port, as it would per real publisher, so one port for
300 feeds would make polling crawl through four connections per worker. Feeds are answered
with an ETag and a conditional GET gets 304 while nothing changed, as real publishers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.pool import NullPool

from monitor.process import ProcessId
from monitor.resources import rules_dir
from monitor.store.schema import alerts, feeds, outbox, workers
from tests.hostile.worker import Worker

# A held request waits at most this long for the test to let it go: never a hang.
HOLD_SECONDS = 30.0

# `monitor run -c CONFIG`, with the config's politeness floor on intervals (a minute: no
# publisher wants more) lowered to MIN_INTERVAL_SECONDS, so that a test sees several
# intervals go by in seconds. Nothing else of the worker is changed.
RUN_WORKER = """\
import os, sys
from datetime import timedelta

if __name__ == "__main__":  # the extraction pool's processes import this module too
    from monitor import config

    config.MIN_INTERVAL = timedelta(seconds=float(os.environ["MIN_INTERVAL_SECONDS"]))
    from monitor.cli import main

    main(["run", "-c", sys.argv[1]])
"""


@dataclass(frozen=True)
class Hit:
    at: datetime  # when the request arrived (UTC, the clock the workers stamp leases with)
    status: int


@dataclass
class Publisher:
    """`count` RSS feeds over `sites` ports. Every feed carries one item per edition it has
    seen: feeds in `busy` gain one at each `publish()`, the others keep their first. Matching
    feeds' items mention a ceasefire (the shipped `ceasefire` rule), the others the weather.
    Feeds in `stalled`, on a port of their own, hold their first request until `release` is
    set (a slow publisher: the worker polling it is mid-poll, holding the feed's lease)."""

    count: int
    busy: frozenset[int] | set[int] = frozenset()
    stalled: frozenset[int] = frozenset()
    quiet: frozenset[int] = frozenset()
    sites: int = 5
    edition: int = 0
    hits: dict[int, list[Hit]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    urls: list[str] = field(default_factory=list)

    def publish(self) -> None:
        """A new item on every busy feed."""
        self.edition += 1

    def editions(self, n: int) -> int:
        return self.edition if n in self.busy else 0

    def rss(self, n: int) -> str:
        now = format_datetime(datetime.now(UTC))
        items = []
        for k in range(self.editions(n) + 1):
            text = (
                f"The weather in district {n} stays mild, bulletin {k}."
                if n in self.quiet
                else f"Negotiators for district {n} agreed a ceasefire, bulletin {k}."
            )
            items.append(
                f"<item><title>District {n}, bulletin {k}</title>"
                f"<link>https://news.example/{n}/{k}</link><guid>district-{n}-{k}</guid>"
                f"<pubDate>{now}</pubDate><description>{text}</description>"
                f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded></item>"
            )
        return (
            '<?xml version="1.0"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>District {n}</title>{''.join(items)}</channel></rss>"
        )

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        if not 0 <= n < self.count:
            raise web.HTTPNotFound()
        etag = f'"{n}-{self.editions(n)}"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        first = n not in self.hits
        self.hits.setdefault(n, []).append(Hit(datetime.now(UTC), status))
        if first and n in self.stalled:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), HOLD_SECONDS)
        if status == 304:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            text=self.rss(n), content_type="application/rss+xml", headers={"ETag": etag}
        )

    def polled(self, n: int) -> list[datetime]:
        return [hit.at for hit in self.hits.get(n, [])]


@contextlib.asynccontextmanager
async def publishing(publisher: Publisher) -> AsyncIterator[Publisher]:
    """Serve `publisher` on 127.0.0.1 (its `urls` filled in) until the block ends."""
    app = web.Application()
    app.router.add_get("/feeds/{n}.xml", publisher._feed)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
    await runner.setup()
    for _ in range(publisher.sites + 1):  # the last one serves the stalled feeds
        await web.TCPSite(runner, "127.0.0.1", 0).start()
    ports = [address[1] for address in runner.addresses]
    publisher.urls = [
        f"http://127.0.0.1:{ports[-1] if n in publisher.stalled else ports[n % publisher.sites]}"
        f"/feeds/{n}.xml"
        for n in range(publisher.count)
    ]
    try:
        yield publisher
    finally:
        publisher.release.set()
        await runner.cleanup()


def config_text(database: str, urls: Sequence[str], interval: str, hook_url: str) -> str:
    feed_lines = "".join(f'  - {{url: "{url}", interval: {interval}}}\n' for url in urls)
    subs = "".join(
        f"""  - name: desk-{name}
    webhook: {{url: "{hook_url}/hooks/{name}", secret_env: CASES_WEBHOOK_SECRET}}
    rules: [ceasefire]
    schedule: immediate
"""
        for name in ("a", "b")
    )
    # alerts settle briefly before a digest takes them: with several workers on PostgreSQL,
    # an alert id handed out before its commit must not be passed by the cursor
    return f"""\
database: {database}
rules: {rules_dir()}
allow_private_networks: true
alert_settle: 2s
feeds:
{feed_lines}subscriptions:
{subs}"""


@dataclass
class Farm:
    """Workers on one config in `folder`, sharing the database at `database`, which the
    test reads through `engine` (no pool: each read closes its connection, and nothing of
    the test migrates the database, which the workers do, together)."""

    folder: Path
    environ: dict[str, str]
    database: str
    workers: list[Worker] = field(default_factory=list)
    killed: list[Worker] = field(default_factory=list)
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.database, poolclass=NullPool)
        return self._engine

    def write(self, text: str) -> None:
        (self.folder / "run_worker.py").write_text(RUN_WORKER)
        (self.folder / "monitor.yaml").write_text(text)

    async def start(self, count: int, timeout: float = 60) -> None:
        """`count` workers at once; returns when each has started."""
        config = self.folder / "monitor.yaml"
        script = self.folder / "run_worker.py"
        for _ in range(count):
            worker = await Worker.start(config, self.environ, str(script), str(config))
            self.workers.append(worker)
        await self.until(
            lambda: all("worker started" in w.log for w in self.workers), timeout, "start"
        )

    @property
    def logs(self) -> str:
        return "\n".join(f"--- worker {w.process.pid}:\n{w.log}" for w in self.workers)

    async def until(
        self,
        condition: Callable[[], bool],
        timeout: float,
        what: str,
        explain: Callable[[], object] = lambda: "",
    ) -> None:
        """Wait (bounded) until `condition` holds; fail with `explain()` and every worker's
        log if it never does, or if a worker that should run exits meanwhile."""
        for _ in range(int(timeout * 10)):
            if condition():
                return
            if any(w.process.returncode is not None for w in self.running):
                break
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"{what}: never happened (within {timeout:g} s) {explain()}\n{self.logs}"
        )

    @property
    def running(self) -> list[Worker]:
        return [w for w in self.workers if w not in self.killed]

    async def kill9(self, worker: Worker) -> None:
        """kill -9, then wait (bounded) until its stderr ends (nothing of it is left)."""
        self.killed.append(worker)
        worker.process.send_signal(signal.SIGKILL)
        assert await worker.stop(timeout=HOLD_SECONDS) == -signal.SIGKILL, worker.log

    async def stop(self) -> list[int]:
        """SIGTERM to each running worker; their exit codes."""
        return list(await asyncio.gather(*(w.stop() for w in self.running)))

    async def close(self) -> None:
        """Kill what still runs; each worker's log is kept beside the config."""
        for worker in self.workers:
            if worker.process.returncode is None:
                worker.process.kill()
                with contextlib.suppress(Exception):
                    await worker.stop(timeout=HOLD_SECONDS)
            (self.folder / f"worker-{worker.process.pid}.log").write_text(worker.log)

    # -- the shared store, as the test reads it ------------------------------------------------

    def worker_ids(self) -> dict[int, str]:
        """PID -> worker id of every worker registered in the store."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(workers.c.id, workers.c.process)).all()
        pids = {}
        for worker_id, process in rows:
            parsed = ProcessId.parse(process)
            if parsed is not None:
                pids[parsed.pid] = worker_id
        return pids

    def feed_leases(self) -> dict[str, tuple[str, datetime]]:
        """Feed URL -> (worker id, leased until) of every leased feed."""
        f = feeds.c
        query = select(f.url, f.leased_by, f.leased_until).where(f.leased_by.is_not(None))
        with self.engine.connect() as conn:
            return {
                url: (by, until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC))
                for url, by, until in conn.execute(query)
            }

    def never_polled(self) -> set[str]:
        """URLs of the feeds no poll has been recorded for yet."""
        query = select(feeds.c.url).where(feeds.c.last_polled_at.is_(None))
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def outbox(self) -> list[dict[str, Any]]:
        o = outbox.c
        query = select(
            o.key, o.subscription, o.status, o.leased_by, o.alert_ids, o.last_error
        ).order_by(o.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def alert_ids(self) -> set[int]:
        with self.engine.connect() as conn:
            return set(conn.scalars(select(alerts.c.id)))
