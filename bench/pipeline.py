"""Extract + match throughput through the process pool: 1 worker against all cores.

Each document goes through what the pipeline does after a page is fetched: `extract` (which runs
trafilatura's `extract_html` in the pool), an `Article` built from the result, and
`match_article` with the shipped rules, here in this process as in the pipeline. The corpus is
the seed pages (the Middle East Eye article and pages/*.html) repeated to DOCUMENTS documents,
each with its own URL; every batch schedules all of them at once (asyncio.gather), so the pool
always has work queued.

Rows, all measured in this run:
- in-process: `extract(None, ...)`, the baseline: no pool, no pickling, one core;
- pool, 1 worker: the same work shipped to one worker process;
- pool, all cores: `os.cpu_count()` workers.

Pool start-up (forkserver, worker spawn, trafilatura import on each worker's first task) is
timed on its own: a fresh pool is warmed with one extraction per worker, concurrently, before the
clock starts. Each mode repeats the batch for at least MIN_SECONDS (and MIN_ROUNDS batches).
Main-process CPU per document is reported too: in the pool modes it is what the event loop
spends on matching, pickling and bookkeeping, and it competes with the workers for the cores.

Prints a table, then one JSON line: {"bench": "pipeline", "documents": N, "cores": C,
"rows": [{"mode": ..., "workers": W, "articles_per_s": X, ...}], "speedup_all_cores_vs_1": S}.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.extract.article import Extracted, ExtractionPool, extract, extract_html  # noqa: E402
from monitor.models import Article  # noqa: E402
from monitor.resources import rules_dir, seeds_dir  # noqa: E402
from monitor.rules.load import load_rules  # noqa: E402
from monitor.rules.match import RuleSet, match_article  # noqa: E402

DOCUMENTS = 200
MIN_SECONDS = 2.0
MIN_ROUNDS = 3


def corpus(documents: int) -> list[tuple[str, bytes]]:
    """(url, html) pairs: the seed pages in turn until `documents`, each with its own URL."""
    pages = [seeds_dir() / "mee-syria-envoy.html", *sorted((seeds_dir() / "pages").glob("*.html"))]
    bodies = [(page.stem, page.read_bytes()) for page in pages]
    return [
        (f"https://www.middleeasteye.net/news/{stem}-{i}", html)
        for i, (stem, html) in ((i, bodies[i % len(bodies)]) for i in range(documents))
    ]


async def process(pool: ExtractionPool | None, rules: RuleSet, url: str, html: bytes) -> int:
    """One document through extract + match; returns the number of matches."""
    extracted = await extract(pool, html, url)
    assert isinstance(extracted, Extracted), extracted
    return len(match_article(extracted.as_article(url), rules))


async def throughput(
    pool: ExtractionPool | None, rules: RuleSet, docs: list[tuple[str, bytes]]
) -> tuple[float, float, int]:
    """(articles/s, main-process CPU ms per article, matches per batch) over repeated batches."""
    done, rounds, matches = 0, 0, set()
    wall, cpu = time.perf_counter(), time.process_time()
    while rounds < MIN_ROUNDS or time.perf_counter() - wall < MIN_SECONDS:
        counts = await asyncio.gather(*(process(pool, rules, url, html) for url, html in docs))
        matches.add(sum(counts))
        done += len(docs)
        rounds += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert len(matches) == 1, f"batches disagree on the number of matches: {matches}"
    return done / wall, 1000 * cpu / done, matches.pop()


async def warm(pool: ExtractionPool | None, docs: list[tuple[str, bytes]], workers: int) -> None:
    """One extraction per worker, concurrently: each worker spawns and imports trafilatura."""
    results = await asyncio.gather(*(extract(pool, html, url) for url, html in docs[:workers]))
    assert all(isinstance(r, Extracted) for r in results), results
    if pool is not None:
        # private, but the only way to check the warm-up reached every worker
        spawned = len(getattr(pool._pool, "_processes", None) or {})
        assert spawned == workers, f"warm-up started {spawned} of {workers} workers"


async def run_mode(
    mode: str, workers: int, rules: RuleSet, docs: list[tuple[str, bytes]]
) -> tuple[dict, int]:
    start = time.perf_counter()
    pool = ExtractionPool(workers) if workers else None
    try:
        await warm(pool, docs, max(workers, 1))
        startup = time.perf_counter() - start
        rate, cpu_ms, matches = await throughput(pool, rules, docs)
    finally:
        if pool is not None:
            pool.shutdown()
    row = {
        "mode": mode,
        "workers": workers,
        "articles_per_s": round(rate, 1),
        "startup_s": round(startup, 3),
        "main_cpu_ms_per_article": round(cpu_ms, 2),
    }
    return row, matches


def stage_costs(rules: RuleSet, docs: list[tuple[str, bytes]]) -> tuple[float, float]:
    """In this process: ms per document for extract_html alone and match_article alone."""
    start = time.perf_counter()
    extracted = [extract_html(html, url) for url, html in docs]
    extract_ms = 1000 * (time.perf_counter() - start) / len(docs)
    articles = []
    for (url, _), e in zip(docs, extracted, strict=True):
        assert isinstance(e, Extracted)
        articles.append(Article(url, e.title or "", e.text, summary=e.description or ""))
    start = time.perf_counter()
    for article in articles:
        match_article(article, rules)
    match_ms = 1000 * (time.perf_counter() - start) / len(docs)
    return extract_ms, match_ms


ROW = "{:<20} {:>8} {:>12} {:>11} {:>11} {:>16}"


async def main() -> None:
    cores = os.cpu_count() or 1
    docs = corpus(DOCUMENTS)
    rules = load_rules([rules_dir()])
    gc.freeze()  # as open_runtime does once the rules are loaded

    load = os.getloadavg()[0]  # other processes on the cores skew the pool rows most
    print(
        f"{len(docs)} documents, {len(rules.rules)} shipped rules, {cores} cores, "
        f"1-minute load average before the run {load:.2f}"
    )
    print(
        ROW.format("mode", "workers", "articles/s", "ms/article", "start-up s", "main CPU ms/art")
    )
    rows, matches = [], set()
    for mode, workers in (("in-process", 0), ("pool", 1), ("pool", cores)):
        row, found = await run_mode(mode, workers, rules, docs)
        rows.append(row)
        matches.add(found)
        print(
            ROW.format(
                row["mode"],
                row["workers"],
                row["articles_per_s"],
                f"{1000 / row['articles_per_s']:.2f}",
                row["startup_s"],
                row["main_cpu_ms_per_article"],
            )
        )
    assert len(matches) == 1, f"modes disagree on the number of matches: {matches}"

    extract_ms, match_ms = stage_costs(rules, docs)
    print(
        f"stages in this process: extract_html {extract_ms:.2f} ms, match_article "
        f"{match_ms:.3f} ms per document; {matches.pop()} matches per {len(docs)} documents"
    )
    one, all_cores = rows[1]["articles_per_s"], rows[2]["articles_per_s"]
    speedup = all_cores / one
    print(
        f"pool of {cores} vs pool of 1: {speedup:.2f}x; "
        f"pool of 1 vs in-process: {one / rows[0]['articles_per_s']:.2f}x"
    )
    print(
        json.dumps(
            {
                "bench": "pipeline",
                "documents": len(docs),
                "cores": cores,
                "rows": rows,
                "speedup_all_cores_vs_1": round(speedup, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
