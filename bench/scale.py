"""Scale: feed claims on a table of 1,000,000 feeds, and articles/s with 1, 2 and 3 workers.

Part 1, claims, on SQLite (a temp file) and on PostgreSQL (a database of its own, `bench_scale`,
dropped at the end; never the tests' `test`). A feed table is filled in bulk (executemany in
chunks on SQLite, COPY on PostgreSQL): 1 in 50 feeds inactive (out of the config), 1 in 1,000
never polled, the others due at a time spread over 15 minutes either side of now, so about half
are due. Each row claims batches of BATCH feeds (what a worker with POLL_CONCURRENCY free
places takes) with `Store.claim_due_feeds` and, untimed, moves each batch's feeds to their next
poll in one UPDATE (as `record_poll` would), for MEASURE_SECONDS. Rows, all in this run:

- "old claim": the claim as it was before migration 0007, every configured URL bound in an
  `url IN (...)` list, on a table of SMALL feeds; one attempt at 1M shows what it does there
  (PostgreSQL refuses more than 65,535 bound parameters; SQLite allows what it was built
  with, 250,000 on Debian, 32,766 by default);
- "claim": the claim now (active flag, partial index ix_feeds_due), on SMALL and on 1M feeds;
- "claim + record_poll": the whole lease cycle, each feed's real `record_poll` timed too;
- "claim, no index": the same claim with ix_feeds_due dropped (what a seq scan costs);
- "3 claimers, + record_poll": three stores (threads) claiming and recording at once;
  every feed must go to one only.

The goal (issue 10): one poll every 15 minutes of each of 1M feeds is 1M / 900 s = 1,111
feeds claimed per second. EXPLAIN (QUERY PLAN on SQLite, ANALYZE on PostgreSQL) of the claim's
statements at 1M is printed. `sync_feeds` of 1M configured feeds (a restart) is timed too.

Part 2, end to end: E2E_FEEDS loopback feeds served by bench/poll.py's feed server (a child
process; 5 items per feed with the full text in content:encoded, so no article page is
fetched) go through the real pipeline (`open_runtime` + `run_cycle`, the shipped rules, no
process pool) in 1, 2 and 3 worker processes on PostgreSQL, and in one on SQLite, each run on a
fresh database. The workers start, then wait at a barrier: the clock runs from the moment they
are released until the last has polled every due feed. Each feed must be polled exactly once
across the workers.

Only 127.0.0.1 is ever contacted. Usage: `python bench/scale.py [--feeds N] [--e2e-feeds N]`.
Prints tables, then one JSON line: {"bench": "scale", "claims": [...], "end_to_end": [...], ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event, func, or_, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import load_config  # noqa: E402
from monitor.models import PollResult  # noqa: E402
from monitor.resources import rules_dir  # noqa: E402
from monitor.store import LEASE, Store  # noqa: E402
from monitor.store.schema import FEED_ACTIVE, feeds  # noqa: E402
from monitor.worker.ingest import POLL_CONCURRENCY  # noqa: E402

FEEDS = 1_000_000
SMALL = 20_000
BATCH = POLL_CONCURRENCY
INTERVAL = timedelta(minutes=15)
MEASURE_SECONDS = 2.5
MIN_BATCHES = 3
CLAIMERS = 3
E2E_FEEDS = 150
E2E_WORKERS = (1, 2, 3)
HOST = "127.0.0.1"
POSTGRES = os.environ.get(
    "MONITOR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_scale"
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the databases -------------------------------------------------------------------------


def _libpq(url: str) -> str:
    return url.replace("+psycopg", "")


def _admin(url: str) -> psycopg.Connection[Any]:
    """A connection to the server's maintenance database, to create and drop ours."""
    base, _, _name = _libpq(url).rpartition("/")
    return psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3)


def postgres_unreachable(url: str) -> str | None:
    try:
        _admin(url).close()
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {url} ({str(exc).strip().splitlines()[0]})"
    return None


