"""Several `monitor run` processes on one database (DESIGN.md section 6): they share the feeds
and the digests, and a killed one's leases go to the others.

Three workers on the real PostgreSQL at 127.0.0.1:5432 poll 300 feeds of loopback publishers,
each due every INTERVAL, and send the digests of two webhook subscriptions. The publishers
record every request per feed (a 304 to a conditional GET counts as a poll), the webhook
receiver every `webhook-id`. Once every feed has been polled, one worker is killed with
SIGKILL while it is mid-poll (its publisher holds the request), holding leases; it never
comes back, as if its machine had died (a restart on the same machine would free them at
once: test_kill_restart.py). Then:

- every feed is polled exactly once per interval: each poll opens the feed's next window,
  from the interval less its jitter to the interval plus its jitter and one scheduler tick,
  and the next poll falls in it: never two polls in one interval, none missed;
- a killed worker's feeds are polled by the others once its lease has run out (not before:
  nobody polls a feed another worker holds) and within LEASE plus a tick of the kill;
- every digest is delivered exactly once: each outbox row's `webhook-id` arrives once (twice
  only for a row the killed worker was sending, then byte-identical), and each alert is in
  exactly one digest of each subscription.

Two workers on one SQLite file work the same way: every SQLite transaction takes the write
lock first and waits up to the busy timeout for the other worker's (store/base.py), so two
started together on a new file both migrate it and register (they failed "database is
locked" before). The last tests pin the poller's claims: fills at once claim no more than
there is room for, and a fill that ends after the stop starts no poll.

The only timed assertions are those windows, derived from the constants they name. The
worker runs unchanged but for the config's floor on intervals (a minute), lowered by the
worker script (farm.RUN_WORKER) so that many intervals pass in seconds; LEASE, HEARTBEAT and
the scheduler's tick are the shipped ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from monitor.config import FeedConfig
from monitor.demo.sinks import WebhookSink
from monitor.store import HEARTBEAT, LEASE, FeedState
from monitor.worker import ingest
from monitor.worker.ingest import POLL_CONCURRENCY, Poller
from monitor.worker.runtime import CycleReport
from monitor.worker.scheduler import MAX_TICK
from tests.conftest import POSTGRES_URL, WEBHOOK_SECRET, postgres_unreachable, reset_postgres
from tests.hostile.worker import Worker
from tests.worker.farm import Farm, Publisher, config_text, publishing
from tests.worker.receivers import hook_ids

JITTER = 0.1  # ingest.next_poll: a feed's interval ±10%
# A poll reaches the publisher at most this long after the worker read the clock that
# schedules its next one (the claim's transaction, a wait for one of the host's connections).
SLACK = timedelta(seconds=2)
SUBSCRIPTIONS = ("desk-a", "desk-b")


def windows(interval: timedelta) -> tuple[timedelta, timedelta, timedelta]:
    """The earliest and latest gap between two polls of a feed, and the scheduler's tick."""
    tick = min(MAX_TICK, interval)  # scheduler: the shortest feed interval, at most MAX_TICK
    return interval * (1 - JITTER) - SLACK, interval * (1 + JITTER) + tick + SLACK, tick


@pytest.fixture
async def hooks() -> AsyncIterator[WebhookSink]:
    sink = await WebhookSink(secret=WEBHOOK_SECRET).start()
    yield sink
    await sink.stop()


def write_farm(farm: Farm, pub: Publisher, interval: timedelta, hook_url: str) -> None:
    farm.write(config_text(farm.database, pub.urls, f"{interval.seconds}s", hook_url))


# -- what the publishers, the receiver and the outbox saw -------------------------------------


def polling_problems(
    pub: Publisher, interval: timedelta, until: datetime, *, killed: dict[int, datetime]
) -> list[str]:
    """Each feed's polls, one per window, up to `until`; for the feeds in `killed` (feed ->
    when the worker holding it was killed) the gap the kill opened is left to
    `takeover_problems`."""
    earliest, latest, _ = windows(interval)
    problems = []
    for n in range(pub.count):
        times = sorted(pub.polled(n))
        if not times:
            problems.append(f"feed {n}: never polled")
            continue
        for a, b in zip(times, times[1:], strict=False):
            if n in killed and a < killed[n] < b:
                continue
            if b - a < earliest:
                problems.append(f"feed {n}: polled twice in one interval ({a:%T.%f}, {b:%T.%f})")
            held = n in pub.stalled and a == times[0]  # the publisher held that poll
            if b - a > latest and not held:
                problems.append(f"feed {n}: an interval without a poll ({a:%T.%f}, {b:%T.%f})")
        if until - times[-1] > latest:
            problems.append(f"feed {n}: not polled since {times[-1]:%T.%f} (until {until:%T})")
    return problems


