"""`monitor run` killed with SIGKILL mid-poll, mid-render and mid-send, restarted each time:
in the end every alert reached every target, and each repeated delivery carries the same
`webhook-id` or `Message-ID`, so a receiver deduplicating by key keeps exactly one of each.
Stopped by SIGTERM mid-send, it exits cleanly and leaves the interrupted sends to the next
worker at once, no attempt counted.

The receivers are real servers on 127.0.0.1 that can hold a request until the test lets it
go (the seed site a page, the webhook receivers a POST, the SMTP server its reply to DATA):
the worker is killed while one is held, never after a guessed delay. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from monitor.demo.seedsite import REQUESTS, make_seed_site
from monitor.resources import rules_dir
from monitor.store import Store
from tests.conftest import WEBHOOK_SECRET
from tests.hostile.worker import Worker
from tests.worker.receivers import (
    HOLD_SECONDS,
    HoldingWebhookSink,
    RecipientSmtpSink,
    hook_ids,
    mail_ids,
    outbox_rows,
)
from tests.worker.test_pipeline import RULES

ADDRESSES = ("a@example.org", "b@example.org", "c@example.org")
SEED_RULES = ["ceasefire", "displacement-figures", "envoy-travel"]
WAIT = 30.0  # seconds any one step may take before the test fails (with the worker's log)

# `monitor run`, with the delivery clock at 1 s instead of 10 s (there is no config knob
# for it: a restarted worker's first delivery pass would wait for it), and, when
# HOLD_RENDER_MARKER names a file, the email renderer held on its first digest: it renders,
# touches the file and sleeps in the rendering thread until the test kills the process.
RUN_WORKER = """\
import os, sys, time
from pathlib import Path

if __name__ == "__main__":  # the extraction pool's processes import this module too
    from monitor.worker import deliver, scheduler

    scheduler.DELIVERY_SECONDS = 1.0
    marker = os.environ.get("HOLD_RENDER_MARKER")
    if marker:
        render = deliver.render_digest

        def held(*args, **kwargs):
            message = render(*args, **kwargs)
            Path(marker).touch()
            time.sleep(30)  # killed meanwhile
            return message

        deliver.render_digest = held
    from monitor.cli import main

    main(["run", "-c", sys.argv[1]])
"""


def config_text(seed_url: str, smtp_port: int, hook_a: str, hook_b: str) -> str:
    def webhook(name: str, url: str) -> str:
        return f"""  - name: {name}
    webhook: {{url: "{url}/hooks/news", secret_env: CASES_WEBHOOK_SECRET}}
    rules: {RULES}
"""

    # cases-a comes first: its digest is queued before the email one is rendered
    return f"""\
database: sqlite:///monitor.db
rules: {rules_dir()}
allow_private_networks: true
alert_settle: 0s
feeds:
  - {{url: "{seed_url}/rss"}}
smtp: {{host: 127.0.0.1, port: {smtp_port}, from: "News Monitor <alerts@example.org>"}}
subscriptions:
{webhook("cases-a", hook_a)}  - name: desk
    email: [{", ".join(ADDRESSES)}]
    rules: {RULES}
{webhook("cases-b", hook_b)}"""


@dataclass
class PageGate:
    """Holds the seed site's article pages while `holding`, until `release` is set."""

    holding: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def held_seed_site(gate: PageGate) -> AsyncIterator[tuple[web.Application, str]]:
    """The seed site on 127.0.0.1, its article pages held by `gate`: its app and base URL."""
    app = make_seed_site()

    @web.middleware
    async def hold(request: web.Request, handler):
        if gate.holding and request.path.startswith("/news/"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.release.wait(), HOLD_SECONDS)
        return await handler(request)

    app.middlewares.append(hold)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield app, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        gate.release.set()
        await runner.cleanup()


async def kill9(worker: Worker) -> None:
    """kill -9, then wait (bounded) until its stderr ends: that is once every process
    sharing it (the extraction pool's, the forkserver) has exited too, so none is orphaned."""
    worker.process.send_signal(signal.SIGKILL)
    assert await worker.stop(timeout=WAIT) == -signal.SIGKILL, worker.log


@dataclass
class Rig:
    """The seed site, two webhook receivers and an SMTP server, and a worker config for them
    in `folder` (its SQLite database beside it)."""

    folder: Path
    environ: dict[str, str]
    seed: web.Application
    gate: PageGate
    hook_a: HoldingWebhookSink
    hook_b: HoldingWebhookSink
    smtp: RecipientSmtpSink

    @property
    def receivers(self) -> tuple[HoldingWebhookSink, HoldingWebhookSink, RecipientSmtpSink]:
        return self.hook_a, self.hook_b, self.smtp

    def hold(self, holding: bool) -> None:
        """Make the receivers hold what they get (True), or let it all go (False)."""
        for receiver in self.receivers:
            receiver.holding = holding
            if not holding:
                receiver.release.set()

    async def start(self, **env: str) -> Worker:
        config = self.folder / "monitor.yaml"
        script = self.folder / "run_worker.py"
        return await Worker.start(config, {**self.environ, **env}, str(script), str(config))

    def _store(self) -> Store:
        return Store(f"sqlite:///{self.folder / 'monitor.db'}")

    def rows(self) -> list[dict[str, Any]]:
        store = self._store()
        try:
            return outbox_rows(store)
        finally:
            store.close()

    def alert_ids(self) -> set[int]:
        store = self._store()
        try:
            return {alert.id for alert in store.alerts_after(0)}
        finally:
            store.close()