def fresh_postgres(url: str) -> None:
    """Our own database, empty (dropped first if a previous run left it)."""
    name = url.rpartition("/")[2]
    assert name not in ("test", "postgres"), f"the bench never touches database {name!r}"
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    name = url.rpartition("/")[2]
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- filling the feed table ------------------------------------------------------------------


def feed_url(n: int) -> str:
    return f"https://news{n % 997}.example.org/{n}/rss.xml"


def feed_rows(start: int, stop: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    """(url, active, next_poll_at, last_polled_at, etag, last_status, created_at) per feed."""
    rng = random.Random(start)
    span = INTERVAL.total_seconds()
    for n in range(start, stop):
        active = n % 50 != 1
        if n % 1000 == 0:
            yield feed_url(n), active, None, None, None, None, now
            continue
        due = now + timedelta(seconds=rng.uniform(-span, span))
        yield feed_url(n), active, due, due - INTERVAL, f'"e{n:x}"', 200, now


COLUMNS = ("url", "active", "next_poll_at", "last_polled_at", "etag", "last_status", "created_at")


def fill(store: Store, start: int, stop: int, now: datetime) -> float:
    """Add feeds [start, stop) in bulk; returns the seconds it took."""
    began = time.perf_counter()
    rows = feed_rows(start, stop, now)
    constant = "consecutive_failures, items_seen"
    if store.engine.dialect.name == "postgresql":
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            names = ", ".join(COLUMNS)
            with cursor.copy(f"COPY feeds ({names}, {constant}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, 0, 5))
            raw.commit()
        finally:
            raw.close()
    else:
        # the strings SQLAlchemy itself stores for these types, so the claim compares alike
        dialect = store.engine.dialect
        stamp = feeds.c.next_poll_at.type.dialect_impl(dialect).bind_processor(dialect)
        assert stamp is not None
        database = store.engine.url.database
        assert database is not None
        conn = sqlite3.connect(database)
        try:
            marks = ", ".join("?" * (len(COLUMNS) + 2))
            statement = f"INSERT INTO feeds ({', '.join(COLUMNS)}, {constant}) VALUES ({marks})"
            chunk: list[tuple[Any, ...]] = []
            with conn:
                for url, active, due, polled, etag, status, created in rows:
                    chunk.append(
                        (url, int(active), stamp(due), stamp(polled), etag, status)
                        + (stamp(created), 0, 5)
                    )
                    if len(chunk) == 50_000:
                        conn.executemany(statement, chunk)
                        chunk.clear()
                conn.executemany(statement, chunk)
        finally:
            conn.close()
    with store.engine.begin() as conn:  # fresh statistics, as autovacuum would have by then
        conn.execute(text("ANALYZE feeds" if conn.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - began


# --- claims ----------------------------------------------------------------------------------


def old_claim(store: Store, urls: list[str], now: datetime, limit: int) -> list[int]:
    """The feed claim before migration 0007 (git show 48d3592:monitor/store/feeds.py)."""
    free = or_(feeds.c.leased_until.is_(None), feeds.c.leased_until <= now)
    due = or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now)
    query = (
        select(feeds)
        .where(free, feeds.c.url.in_(urls), feeds.c.id.not_in([]), due)
        .order_by(feeds.c.next_poll_at.asc().nulls_first(), feeds.c.id)
        .limit(limit)
    )
    with store._claiming() as conn:
        rows = conn.execute(query.with_for_update(skip_locked=True)).mappings().all()
        if rows:
            conn.execute(
                update(feeds)
                .where(feeds.c.id.in_([r["id"] for r in rows]))
                .values(leased_until=now + LEASE, leased_by=store.worker_id)
            )
    return [r["id"] for r in rows]


def new_claim(store: Store, now: datetime) -> list[int]:
    return [f.id for f in store.claim_due_feeds(now=now, limit=BATCH)]


def polled(store: Store, ids: list[int], now: datetime) -> None:
    """What `record_poll` does to a batch, in one statement: next poll an interval later."""
    with store.engine.begin() as conn:
        conn.execute(
            update(feeds)
            .where(feeds.c.id.in_(ids))
            .values(next_poll_at=now + INTERVAL, leased_until=None, leased_by=None)
        )


def reopen(store: Store, now: datetime) -> None:
    """Make the feeds the rows before polled due again (their next poll was now + INTERVAL):
    each row starts with as many due feeds, whatever the table's size."""
    with store.engine.begin() as conn:
        conn.execute(
            update(feeds)
            .where(FEED_ACTIVE, feeds.c.next_poll_at == now + INTERVAL)
            .values(next_poll_at=now - timedelta(seconds=1))
        )


def record_each(store: Store, ids: list[int], now: datetime) -> None:
    for feed_id in ids:
        result = PollResult("https://example.org/rss", status=304, not_modified=True)
        store.record_poll(feed_id, result, now + INTERVAL, 0, now)


def measure(
    name: str,
    table: int,
    claim: Callable[[], list[int]],
    finish: Callable[[list[int]], None],
    *,
    timed_finish: bool = False,
) -> dict[str, Any]:
    """Claim batches for MEASURE_SECONDS (or until no feed is due); the clock runs over the
    claims (and `finish` when `timed_finish`). No feed may be claimed twice: a finished one
    is not due again."""
    seconds, batches, claimed, seen = 0.0, 0, 0, set()
    wall = time.perf_counter()
    while batches < MIN_BATCHES or time.perf_counter() - wall < MEASURE_SECONDS:
        start = time.perf_counter()
        ids = claim()
        if not ids:  # every due feed claimed: the row ends early
            assert batches >= MIN_BATCHES, f"{name}: nothing due"
            break
        if not timed_finish:
            seconds += time.perf_counter() - start
        finish(ids)
        if timed_finish:
            seconds += time.perf_counter() - start
        assert seen.isdisjoint(ids), f"{name}: a feed was claimed twice"
        seen.update(ids)
        batches += 1
        claimed += len(ids)
    return claim_row(name, table, seconds, batches, claimed)


def claim_row(name: str, table: int, seconds: float, batches: int, feeds: int) -> dict[str, Any]:
    return {
        "claim": name,
        "table": table,
        "batches": batches,
        "feeds": feeds,
        "seconds": round(seconds, 3),
        "batches_per_s": round(batches / seconds, 1),
        "feeds_per_s": round(feeds / seconds, 1),
        "ms_per_batch": round(1000 * seconds / batches, 3),
    }


def concurrent(url: str, table: int, now: datetime) -> dict[str, Any]:
    """CLAIMERS stores, each in its own thread, claim batches and record each feed's poll at
    once: the whole lease cycle of several workers, on the wall clock."""
    stores = [Store(url) for _ in range(CLAIMERS)]
    start = threading.Barrier(CLAIMERS + 1)
    taken: list[list[int]] = [[] for _ in stores]
    batches = [0] * CLAIMERS

    def run(i: int) -> None:
        start.wait()
        end = time.perf_counter() + MEASURE_SECONDS
        while time.perf_counter() < end:
            ids = new_claim(stores[i], now)
            record_each(stores[i], ids, now)
            taken[i] += ids
            batches[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for store in stores:
        store.close()
    every = [feed_id for ids in taken for feed_id in ids]
    assert len(every) == len(set(every)), "two claimers shared a feed"
    return claim_row(
        f"{CLAIMERS} claimers, + record_poll", table, seconds, sum(batches), len(every)
    )


def capture(store: Store, call: Callable[[], list[int]]) -> list[tuple[str, Any]]:
    """The SELECT statements (and their parameters) of a claim; its feeds are let go."""
    seen: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        ids = call()
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    with store.engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id.in_(ids)).values(leased_until=None))
    return seen


def explain(store: Store, statements: list[tuple[str, Any]]) -> list[list[str]]:
    """Each statement's plan, as the database prints it (run and rolled back on PostgreSQL)."""
    plans = []
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, params in statements:
            if store.engine.dialect.name == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, params)
                plans.append([line for (line,) in cursor.fetchall()])
                raw.rollback()
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                plans.append([detail for *_, detail in cursor.fetchall()])
    finally:
        raw.close()
    return plans


def uses_index(plan: list[str], index: str) -> bool:
    scans = " ".join(plan)
    return index in scans and "Seq Scan" not in scans and "SCAN feeds" not in scans


def bench_claims(backend: str, url: str, count: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    store = Store(url)
    result: dict[str, Any] = {"backend": backend}
    try:
        small = min(SMALL, count)
        configured = [feed_url(n) for n in range(small) if n % 50 != 1]

        def refill() -> None:  # each row on the small table starts from the same state
            with store.engine.begin() as conn:
                conn.execute(feeds.delete())
            fill(store, 0, small, now)

        progress(f"{backend}: {small:,} feeds, the old claim against the new ...")
        refill()
        # the old claim's plan, on the table it can still serve
        result["old_plan"] = explain(
            store, capture(store, lambda: old_claim(store, configured, now, BATCH))
        )[0]
        rows = []
        for name, claim in (
            ("old claim (url IN every feed)", lambda: old_claim(store, configured, now, BATCH)),
            ("claim", lambda: new_claim(store, now)),
        ):
            refill()
            rows.append(measure(name, small, claim, lambda ids: polled(store, ids, now)))
        progress(f"{backend}: filling up to {count:,} feeds ...")
        result["fill_seconds"] = round(fill(store, small, count, now), 2)
        rows.append(
            measure(
                "claim", count, lambda: new_claim(store, now), lambda ids: polled(store, ids, now)
            )
        )
        # by now the never-polled feeds are taken: a claim runs both its statements
        reopen(store, now)
        statements = capture(store, lambda: new_claim(store, now))
        result["plans"] = explain(store, statements)
        result["claim_uses_index"] = all(uses_index(p, "ix_feeds_due") for p in result["plans"])
        reopen(store, now)
        rows.append(
            measure(
                "claim + record_poll",
                count,
                lambda: new_claim(store, now),
                lambda ids: record_each(store, ids, now),
                timed_finish=True,
            )
        )
        reopen(store, now)
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_feeds_due"))
        rows.append(
            measure(
                "claim, no index (seq scan)",
                count,
                lambda: new_claim(store, now),
                lambda ids: polled(store, ids, now),
            )
        )
        with store.engine.begin() as conn:  # as migration 0007 makes it
            conn.execute(
                text(
                    "CREATE INDEX ix_feeds_due ON feeds (next_poll_at, id) WHERE active = "
                    + ("true" if backend == "postgresql" else "1")
                )
            )
        reopen(store, now)
        rows.append(concurrent(url, count, now))
        configured = [feed_url(n) for n in range(count) if n % 50 != 1]
        result["old_at_scale"] = old_at_scale(store, configured, now)
        start = time.perf_counter()
        store.sync_feeds(configured, now)
        result["sync_seconds"] = round(time.perf_counter() - start, 2)
        with store.engine.connect() as conn:
            active = conn.scalar(select(func.count()).where(feeds.c.active))
        assert active == len(configured), (active, len(configured))
        result["rows"] = rows
    finally:
        store.close()
    return result


def old_at_scale(store: Store, urls: list[str], now: datetime) -> str:
    """One old claim with every configured URL of the big table in its IN list."""
    start = time.perf_counter()
    try:
        ids = old_claim(store, urls, now, BATCH)
    except Exception as exc:  # the driver's refusal is the finding
        first = str(exc).strip().splitlines()[0]
        return f"fails after {time.perf_counter() - start:.1f} s: {first[:110]}"
    seconds = time.perf_counter() - start
    polled(store, ids, now)
    return f"one batch of {len(ids)} took {seconds:.2f} s"


# --- end to end ------------------------------------------------------------------------------


def start_feed_server(count: int) -> tuple[Any, Connection, str]:
    from poll import serve  # bench/poll.py, this script's neighbour

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, count), daemon=True)
    proc.start()
    if not parent.poll(60):
        raise SystemExit("feed server did not start")
    return proc, parent, f"http://{HOST}:{parent.recv()}"