def takeover_problems(
    pub: Publisher, held: dict[int, datetime], killed_at: datetime, tick: timedelta
) -> list[str]:
    """Each feed the killed worker held (feed -> its lease's end, as the store had it) was
    polled again after its lease ran out, and within LEASE and a tick of the kill."""
    problems = []
    for n, until in sorted(held.items()):
        if until > killed_at + LEASE:  # a heartbeat renews a lease to LEASE from its time
            problems.append(f"feed {n}: leased until {until:%T.%f}, past LEASE after the kill")
        after = [t for t in pub.polled(n) if t > killed_at]
        if not after:
            problems.append(f"feed {n}: never polled after the kill")
        elif min(after) < until:
            problems.append(f"feed {n}: polled at {min(after):%T.%f}, leased till {until:%T.%f}")
        elif min(after) - killed_at > LEASE + tick + SLACK:
            problems.append(f"feed {n}: taken over {min(after) - killed_at} after the kill")
    return problems


def undelivered(farm: Farm) -> list[str]:
    """What the outbox has not sent yet: rows not sent, alerts in no row of a subscription."""
    rows = farm.outbox()
    alerts = farm.alert_ids()
    missing = [
        f"{r['key']}: {r['status']} ({r['last_error']})" for r in rows if r["status"] != "sent"
    ]
    for sub in SUBSCRIPTIONS:
        queued = {a for row in rows if row["subscription"] == sub for a in row["alert_ids"]}
        missing += [f"{sub}: alert {a} not queued" for a in sorted(alerts - queued)]
    return missing


def delivery_problems(farm: Farm, hooks: WebhookSink, resent: set[str]) -> list[str]:
    """Every outbox row sent and its webhook-id received once (twice if in `resent`, with the
    same bytes), and each alert in exactly one digest of each subscription."""
    keys = {str(row["key"]) for row in farm.outbox()}
    received = hook_ids(hooks.hooks)
    problems = undelivered(farm)
    problems += [f"{k}: received, never queued" for k in set(received) - keys]
    problems += [f"{k}: never received" for k in keys - set(received)]
    problems += [
        f"{k}: received {count} times"
        for k, count in received.items()
        if count > 1 and (k not in resent or count > 2)
    ]
    bodies: dict[str, bytes] = {}
    for hook in hooks.hooks:
        key = hook.headers["webhook-id"]
        if not hook.signature_valid:
            problems.append(f"{key}: the signature does not verify")
        if bodies.setdefault(key, hook.body) != hook.body:
            problems.append(f"{key}: a repeat with other bytes")
    payloads = [hook.json() for hook in hooks.hooks if bodies.pop(hook.headers["webhook-id"], 0)]
    alerts = farm.alert_ids()
    for sub in SUBSCRIPTIONS:
        sent = Counter(
            alert["id"] for p in payloads if p["subscription"] == sub for alert in p["alerts"]
        )
        problems += [f"{sub}: alert {a} in {c} digests" for a, c in sent.items() if c > 1]
        problems += [f"{sub}: alert {a} in no digest" for a in sorted(alerts - set(sent))]
    return problems


async def publish_editions(pub: Publisher, count: int, every: timedelta) -> None:
    for _ in range(count):
        await asyncio.sleep(every.total_seconds())
        pub.publish()


# -- three workers on PostgreSQL ----------------------------------------------------------------

FEEDS = 300
INTERVAL = timedelta(seconds=10)
STALLED = frozenset(range(0, FEEDS, 50))  # 6 feeds, spread through the list, on a slow host
BUSY = frozenset(range(5, FEEDS, 10))  # 30 feeds with a new item at each edition
EDITIONS = 3