@pytest.fixture
async def rig(tmp_path: Path, environ: dict[str, str]) -> AsyncIterator[Rig]:
    gate = PageGate()
    hook_a = await HoldingWebhookSink(secret=WEBHOOK_SECRET).start()
    hook_b = await HoldingWebhookSink(secret=WEBHOOK_SECRET).start()
    smtp = await RecipientSmtpSink().start()
    try:
        async with held_seed_site(gate) as (seed, seed_url):
            (tmp_path / "run_worker.py").write_text(RUN_WORKER)
            (tmp_path / "monitor.yaml").write_text(
                config_text(seed_url, smtp.port, hook_a.url, hook_b.url)
            )
            yield Rig(tmp_path, environ, seed, gate, hook_a, hook_b, smtp)
    finally:
        for receiver in (hook_a, hook_b, smtp):
            receiver.release.set()
            await receiver.stop()


def got(receiver: HoldingWebhookSink | RecipientSmtpSink) -> bool:
    return bool(receiver.hooks if isinstance(receiver, HoldingWebhookSink) else receiver.mails)


async def test_killed_mid_poll_render_and_send_every_target_gets_each_digest_by_one_key(rig):
    # 1. mid-poll: the feed is read, the article page is being fetched
    rig.gate.holding = True
    worker = await rig.start()
    await worker.until(lambda: any(r.path.startswith("/news/") for r in rig.seed[REQUESTS]), WAIT)
    await kill9(worker)
    rig.gate.holding = False
    rig.gate.release.set()
    assert rig.alert_ids() == set() and rig.rows() == []

    # 2. mid-render: the restart polls the feed again and records the alerts; the first
    # digest is queued, the email renderer is running when the worker dies
    marker = rig.folder / "rendering"
    worker = await rig.start(HOLD_RENDER_MARKER=str(marker))
    await worker.until(marker.exists, WAIT)
    await kill9(worker)
    assert len(rig.alert_ids()) == 3
    assert [(r["subscription"], r["status"]) for r in rig.rows()] == [("cases-a", "pending")]
    assert not any(got(receiver) for receiver in rig.receivers)

    # 3. mid-send: both webhook receivers hold the POST, and the SMTP server holds its answer
    # to the first message's DATA (it has the message already)
    rig.hold(True)
    worker = await rig.start()
    await worker.until(lambda: all(got(receiver) for receiver in rig.receivers), WAIT)
    await kill9(worker)
    rig.hold(False)
    queued = rig.rows()
    assert [r["subscription"] for r in queued] == ["cases-a", "desk", "desk", "desk", "cases-b"]
    assert {r["status"] for r in queued} == {"pending"}  # none was acknowledged

    # 4. the last restart sends everything the killed ones had not finished
    worker = await rig.start()
    await worker.until(lambda: {r["status"] for r in rig.rows()} == {"sent"}, WAIT)
    assert await worker.stop(timeout=WAIT) == 0, worker.log

    sent = rig.rows()
    keys = {(r["subscription"], r["target"]): r["key"] for r in sent}
    # every alert reached every target, in one row per target
    assert len(sent) == len(keys) == 5
    assert all(set(r["alert_ids"]) == rig.alert_ids() for r in sent)

    # each webhook receiver got its digest twice (the killed send, the restart's), with one
    # webhook-id, the same bytes and a valid signature both times
    for name, sink in (("cases-a", rig.hook_a), ("cases-b", rig.hook_b)):
        assert hook_ids(sink.hooks) == {keys[(name, "webhook")]: 2}
        assert len({hook.body for hook in sink.hooks}) == 1
        assert all(hook.signature_valid for hook in sink.hooks)
        payload = sink.hooks[0].json()
        assert sorted(alert["rule"] for alert in payload["alerts"]) == SEED_RULES

    # one address got its email twice (held mid-DATA, then resent), the others once; by
    # (address, Message-ID) there is exactly one of each, carrying its row's key
    mails = rig.smtp.mails
    received = mail_ids(mails)
    assert sorted(received.values()) == [1, 1, 2]
    assert set(received) == {
        (address, f"<{keys[('desk', address)]}@news-monitor>") for address in ADDRESSES
    }
    for address in ADDRESSES:
        copies = {m.message.as_bytes() for m in mails if m.recipients == [address]}
        assert len(copies) == 1  # a repeat is byte-identical
    for mail in mails:
        text = mail.part("text/plain")
        for title in ("New displacement figures", "Envoy travel", "Ceasefire mentioned"):
            assert text.count(title) == 1


async def test_stopped_mid_send_it_exits_and_the_next_worker_sends_at_once(rig):
    rig.hook_a.holding = rig.hook_b.holding = True
    worker = await rig.start()

    def held_and_mailed() -> bool:
        desk = [r["status"] for r in rig.rows() if r["subscription"] == "desk"]
        return bool(rig.hook_a.hooks and rig.hook_b.hooks) and desk == ["sent"] * 3

    await worker.until(held_and_mailed, WAIT)
    assert await worker.stop(timeout=WAIT) == 0, worker.log  # SIGTERM, while both are held
    rig.hold(False)
    # the interrupted sends are no failed attempt: nothing to back off from, nothing leased
    webhook_rows = [r for r in rig.rows() if r["target"] == "webhook"]
    assert [(r["status"], r["attempts"], r["last_error"]) for r in webhook_rows] == [
        ("pending", 0, None),
        ("pending", 0, None),
    ]

    worker = await rig.start()
    await worker.until(lambda: {r["status"] for r in rig.rows()} == {"sent"}, WAIT)
    assert await worker.stop(timeout=WAIT) == 0, worker.log
    keys = {r["subscription"]: r["key"] for r in rig.rows() if r["target"] == "webhook"}
    assert hook_ids(rig.hook_a.hooks) == {keys["cases-a"]: 2}
    assert hook_ids(rig.hook_b.hooks) == {keys["cases-b"]: 2}
    assert len(rig.smtp.mails) == 3  # sent before the signal, never again