def stop_feed_server(proc: Any, parent: Connection) -> None:
    with contextlib.suppress(OSError):  # the child may be gone already
        parent.send("stop")
    proc.join(10)
    if proc.is_alive():
        proc.terminate()
        proc.join()


def write_config(folder: Path, database: str, urls: list[str]) -> Path:
    lines = [
        f"database: {database}",
        f"rules: {rules_dir()}",
        "allow_private_networks: true",
        "feeds:",
        *(f"  - url: {u}" for u in urls),
    ]
    path = folder / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def worker(config_path: str, ready: Any, go: Any, done: Any) -> None:
    """One worker process: open the runtime, wait for the start, run one cycle."""
    asyncio.run(_worker(Path(config_path), ready, go, done))


async def _worker(config_path: Path, ready: Any, go: Any, done: Any) -> None:
    from monitor.worker.pipeline import open_runtime, run_cycle

    config = load_config(config_path, environ={})
    async with open_runtime(config, extract_workers=0) as rt:
        ready.put(os.getpid())
        await asyncio.to_thread(go.wait)
        cpu = time.process_time()
        report = await run_cycle(rt)
        cpu = time.process_time() - cpu  # this process's threads, not the database's
        done.put((report.feeds_polled, report.feeds_failed, report.articles, report.alerts, cpu))