@pytest.fixture
def postgres() -> str:
    """The machine's PostgreSQL, emptied; the workers make its schema."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    return POSTGRES_URL


async def test_three_workers_on_postgresql_share_feeds_digests_and_a_killed_ones_leases(
    tmp_path: Path, environ: dict[str, str], hooks: WebhookSink, postgres: str
) -> None:
    # the stalled feeds carry no ceasefire: their takeover adds no alert to wait for
    pub = Publisher(FEEDS, busy=set(BUSY), stalled=STALLED, quiet=STALLED)
    env = {**environ, "MIN_INTERVAL_SECONDS": str(INTERVAL.seconds)}
    farm = Farm(tmp_path, env, postgres)
    _, _, tick = windows(INTERVAL)
    editions = None
    try:
        async with publishing(pub):
            write_farm(farm, pub, INTERVAL, hooks.url)
            await farm.start(3)

            # 1. every feed has been polled once (the slow host holds its feeds' polls)
            stalled = {pub.urls[n] for n in STALLED}

            def first_round() -> bool:
                return farm.never_polled() == stalled and stalled <= set(farm.feed_leases())

            await farm.until(first_round, 60, "every feed polled")
            assert len(farm.worker_ids()) == 3

            # 2. the worker holding most stalled feeds is killed in the middle of their polls
            leases, pids = farm.feed_leases(), farm.worker_ids()
            victim_id = Counter(leases[url][0] for url in stalled).most_common(1)[0][0]
            victim = next(w for w in farm.workers if pids.get(w.process.pid) == victim_id)
            await farm.kill9(victim)
            killed_at = datetime.now(UTC)
            feed_of = {url: n for n, url in enumerate(pub.urls)}
            held = {
                feed_of[url]: until
                for url, (by, until) in farm.feed_leases().items()
                if by == victim_id
            }
            sending = {
                str(row["key"])
                for row in farm.outbox()
                if row["leased_by"] == victim_id and row["status"] == "pending"
            }
            assert held, "the killed worker held no lease"
            pub.release.set()  # the others' stalled polls go on
            # new items meanwhile on the feeds the others poll: their alerts are all sent by
            # the time the killed worker's leases have run out
            pub.busy -= set(held)
            editions = asyncio.create_task(publish_editions(pub, EDITIONS, INTERVAL))

            # 3. the others poll its feeds once its leases have run out, and send every digest
            def taken_over() -> bool:
                return all(any(t > killed_at for t in pub.polled(n)) for n in held)

            bound = (LEASE + tick + SLACK).total_seconds()
            await farm.until(taken_over, bound + 10, "the killed worker's feeds polled again")
            await farm.until(
                lambda: editions.done() and not undelivered(farm),
                40,
                "every alert delivered",
                lambda: undelivered(farm)[:20],
            )
            observed = datetime.now(UTC)
            assert await farm.stop() == [0, 0], farm.logs
    finally:
        if editions is not None:
            editions.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await editions
        await farm.close()

    killed = dict.fromkeys(held, killed_at)
    problems = polling_problems(pub, INTERVAL, observed, killed=killed)
    problems += takeover_problems(pub, held, killed_at, tick)
    # each of its leases had been taken or renewed (HEARTBEAT) shortly before the kill
    if min(held.values()) < killed_at + LEASE - HEARTBEAT - SLACK:
        problems.append(f"a lease of the killed worker ended {min(held.values())}: not renewed")
    problems += delivery_problems(farm, hooks, sending)
    assert not problems, "\n".join(problems[:30])
    # one alert per matching item: none lost, none recorded twice
    assert len(farm.alert_ids()) == (FEEDS - len(STALLED)) + len(pub.busy) * EDITIONS


# -- two workers on one SQLite file -------------------------------------------------------------

SQLITE_FEEDS = 40
SQLITE_INTERVAL = timedelta(seconds=5)


async def test_two_workers_on_one_sqlite_file_share_feeds_and_digests(
    tmp_path: Path, environ: dict[str, str], hooks: WebhookSink
) -> None:
    pub = Publisher(SQLITE_FEEDS, busy=set(range(0, SQLITE_FEEDS, 4)), sites=2)
    env = {**environ, "MIN_INTERVAL_SECONDS": str(SQLITE_INTERVAL.seconds)}
    farm = Farm(tmp_path, env, f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        async with publishing(pub):
            write_farm(farm, pub, SQLITE_INTERVAL, hooks.url)
            await farm.start(2)  # both at once on a new file: both migrate it
            assert len(farm.worker_ids()) == 2

            def polled(times: int) -> bool:
                return all(len(pub.polled(n)) >= times for n in range(SQLITE_FEEDS))

            # every feed polled, then (after a new item on some) polled again, the new items
            # recorded and sent
            await farm.until(lambda: polled(1), 30, "every feed polled")
            pub.publish()
            expected = SQLITE_FEEDS + len(pub.busy)
            await farm.until(
                lambda: polled(2) and len(farm.alert_ids()) == expected and not undelivered(farm),
                30,
                "every feed polled again, every alert delivered",
                lambda: (len(farm.alert_ids()), undelivered(farm)[:20]),
            )
            observed = datetime.now(UTC)
            assert await farm.stop() == [0, 0], farm.logs
    finally:
        await farm.close()

    problems = polling_problems(pub, SQLITE_INTERVAL, observed, killed={})
    problems += delivery_problems(farm, hooks, set())
    assert not problems, "\n".join(problems[:30])
    assert len(farm.alert_ids()) == expected
    for worker in farm.workers:
        assert "database is locked" not in worker.log, worker.log
        assert polled_by(worker) > 0, worker.log  # both took their share


def polled_by(worker: Worker) -> int:
    """How many polls the worker's log says it made (its summary line at stop)."""
    return max([int(n) for n in re.findall(r"polled (\d+) feeds", worker.log)] or [0])


