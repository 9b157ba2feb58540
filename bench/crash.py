"""Nothing lost on a crash: rounds of `monitor once --all`, each killed (SIGKILL) at a random
moment while the feed grows, then one run to the end; every item's alert must reach the
webhook receiver.

Each round adds ITEMS_PER_ROUND items to a loopback feed (each a ceasefire story of its own:
one alert each), starts `monitor once --all` as its own process and kills it at a random moment
within the time a whole run takes (measured by the baseline): during start-up, polling,
matching, storing or delivering. A final `monitor once --all` runs to the end. The receiver
counts, per item, the alerts delivered, and the digests received again by their `webhook-id`
(at-least-once delivery repeats a digest whose send was cut short; the id lets a receiver drop
the repeat, as this one does).

Rows, both measured in this run: the baseline (the same rounds, never killed) and the kill
rounds. Prints a table, then one JSON line: {"bench": "crash", "rows": [{"mode", "rounds",
"killed", "seconds_per_round", "expected", "delivered", "repeated", "duplicated", "lost"}]};
`repeated` counts digests received again (same id), `duplicated` items alerted in two digests.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.resources import rules_dir  # noqa: E402

ROUNDS = 14
ITEMS_PER_ROUND = 5


class Receiver:
    """The growing feed and the webhook receiver, on 127.0.0.1."""

    def __init__(self) -> None:
        self.items: list[str] = []  # slugs; headlines share no word: each is its own story
        self.alerts: dict[str, int] = {}  # article URL -> alerts delivered
        self.digest_ids: dict[str, int] = {}  # webhook-id -> times received

    def add_items(self, count: int) -> None:
        start = len(self.items)
        self.items += [f"talks{n}-round{n}" for n in range(start, start + count)]

    @staticmethod
    def url(slug: str) -> str:
        return f"https://news.example/{slug}"

    async def feed(self, _request: web.Request) -> web.Response:
        items = "".join(
            f"<item><title>{slug.replace('-', ' ').title()} agreed</title>"
            f"<guid>{self.url(slug)}</guid><link>{self.url(slug)}</link>"
            f"<description>A ceasefire was agreed in {slug}.</description></item>"
            for slug in self.items
        )
        rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
        return web.Response(text=rss + "</channel></rss>", content_type="application/rss+xml")

    async def hook(self, request: web.Request) -> web.Response:
        payload = await request.json()
        key = request.headers["webhook-id"]
        self.digest_ids[key] = self.digest_ids.get(key, 0) + 1
        if self.digest_ids[key] == 1:  # a repeat is dropped by its id
            for alert in payload["alerts"]:
                url = alert["article"]["url"]
                self.alerts[url] = self.alerts.get(url, 0) + 1
        return web.Response(text="ok")


async def run_once(config: Path, kill_after: float | None) -> bool:
    """One `monitor once --all`; True if it was killed before it ended."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "monitor", "once", "--all", "-c", str(config)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await asyncio.wait_for(process.wait(), kill_after or 120)
    except TimeoutError:
        if kill_after is None:
            raise
        process.send_signal(signal.SIGKILL)
        await process.wait()
        return True
    return False


async def measure(mode: str, kill_within: float | None, seed: int) -> dict[str, Any]:
    """The rounds, each killed after a random part of `kill_within` seconds (None: never)."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_get("/rss", receiver.feed)
    app.router.add_post("/hook", receiver.hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    chance = random.Random(seed)
    killed = 0
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "monitor.yaml"
        config.write_text(
            f"database: sqlite:///monitor.db\nrules: {rules_dir()}\nallow_private_networks: true\n"
            f'respect_robots_txt: false\nfeeds: [{{url: "{base}/rss"}}]\n'
            f'subscriptions:\n  - name: desk\n    webhook: {{url: "{base}/hook"}}\n'
            "    rules: [ceasefire]\n"
        )
        started = time.perf_counter()
        try:
            for _ in range(ROUNDS):
                receiver.add_items(ITEMS_PER_ROUND)
                kill_after = chance.uniform(0.05, kill_within) if kill_within else None
                killed += await run_once(config, kill_after)
            seconds_per_round = (time.perf_counter() - started) / ROUNDS
            await run_once(config, None)  # to the end: what was pending goes out
        finally:
            await runner.cleanup()
    expected = [receiver.url(slug) for slug in receiver.items]
    return {
        "mode": mode,
        "rounds": ROUNDS,
        "killed": killed,
        "seconds_per_round": round(seconds_per_round, 2),
        "expected": len(expected),
        "delivered": sum(1 for url in expected if receiver.alerts.get(url)),
        "repeated": sum(times - 1 for times in receiver.digest_ids.values()),
        "duplicated": sum(1 for url in expected if receiver.alerts.get(url, 0) > 1),
        "lost": sum(1 for url in expected if not receiver.alerts.get(url)),
    }


async def main() -> None:
    seed = int(os.environ.get("BENCH_SEED", "8"))
    baseline = await measure("baseline: no kill", None, seed)
    # kills land anywhere from start-up to the end of a whole run
    rows = [baseline, await measure("kill -9", baseline["seconds_per_round"], seed)]
    columns = ["rounds", "killed", "expected", "delivered", "repeated", "duplicated", "lost"]
    print(f"{'mode':18} " + " ".join(f"{c:>10}" for c in columns))
    for row in rows:
        print(f"{row['mode']:18} " + " ".join(f"{row[c]:>10}" for c in columns))
    print(json.dumps({"bench": "crash", "rows": rows}))


if __name__ == "__main__":
    asyncio.run(main())