def run_workers(backend: str, database: str, workers: int, urls: list[str]) -> dict[str, Any]:
    if backend == "postgresql":
        fresh_postgres(database)
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        if backend == "sqlite":
            database = f"sqlite:///{tmp}/monitor.db"
        config = write_config(Path(tmp), database, urls)
        Store(database).close()  # migrated once, before the workers race to it
        procs = [
            ctx.Process(target=worker, args=(str(config), ready, go, done)) for _ in range(workers)
        ]
        for proc in procs:
            proc.start()
        try:
            for _ in procs:
                ready.get(timeout=120)
            start = time.perf_counter()
            go.set()
            reports = [done.get(timeout=600) for _ in procs]
            seconds = time.perf_counter() - start
        finally:
            for proc in procs:
                proc.join(30)
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
        store = Store(database)
        try:
            states = store.feed_states()
        finally:
            store.close()
    polled, failed, articles, alerts, cpu = (sum(r[i] for r in reports) for i in range(5))
    assert polled == len(urls), f"{polled} polls of {len(urls)} feeds: some polled twice"
    assert all(s.last_polled_at is not None for s in states), "a feed was never polled"
    return {
        "backend": backend,
        "workers": workers,
        "feeds": polled,
        "failed": failed,
        "articles": articles,
        "alerts": alerts,
        "seconds": round(seconds, 2),
        "articles_per_s": round(articles / seconds, 1),
        "worker_cpu_ms_per_article": round(1000 * cpu / max(articles, 1), 2),
        "per_worker_polls": sorted(r[0] for r in reports),
    }