# Opens the store at argv[1] as `monitor run` does at its start, once told to go (stdin).
OPEN_STORE = """\
import sys
from monitor.store import Store

print("ready", flush=True)
sys.stdin.readline()
store = Store(sys.argv[1])
store.sync_feeds(["https://news.example/rss"])
store.subscription_state("desk")
store.register_worker()
store.close()
"""


async def test_workers_starting_together_on_a_new_sqlite_file_all_open_it(
    tmp_path: Path,
) -> None:
    """Four processes open a new file at once: each waits for the write lock (the one
    migrating holds it), none fails "database is locked" (two `monitor run` started together
    did, migrating or registering)."""
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            OPEN_STORE,
            url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    try:
        for process in processes:  # all imported: they open the file together
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(process.communicate(b"go\n") for process in processes)), 30
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    errors = [stderr.decode() for _, stderr in outcomes]
    assert [p.returncode for p in processes] == [0] * 4, "\n".join(errors)


# -- the poller's claims, in one process ---------------------------------------------------------


class ClaimingStore:
    """A store whose claims hand out fresh feeds, `limit` at a time, in a thread (as the
    worker's store threads do); while `gate` is clear a claim waits in its thread."""

    def __init__(self, urls: list[str]) -> None:
        self.free = list(urls)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def claim_due_feeds(self, *_args: Any, limit: int, **_kwargs: Any) -> list[FeedState]:
        self.waiting.set()
        assert self.gate.wait(10)
        taken, self.free = self.free[:limit], self.free[limit:]
        return [_never_polled(int(url.rsplit("/", 1)[1]), url) for url in taken]


def _never_polled(feed_id: int, url: str) -> FeedState:
    return FeedState(
        id=feed_id,
        url=url,
        poll_url=url,
        etag=None,
        last_modified=None,
        last_polled_at=None,
        last_success_at=None,
        next_poll_at=None,
        last_status=None,
        last_error=None,
        last_warning=None,
        consecutive_failures=0,
        items_seen=0,
    )


@dataclass
class PollerRig:
    poller: Poller
    store: ClaimingStore
    polled: list[str]  # the feeds whose poll began


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PollerRig]:
    """A Poller over 200 feeds whose polls last until the test ends."""
    urls = [f"https://news.example/feed/{n}" for n in range(200)]
    store = ClaimingStore(urls)

    async def db(call: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(call, *args, **kwargs)

    feeds = [FeedConfig(url, INTERVAL, (), timedelta(hours=48)) for url in urls]
    rt = SimpleNamespace(config=SimpleNamespace(feeds=feeds), store=store, db=db)
    polled: list[str] = []
    ended = asyncio.Event()

    async def poll_one(_rt: Any, feed: FeedConfig, *_args: Any) -> None:
        polled.append(feed.url)
        await ended.wait()

    monkeypatch.setattr(ingest, "poll_one", poll_one)
    poller = Poller(rt)  # type: ignore[arg-type]
    yield PollerRig(poller, store, polled)
    store.gate.set()
    ended.set()
    await poller.stop(1)


async def test_fills_at_once_claim_no_more_than_the_poll_concurrency(rig: PollerRig) -> None:
    now = datetime.now(UTC)
    await asyncio.gather(*(rig.poller.fill(CycleReport(), now=now) for _ in range(5)))
    assert len(rig.poller.running) <= POLL_CONCURRENCY


async def test_a_fill_that_ends_after_the_stop_starts_no_poll(rig: PollerRig) -> None:
    rig.store.gate.clear()
    fill = asyncio.create_task(rig.poller.fill(CycleReport(), now=datetime.now(UTC)))
    await asyncio.to_thread(rig.store.waiting.wait, 10)  # the claim is in its thread
    await rig.poller.stop(1)
    rig.store.gate.set()
    await fill
    await asyncio.sleep(0)  # a poll task started by the fill would run now
    assert (rig.poller.running, rig.polled) == ({}, [])
