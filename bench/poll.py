"""Feed-polling throughput: the real pipeline against 5,000 loopback feeds, 200s then 304s.

A child process serves 5,000 small RSS feeds on 127.0.0.1 (`/feed/<n>.xml`, 5 items each, the
full text in content:encoded so no article page is fetched, dates = now, a strong ETag and a
Last-Modified, 304 to a matching If-None-Match or If-Modified-Since). It runs in its own process
so that its CPU is not charged to the client we measure. This process then runs:

1. a baseline: 5,000 plain GETs of the same feeds through `make_session(allow_private=True)`,
   at the pipeline's POLL_CONCURRENCY: what bare HTTP costs on this machine;
2. the real pipeline (`open_runtime` + `run_cycle(poll_all=True)`, SQLite in a temp folder, the
   shipped rules) twice: the first pass gets 200s and records 25,000 articles, the second should
   be all 304s, because the first stored every feed's validators.

Only 127.0.0.1 is ever contacted. Usage: `python bench/poll.py [--feeds N]`.
Prints a table, then one JSON line:
{"bench": "poll", "feeds": 5000, "rows": [...], "conditional_share": 1.0}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import multiprocessing
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import load_config  # noqa: E402
from monitor.intake.netguard import make_session  # noqa: E402
from monitor.resources import rules_dir  # noqa: E402
from monitor.worker.ingest import POLL_CONCURRENCY  # noqa: E402
from monitor.worker.pipeline import CycleReport, open_runtime, run_cycle  # noqa: E402

FEEDS = 5_000
ITEMS = 5
HOST = "127.0.0.1"

# News-like sentences; a few match the shipped rules, so matching and alert writes are exercised.
SENTENCES = [
    "Officials met in the capital on Tuesday to discuss the budget for the coming year.",
    "The ministry said repairs to the water network would take several more weeks.",
    "Local markets reopened after a week of closures, traders told reporters.",
    "Russian strikes have displaced {figure} people since the end of September.",
    "A local ceasefire was agreed in the north of the province late on Monday.",
    "The UN envoy will travel to Washington next week for talks with officials.",
    "Aid agencies warned that supplies of fuel and medicine were running low.",
    "The football season was suspended after the stadium was damaged.",
    "Teachers went on strike over unpaid salaries in three districts.",
    "Heavy rain flooded roads and cut power to several villages overnight.",
]


# --- the feed server (child process) ---------------------------------------------------------


@dataclass
class Feed:
    body: bytes
    etag: str
    last_modified: str


def vocabulary(size: int = 3_000) -> list[str]:
    """Invented headline words: real headlines rarely share most of their words, so with these
    almost every article starts a story of its own, as in a real news stream."""
    rng = random.Random(0)
    syllables = "ka lo mi ren tu sa vel dor an is ur bel mar tin gal or ep sun zi hal".split()
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build_feeds(base: str, count: int, now: datetime) -> dict[str, Feed]:
    pub = format_datetime(now, usegmt=True)
    words = vocabulary()
    feeds = {}
    for n in range(count):
        rng = random.Random(n)
        items = []
        for i in range(ITEMS):
            title = " ".join(w.capitalize() for w in rng.sample(words, 7))
            picked = rng.sample(SENTENCES, 4)
            paragraphs = "".join(
                f"<p>{s.format(figure=f'{rng.randint(2, 90) * 1000:,}')}</p>" for s in picked
            )
            # a sentence of its own per item: no two articles share a content hash
            paragraphs += f"<p>Report {n}-{i} was filed by correspondent {rng.randint(1, 999)}.</p>"
            items.append(
                f"<item><title>{title}</title>"
                f"<link>{base}/article/{n}/{i}</link>"
                f'<guid isPermaLink="false">bench-{n}-{i}</guid>'
                f"<pubDate>{pub}</pubDate>"
                f"<description>{picked[0]}</description>"
                f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded></item>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Bench feed {n}</title><link>{base}/</link>"
            f"<description>Feed {n}</description>{''.join(items)}</channel></rss>"
        ).encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        feeds[f"/feed/{n}.xml"] = Feed(body, etag, pub)
    return feeds


def not_modified(request: web.Request, feed: Feed) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or feed.etag in tags
    ims = request.headers.get("If-Modified-Since")
    return ims is not None and ims == feed.last_modified


def serve(conn: Connection, count: int) -> None:
    asyncio.run(_serve(conn, count))


async def _serve(conn: Connection, count: int) -> None:
    stats: dict[str, int] = {}
    feeds: dict[str, Feed] = {}

    def reset() -> None:
        stats.update(requests=0, conditional=0, status_200=0, status_304=0, other=0)

    async def handle(request: web.Request) -> web.StreamResponse:
        stats["requests"] += 1
        conditional = "If-None-Match" in request.headers or "If-Modified-Since" in request.headers
        stats["conditional"] += conditional
        feed = feeds.get(request.path)
        if feed is None:
            stats["other"] += 1
            raise web.HTTPNotFound()
        headers = {"ETag": feed.etag, "Last-Modified": feed.last_modified}
        if not_modified(request, feed):
            stats["status_304"] += 1
            return web.Response(status=304, headers=headers)
        stats["status_200"] += 1
        return web.Response(body=feed.body, content_type="application/rss+xml", headers=headers)

    async def control(request: web.Request) -> web.StreamResponse:
        snapshot = dict(stats)
        if request.path == "/_reset":
            reset()
        return web.json_response(snapshot)

    reset()
    app = web.Application()
    app.router.add_get("/_stats", control)
    app.router.add_get("/_reset", control)
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    feeds.update(build_feeds(f"http://{HOST}:{port}", count, datetime.now(UTC)))
    conn.send(port)
    # until the parent says stop (or dies: recv then raises EOFError)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, conn.recv)
    except EOFError:
        pass
    await runner.cleanup()


# --- the client side (this process) ----------------------------------------------------------


async def server_stats(base: str, reset: bool) -> dict[str, int]:
    async with aiohttp.ClientSession() as s, s.get(base + ("/_reset" if reset else "/_stats")) as r:
        data: dict[str, int] = await r.json()
        return data


async def raw_baseline(urls: list[str]) -> tuple[float, int]:
    """Plain GETs, bodies read, through the pipeline's session factory and concurrency."""
    limit = asyncio.Semaphore(POLL_CONCURRENCY)
    failed = 0

    async def one(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal failed
        async with limit, session.get(url) as resp:
            await resp.read()
            failed += resp.status != 200

    async with make_session(allow_private=True) as session:
        start = time.perf_counter()
        await asyncio.gather(*(one(session, u) for u in urls))
        return time.perf_counter() - start, failed


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_config(folder: Path, urls: list[str]) -> Path:
    lines = [
        f"database: sqlite:///{folder / 'monitor.db'}",
        f"rules: {rules_dir()}",
        "allow_private_networks: true",
        "feeds:",
        *(f"  - url: {u}" for u in urls),
    ]
    path = folder / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def row(
    name: str, seconds: float, feeds: int, stats: dict[str, int], **extra: Any
) -> dict[str, Any]:
    return {
        "pass": name,
        "feeds": feeds,
        "seconds": round(seconds, 3),
        "feeds_per_s": round(feeds / seconds, 1),
        "requests": stats["requests"],
        "conditional": stats["conditional"],
        "status_200": stats["status_200"],
        "status_304": stats["status_304"],
        **extra,
    }


def pipeline_extra(report: CycleReport) -> dict[str, int]:
    return {"failed": report.feeds_failed, "articles": report.articles, "alerts": report.alerts}


async def bench(base: str, count: int) -> dict[str, Any]:
    urls = [f"{base}/feed/{n}.xml" for n in range(count)]

    await server_stats(base, reset=True)
    progress(f"raw GET baseline: {count} feeds ...")
    raw_seconds, raw_failed = await raw_baseline(urls)
    raw_stats = await server_stats(base, reset=True)

    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        # environ={}: a MONITOR_DATABASE_URL in the shell must not redirect the bench
        config = load_config(write_config(Path(tmp), urls), environ={})
        async with open_runtime(config, extract_workers=0) as rt:
            progress(f"first pass: {count} feeds, {count * ITEMS} new articles ...")
            start = time.perf_counter()
            first = await run_cycle(rt, poll_all=True)
            first_seconds = time.perf_counter() - start
            first_stats = await server_stats(base, reset=True)

            progress(f"second pass: {count} conditional polls ...")
            start = time.perf_counter()
            second = await run_cycle(rt, poll_all=True)
            second_seconds = time.perf_counter() - start
            second_stats = await server_stats(base, reset=True)
            with_etag = sum(1 for s in rt.store.feed_states() if s.etag)

    rows = [
        row("first (200)", first_seconds, first.feeds_polled, first_stats, **pipeline_extra(first)),
        row(
            "second (304)",
            second_seconds,
            second.feeds_polled,
            second_stats,
            **pipeline_extra(second),
        ),
        row("raw GET baseline", raw_seconds, count, raw_stats, failed=raw_failed),
    ]
    share = second_stats["conditional"] / max(second_stats["requests"], 1)
    return {
        "bench": "poll",
        "feeds": count,
        "rows": rows,
        "conditional_share": round(share, 4),
        "feeds_with_etag": with_etag,
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"poll bench: {result['feeds']} feeds x {ITEMS} items on {HOST}, "
        f"concurrency {POLL_CONCURRENCY} (per-host limit of make_session applies)"
    )
    header = ("pass", "seconds", "feeds/s", "requests", "cond.", "200", "304", "failed", "articles")
    print("{:<18} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>9}".format(*header))
    for r in result["rows"]:
        print(
            f"{r['pass']:<18} {r['seconds']:>8.2f} {r['feeds_per_s']:>9.1f} {r['requests']:>9} "
            f"{r['conditional']:>7} {r['status_200']:>7} {r['status_304']:>7} "
            f"{r.get('failed', 0):>7} {r.get('articles', '-'):>9}"
        )
    raw = result["rows"][2]["feeds_per_s"]
    for r in result["rows"][:2]:
        print(f"  {r['pass']}: {raw / r['feeds_per_s']:.1f}x the time of bare HTTP per feed")
    print(
        f"second-pass conditional share: {result['conditional_share']:.3f} (goal 1.0); "
        f"feeds with a stored ETag: {result['feeds_with_etag']}/{result['feeds']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=FEEDS)
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, args.feeds), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise SystemExit("feed server did not start")
        port = parent.recv()
        result = asyncio.run(bench(f"http://{HOST}:{port}", args.feeds))
    finally:
        with contextlib.suppress(OSError):  # the child may be gone already
            parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    print_table(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