def bench_end_to_end(count: int, postgres: str | None) -> list[dict[str, Any]]:
    proc, parent, base = start_feed_server(count)
    try:
        urls = [f"{base}/feed/{n}.xml" for n in range(count)]
        progress(f"end to end: {count} feeds, 1 worker on SQLite ...")
        rows = [run_workers("sqlite", "", 1, urls)]
        for workers in E2E_WORKERS if postgres else ():
            progress(f"end to end: {count} feeds, {workers} worker(s) on PostgreSQL ...")
            assert postgres is not None
            rows.append(run_workers("postgresql", postgres, workers, urls))
    finally:
        stop_feed_server(proc, parent)
    return rows


# --- report ----------------------------------------------------------------------------------


def plan_text(plan: list[str], width: int = 90) -> str:
    """A plan on one line, each node cut to `width` (the old claim's filter holds every URL)."""
    cut = [line.strip() for line in plan]
    return " | ".join(line if len(line) <= width else line[: width - 3] + "..." for line in cut)


def print_claims(result: dict[str, Any], goal: float) -> None:
    print(f"\nclaims on {result['backend']} (batches of {BATCH}; goal {goal:,.0f} feeds/s)")
    header = ("claim", "table", "batches", "ms/batch", "batches/s", "feeds/s", "vs goal")
    print("{:<32} {:>9} {:>8} {:>9} {:>10} {:>9} {:>8}".format(*header))
    for r in result["rows"]:
        print(
            f"{r['claim']:<32} {r['table']:>9,} {r['batches']:>8} {r['ms_per_batch']:>9.2f} "
            f"{r['batches_per_s']:>10.1f} {r['feeds_per_s']:>9.0f} {r['feeds_per_s'] / goal:>7.1f}x"
        )
    big = result["rows"][-1]["table"]
    print(f"  old claim at {big:,} feeds (every configured URL bound): {result['old_at_scale']}")
    print(
        f"  fill to {result['rows'][-1]['table']:,}: {result['fill_seconds']} s; "
        f"sync_feeds of every configured feed (a restart): {result['sync_seconds']} s"
    )
    print(f"  old claim's plan ({SMALL:,} feeds): {plan_text(result['old_plan'])}")
    for n, plan in enumerate(result["plans"], 1):
        print(f"  claim's statement {n} ({big:,} feeds): {plan_text(plan)}")
    print(f"  every claim statement uses ix_feeds_due: {result['claim_uses_index']}")


