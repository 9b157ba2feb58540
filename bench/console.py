"""Console: each page of the operator's console against a store of 100,000 alerts and 5,000
feeds; the goal (issue 11) is every page under 100 ms.

A store is filled in bulk (SQLAlchemy executemany in chunks, the FTS trigger of migration
0010 running for each alert as it does in production): FEEDS feeds in the config and the
store (1 in 20 failing, with an error), ALERTS articles from them, each with one alert, in
stories of up to five articles, over the last 30 days. Rules: a dozen, one of them a figure
rule whose figures go into the figure history of 40 places; severities from critical (1 in
200) to low; snippets drawn from a small vocabulary, so that a word of it matches thousands
of alerts and a rare word a few. One worker is registered, 2,000 outbox rows are sent.

The console is then served by `make_app` on 127.0.0.1 with a `console:` config, an aiohttp
client logs in (POST /console/login) and reads each page WARMUP times untimed, then REPEAT
times timed (the whole request: routing, the store's queries in a thread, rendering, the
response read). Each page must answer 200.

SQLite is a temp file, left without ANALYZE (as a worker's store is); PostgreSQL, when it is
reachable, a database of its own (`bench_console`, dropped at the end; never `test`),
analysed after the fill as autovacuum would have. Usage: `python bench/console.py [--alerts
N] [--feeds N] [--sqlite-only]`. Prints a table per backend, then one JSON line:
{"bench": "console", "goal_ms": 100, "results": [...], ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.codec import match_to_json  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.models import Figure, Hit, Match  # noqa: E402
from monitor.resources import rules_dir  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.schema import (  # noqa: E402
    alerts,
    articles,
    feeds,
    figure_history,
    outbox,
    subscriptions,
)
from monitor.web.app import make_app, serving  # noqa: E402

ALERTS = 100_000
FEEDS = 5_000
WARMUP, REPEAT = 2, 15
GOAL_MS = 100.0
CHUNK = 5_000
PASSWORD = "bench console password"
POSTGRES = os.environ.get(
    "MONITOR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_console"
)

RULES = [
    "ceasefire",
    "displacement-figures",
    "evacuation-orders",
    "airstrike",
    "flooding",
    "earthquake",
    "cholera",
    "hostages",
    "border-closure",
    "food-insecurity",
    "protests",
    "heatwave",
]
FIGURE_RULE = "displacement-figures"
SEVERITIES = ["critical"] * 1 + ["high"] * 39 + ["medium"] * 60 + ["low"] * 100
PLACES = [f"city{n}" for n in range(40)]
COMMON = "people civilians families fled shelling overnight officials said reported village".split()
RARE = "zeppelin quokka marimba"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- PostgreSQL: a database of our own ---------------------------------------------------


def _admin(url: str) -> psycopg.Connection[Any]:
    base = url.replace("+psycopg", "").rpartition("/")[0]
    return psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3)


def postgres_unreachable(url: str) -> str | None:
    try:
        _admin(url).close()
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {url} ({str(exc).strip().splitlines()[0]})"
    return None


def recreate_postgres(url: str, *, create: bool = True) -> None:
    name = url.rpartition("/")[2]
    assert name not in ("test", "postgres"), f"the bench never touches database {name!r}"
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- the fill ------------------------------------------------------------------------------


def feed_url(n: int) -> str:
    return f"https://news{n % 499}.example.org/{n}/rss.xml"


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def feed_rows(count: int, now: datetime) -> Iterator[dict[str, Any]]:
    for n in range(count):
        failing = n % 20 == 7
        yield {
            "url": feed_url(n),
            "active": True,
            "next_poll_at": now + timedelta(seconds=n % 900),
            "last_polled_at": now - timedelta(seconds=900 - n % 900),
            "last_success_at": None if failing else now - timedelta(seconds=900 - n % 900),
            "last_status": 503 if failing else 200,
            "last_error": "fetch: server error (503 status code)" if failing else None,
            "consecutive_failures": 4 if failing else 0,
            "items_seen": 40,
            "created_at": now - timedelta(days=60),
        }


def snippet(rng: random.Random, n: int) -> tuple[str, tuple[Hit, ...]]:
    words = rng.sample(COMMON, 6)
    if n % 5_000 == 17:
        words.insert(2, RARE.split()[n % 3])
    text_ = f"At least {n % 900 + 10},000 " + " ".join(words) + f" in {PLACES[n % 40]}."
    start = text_.index(words[0])
    return text_, (Hit(words[0], words[0], 0, start, start + len(words[0])),)


def fill(store: Store, n_alerts: int, n_feeds: int, now: datetime) -> float:
    began = time.perf_counter()
    rng = random.Random(11)
    start = now - timedelta(days=30)
    step = timedelta(days=30) / n_alerts
    with store.engine.begin() as conn:
        for chunk in chunks(feed_rows(n_feeds, now)):
            conn.execute(insert(feeds), chunk)
    progress(f"  {n_feeds:,} feeds")
    story_id = 0
    for base in range(0, n_alerts, CHUNK):
        article_rows, alert_rows, figure_rows = [], [], []
        for n in range(base, min(base + CHUNK, n_alerts)):
            article_id = n + 1
            if n % 5 == 0 or rng.random() < 0.3:
                story_id = article_id  # a new story; else the article joins the last one
            when = start + step * n
            rule = RULES[n % len(RULES)]
            severity = rng.choice(SEVERITIES)
            words, hits = snippet(rng, n)
            article_rows.append(
                {
                    "id": article_id,
                    "identity": f"https://outlet{n % 300}.example.org/story/{n}",
                    "url": f"https://outlet{n % 300}.example.org/story/{n}",
                    "feed_url": feed_url(n % n_feeds),
                    "title": f"Report {n}: {rng.choice(COMMON)} in {PLACES[n % 40]}",
                    "published": when,
                    "site_name": f"Outlet {n % 300}",
                    "partial": False,
                    "alerted": True,
                    "story_id": story_id,
                    "headline_size": 0,
                    "created_at": when,
                }
            )
            figures: tuple[Figure, ...] = ()
            if rule == FIGURE_RULE:
                figures = (Figure(n % 900 * 1000 + 10_000, f"{n % 900 + 10},000", "at least"),)
            match = Match(
                rule, rule.replace("-", " ").title(), severity, figures, {}, (words,), hits
            )
            alert_rows.append(
                {
                    "id": article_id,
                    "article_id": article_id,
                    "rule": rule,
                    "tags": ["conflict" if n % 3 else "weather"],
                    "match": match_to_json(match),
                    "previous_figures": [],
                    "created_at": when,
                }
            )
            for f in figures:
                figure_rows.append(
                    {
                        "rule": rule,
                        "key": f"place:{PLACES[n % 40]}",
                        "value": f.value + n,  # unique per (rule, key, value)
                        "text": f.text,
                        "qualifier": f.qualifier,
                        "alert_id": article_id,
                        "created_at": when,
                        "reported_at": when,
                    }
                )
        with store.engine.begin() as conn:
            conn.execute(insert(articles), article_rows)
            conn.execute(insert(alerts), alert_rows)
            if figure_rows:
                conn.execute(insert(figure_history), figure_rows)
        progress(f"  {base + len(alert_rows):,} alerts")
    with store.engine.begin() as conn:
        conn.execute(
            insert(subscriptions),
            [
                {"name": "desk", "cursor": n_alerts, "last_digest_at": now},
                {"name": "weather", "cursor": n_alerts, "last_digest_at": now},
            ],
        )
        conn.execute(
            insert(outbox),
            [
                {
                    "key": f"k{n}",
                    "digest": f"d{n}",
                    "subscription": "desk",
                    "channel": "webhook",
                    "target": "https://hooks.example.org/desk",
                    "alert_ids": list(range(n * 50 + 1, n * 50 + 51)),
                    "story_ids": [],
                    "subject": f"Digest {n}",
                    "body": b"{}",
                    "content_type": "application/json",
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now - timedelta(minutes=n),
                    "sent_at": now - timedelta(minutes=n),
                }
                for n in range(2_000)
            ],
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('articles_id_seq', :n)"), {"n": n_alerts})
            conn.execute(text("SELECT setval('alerts_id_seq', :n)"), {"n": n_alerts})
    store.register_worker(now)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - began


# --- the pages -----------------------------------------------------------------------------


def write_config(folder: Path, database_url: str, n_feeds: int) -> Path:
    lines = [
        f"database: {database_url}",
        f"rules: {rules_dir()}",
        "console: {}",
        "subscriptions:",
        "  - name: desk",
        '    webhook: {url: "https://hooks.example.org/desk"}',
        "    rules: [ceasefire, airstrike]",
        "  - name: wide",
        '    webhook: {url: "https://hooks.example.org/wide"}',
        "    rules: [ceasefire, airstrike, flooding, cholera, protests, heatwave]",
        "  - name: weather",
        '    webhook: {url: "https://hooks.example.org/weather"}',
        "    tags: [weather]",
        "    schedule: daily 07:00",
        "feeds:",
        *(f'  - {{url: "{feed_url(n)}"}}' for n in range(n_feeds)),
    ]
    path = folder / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def pages(store: Store, now: datetime) -> list[tuple[str, str]]:
    """(name, path) of each page timed."""
    with store.engine.connect() as conn:
        # a story of several articles with a figure rule among its alerts
        story = conn.scalar(
            select(articles.c.story_id)
            .join(alerts, alerts.c.article_id == articles.c.id)
            .where(alerts.c.rule == FIGURE_RULE)
            .group_by(articles.c.story_id)
            .having(func.count() >= 1)
            .order_by(articles.c.story_id.desc())
            .limit(1)
        )
        middle = conn.scalar(select(func.max(alerts.c.id))) // 2
    day = (now - timedelta(days=12)).date().isoformat()
    return [
        ("overview", "/console/"),
        ("alerts", "/console/alerts"),
        ("alerts, page in the middle", f"/console/alerts?before={middle}"),
        ("alerts, rule", "/console/alerts?rule=flooding"),
        ("alerts, severity critical", "/console/alerts?severity=critical"),
        ("alerts, subscription (rules)", "/console/alerts?subscription=desk"),
        ("alerts, subscription (tags)", "/console/alerts?subscription=weather"),
        ("alerts, feed", f"/console/alerts?feed={feed_url(1234)}"),
        ("alerts, one day", f"/console/alerts?since={day}&until={day}"),
        ("alerts, rule + severity + day",
         f"/console/alerts?rule=cholera&severity=high&since={day}&until={day}"),
        ("alerts, 6 rules + critical", "/console/alerts?subscription=wide&severity=critical"),
        ("search, common word", "/console/alerts?q=shelling"),
        ("search, two words", "/console/alerts?q=families+village"),
        ("search, phrase", "/console/alerts?q=%22officials+said%22"),
        ("search, prefix", "/console/alerts?q=civil*"),
        ("search, rare word", "/console/alerts?q=quokka"),
        ("search + rule + severity", "/console/alerts?q=fled&rule=airstrike&severity=high"),
        ("story (figure rule)", f"/console/stories/{story}"),
    ]  # fmt: skip


async def time_pages(config_path: Path, store: Store, now: datetime) -> list[dict[str, Any]]:
    config = load_config(config_path, {**os.environ, "MONITOR_CONSOLE_PASSWORD": PASSWORD})
    app = make_app(config, store)
    results = []
    async with serving(app, "127.0.0.1", 0) as base:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.post(
                f"{base}/console/login", data={"password": PASSWORD}, allow_redirects=False
            ) as response:
                assert response.status == 303, f"login: {response.status}"
            for name, path in pages(store, now):
                times = []
                size = 0
                for attempt in range(WARMUP + REPEAT):
                    began = time.perf_counter()
                    async with http.get(base + path, allow_redirects=False) as response:
                        body = await response.read()
                        assert response.status == 200, f"{path}: {response.status}"
                    if attempt >= WARMUP:
                        times.append((time.perf_counter() - began) * 1000)
                    size = len(body)
                times.sort()
                results.append(
                    {
                        "page": name,
                        "path": path,
                        "median_ms": round(statistics.median(times), 1),
                        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                        "max_ms": round(times[-1], 1),
                        "kb": round(size / 1024, 1),
                        "alerts_shown": body.count(b'<li id="alert-'),
                    }
                )
    return results


def run(backend: str, url: str, folder: Path, n_alerts: int, n_feeds: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    store = Store(url)
    try:
        progress(f"{backend}: filling")
        seconds = fill(store, n_alerts, n_feeds, now)
        progress(f"{backend}: filled in {seconds:.1f} s; timing pages")
        config = write_config(folder, url, n_feeds)
        results = asyncio.run(time_pages(config, store, now))
    finally:
        store.close()
    return {"backend": backend, "fill_s": round(seconds, 1), "pages": results}


def table(run_: dict[str, Any]) -> str:
    lines = [
        f"{run_['backend']}: {ALERTS:,} alerts, {FEEDS:,} feeds (filled in {run_['fill_s']} s)",
        f"{'page':32} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'KB':>7} {'shown':>6}  goal",
    ]
    for r in run_["pages"]:
        verdict = "ok" if r["p95_ms"] < GOAL_MS else "SLOW"
        lines.append(
            f"{r['page']:32} {r['median_ms']:>10} {r['p95_ms']:>8} {r['max_ms']:>8} "
            f"{r['kb']:>7} {r['alerts_shown']:>6}  {verdict}"
        )
    return "\n".join(lines)


def main() -> None:
    global ALERTS, FEEDS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=ALERTS)
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    ALERTS, FEEDS = args.alerts, args.feeds
    runs = []
    skipped = None
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        folder = Path(tmp)
        runs.append(run("sqlite", f"sqlite:///{folder}/monitor.db", folder, ALERTS, FEEDS))
        skipped = "--sqlite-only" if args.sqlite_only else postgres_unreachable(POSTGRES)
        if skipped is None:
            recreate_postgres(POSTGRES)
            try:
                runs.append(run("postgresql", POSTGRES, folder, ALERTS, FEEDS))
            finally:
                recreate_postgres(POSTGRES, create=False)
    for r in runs:
        print(table(r))
        print()
    slow = [
        f"{r['backend']}: {p['page']}" for r in runs for p in r["pages"] if p["p95_ms"] >= GOAL_MS
    ]
    print(
        json.dumps(
            {
                "bench": "console",
                "alerts": ALERTS,
                "feeds": FEEDS,
                "goal_ms": GOAL_MS,
                "all_under_goal": not slow,
                "slow": slow,
                "postgresql_skipped": skipped,
                "results": runs,
            },
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
