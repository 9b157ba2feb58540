"""A database that does not answer stalls only the steps waiting for it: store calls run in
the store's threads, so the event loop (fetches, sends, the web endpoint, the heartbeat) goes
on. Here another connection holds the outbox's lock while a delivery pass wants it; the
worker's /healthz answers before the lock is let go."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import aiohttp
from sqlalchemy import create_engine, text

from monitor.config import load_config
from monitor.resources import rules_dir
from monitor.timeutil import utcnow
from monitor.web.app import make_app, serving
from monitor.worker.deliver import deliver
from monitor.worker.pipeline import CycleReport, open_runtime

HOLD_SECONDS = 3.0  # the lock's holder lets go by itself: the test is bounded either way


def hold_lock(database_url: str, locked: threading.Event) -> tuple[threading.Thread, list[float]]:
    """A thread that takes the outbox's write lock, holds it, and notes when it let go."""
    released: list[float] = []

    def run() -> None:
        if database_url.startswith("sqlite"):
            conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            locked.set()
            time.sleep(HOLD_SECONDS)
            released.append(time.monotonic())
            conn.execute("ROLLBACK")
            conn.close()
            return
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            time.sleep(HOLD_SECONDS)
            released.append(time.monotonic())
        engine.dispose()

    return threading.Thread(target=run, daemon=True), released


async def test_a_locked_database_does_not_freeze_the_event_loop(
    database_url, write_config, tmp_path
):
    path = write_config(f"rules: {rules_dir()}\nfeeds: [{{url: 'https://example.org/rss'}}]\n")
    config = load_config(path, {"MONITOR_DATABASE_URL": database_url})
    async with open_runtime(config) as rt:
        async with serving(make_app(config, rt.store), "127.0.0.1", 0) as base:
            locked = threading.Event()
            holder, released = hold_lock(database_url, locked)
            holder.start()
            assert await asyncio.to_thread(locked.wait, 30)
            delivery = asyncio.create_task(deliver(rt, CycleReport(), now=utcnow()))
            await asyncio.sleep(0.2)  # the pass is waiting for the lock in a store thread
            assert not delivery.done()
            async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as response:
                answered = time.monotonic()
                assert response.status == 200
            await asyncio.wait_for(delivery, 60)  # and it completes once the lock is free
            holder.join(30)
    assert released and answered < released[0], "the event loop waited for the database"