def print_end_to_end(rows: list[dict[str, Any]], load: float) -> None:
    print(f"\nend to end ({os.cpu_count()} cores, 1-minute load before it {load:.2f})")
    header = ("backend", "workers", "feeds", "articles", "seconds", "articles/s", "CPU ms/art")
    print("{:<11} {:>8} {:>7} {:>9} {:>8} {:>11} {:>11}  polls each".format(*header))
    for r in rows:
        print(
            f"{r['backend']:<11} {r['workers']:>8} {r['feeds']:>7} {r['articles']:>9} "
            f"{r['seconds']:>8.2f} {r['articles_per_s']:>11.1f} "
            f"{r['worker_cpu_ms_per_article']:>11.2f}  {r['per_worker_polls']}"
        )
    print(
        "  CPU ms/art: the workers' own CPU per article (the database and the feed server "
        "share the same cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--e2e-feeds", type=int, default=E2E_FEEDS)
    args = parser.parse_args()
    goal = args.feeds / INTERVAL.total_seconds()
    began = time.perf_counter()

    unreachable = postgres_unreachable(POSTGRES)
    if unreachable:
        progress(f"{unreachable}: PostgreSQL rows skipped")
    claims = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        claims.append(bench_claims("sqlite", f"sqlite:///{tmp}/claims.db", args.feeds))
    if not unreachable:
        fresh_postgres(POSTGRES)
        try:
            claims.append(bench_claims("postgresql", POSTGRES, args.feeds))
        finally:
            drop_postgres(POSTGRES)
    load = os.getloadavg()[0]  # other processes on the cores weigh on these rows most
    try:
        end_to_end = bench_end_to_end(args.e2e_feeds, None if unreachable else POSTGRES)
    finally:
        if not unreachable:
            drop_postgres(POSTGRES)

    for result in claims:
        print_claims(result, goal)
    print_end_to_end(end_to_end, load)
    seconds = time.perf_counter() - began
    print(f"\nwhole bench: {seconds:.0f} s")
    summary = {
        "bench": "scale",
        "feeds": args.feeds,
        "batch": BATCH,
        "goal_feeds_per_s": round(goal, 1),
        "claims": [
            {k: v for k, v in c.items() if k not in ("plans", "old_plan")}
            | {"plans": [plan_text(p) for p in c["plans"]], "old_plan": plan_text(c["old_plan"])}
            for c in claims
        ],
        "end_to_end": end_to_end,
        "cores": os.cpu_count(),
        "load_before_end_to_end": round(load, 2),
        "postgresql": unreachable or "ok",
        "seconds": round(seconds, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
