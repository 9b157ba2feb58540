"""The replay test and the pipeline's promises, against real servers on 127.0.0.1: the seed
publisher's site, an aiosmtpd SMTP server and a webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from monitor.channels.webhook import verify_signature
from monitor.config import load_config
from monitor.demo.seedsite import REQUESTS, start_seed_site
from monitor.resources import rules_dir
from monitor.store import LEASE, NewDelivery, Store
from monitor.timeutil import utcnow
from monitor.worker.deliver import _send_rows
from monitor.worker.pipeline import CycleReport, open_runtime, run_cycle
from tests.conftest import WEBHOOK_SECRET

RULES = "[displacement-figures, envoy-travel, ceasefire]"


def config_text(feed_urls, smtp_port, webhook_url, *, allow_private=True, extra=""):
    feeds = "\n".join(f'  - {{url: "{url}", tags: [mideast]}}' for url in feed_urls)
    return f"""\
database: sqlite:///monitor.db
rules: {rules_dir()}
allow_private_networks: {str(allow_private).lower()}
feeds:
{feeds}
smtp: {{host: 127.0.0.1, port: {smtp_port}, from: "News Monitor <alerts@example.org>"}}
subscriptions:
  - name: humanitarian-desk
    email: desk@example.org
    rules: {RULES}
  - name: case-system
    webhook: {{url: {webhook_url}/hooks/news, format: generic, secret_env: CASES_WEBHOOK_SECRET}}
    tags: [humanitarian, diplomacy]
{extra}"""


@pytest.fixture
def config(seed_site, smtp_sink, webhook_sink, write_config, environ):
    return load_config(
        write_config(config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url)), environ
    )


async def test_seed_story_travels_from_feed_to_inbox_and_webhook(config, smtp_sink, webhook_sink):
    async with open_runtime(config) as rt:
        report = await run_cycle(rt)
        assert (report.feeds_polled, report.alerts, report.digests, report.delivered) == (
            1,
            3,
            2,
            2,
        )

        [mail] = smtp_sink.mails
        assert mail.recipients == ["desk@example.org"]
        # one story (the seed article), with every rule that matched it
        assert mail.message["Subject"] == (
            "1 story: at least 40,000 displaced in Syria; envoy travel to Moscow, Washington; "
            "ceasefire mentioned"
        )
        text, html = mail.part("text/plain"), mail.part("text/html")
        for part in (text, html):
            for title in ("New displacement figures", "Envoy travel", "Ceasefire mentioned"):
                assert part.count(title) == 1
            assert (
                part.count("UN Syria peace envoy travels to Moscow") == 1
            )  # no snippet repeats it
            assert "40,000" in part
            assert "Moscow, Washington" in part
            assert (
                "ceasefires</mark> were in place" in part or "**ceasefires** were in place" in part
            )
            assert "Stay informed" not in part and "Middle East Eye delivers" not in part
        assert re.search(r'<mark style="background: #ffe27a;[^"]*">ceasefires</mark>', html)

        [hook] = webhook_sink.hooks
        assert hook.path == "/hooks/news"
        assert hook.signature_valid
        assert verify_signature(WEBHOOK_SECRET, hook.headers, hook.body)
        payload = hook.json()
        assert payload["version"] == 1 and payload["subscription"] == "case-system"
        alerts = {a["rule"]: a for a in payload["alerts"]}
        assert sorted(alerts) == ["ceasefire", "displacement-figures", "envoy-travel"]
        assert [f["value"] for f in alerts["displacement-figures"]["figures"]] == [40000]
        assert alerts["displacement-figures"]["figures"][0]["text"] == "40,000"
        assert alerts["envoy-travel"]["captures"] == {"destination": ["Moscow", "Washington"]}
        assert any("Several local ceasefires" in s for s in alerts["ceasefire"]["snippets"])

        # a second cycle finds nothing new and sends nothing
        again = await run_cycle(rt, poll_all=True)
        assert (again.articles, again.alerts, again.digests, again.delivered) == (0, 0, 0, 0)
        assert len(smtp_sink.mails) == 1 and len(webhook_sink.hooks) == 1


async def test_second_poll_is_conditional(smtp_sink, webhook_sink, write_config, environ):
    runner, base = await start_seed_site()
    try:
        config = load_config(
            write_config(config_text([f"{base}/rss"], smtp_sink.port, webhook_sink.url)), environ
        )
        async with open_runtime(config) as rt:
            await run_cycle(rt)
            await run_cycle(rt, poll_all=True)
            [state] = rt.store.feed_states()
        feed_requests = [r for r in runner.app[REQUESTS] if r.path == "/rss"]
        assert len(feed_requests) == 2
        assert "If-None-Match" in feed_requests[1].headers
        assert state.last_status == 304 and state.etag
    finally:
        await runner.cleanup()


async def test_feed_not_due_is_not_polled_unless_all(config):
    async with open_runtime(config) as rt:
        await run_cycle(rt)
        assert (await run_cycle(rt)).feeds_polled == 0
        assert (await run_cycle(rt, poll_all=True)).feeds_polled == 1
        later = datetime.now(UTC) + timedelta(minutes=12)
        assert (await run_cycle(rt, now=later)).feeds_polled == 1


async def test_old_entries_on_first_poll_are_recorded_not_alerted(
    smtp_sink, webhook_sink, write_config, environ
):
    runner, base = await start_seed_site(now=datetime.now(UTC) - timedelta(days=3))
    try:
        config = load_config(
            write_config(config_text([f"{base}/rss"], smtp_sink.port, webhook_sink.url)), environ
        )
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
        assert (report.alerts, report.digests) == (0, 0)
        assert smtp_sink.mails == [] and webhook_sink.hooks == []
    finally:
        await runner.cleanup()


async def test_story_in_two_feeds_is_processed_once(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    text = config_text(
        [f"{seed_site}/rss", f"{seed_site}/rss?edition=intl"], smtp_sink.port, webhook_sink.url
    )
    async with open_runtime(load_config(write_config(text), environ)) as rt:
        report = await run_cycle(rt)
    assert report.feeds_polled == 2 and report.alerts == 3
    assert len(smtp_sink.mails) == 1


async def test_failed_webhook_is_retried_with_the_same_id(config, webhook_sink):
    webhook_sink.status = 503
    async with open_runtime(config) as rt:
        first = await run_cycle(rt)
        assert first.delivery_failures == 1 and rt.store.outbox_counts() == {
            "sent": 1,
            "pending": 1,
        }
        webhook_sink.status = 200
        assert (await run_cycle(rt)).delivered == 0  # not due yet: backing off
        later = datetime.now(UTC) + timedelta(hours=2)
        assert (await run_cycle(rt, now=later)).delivered == 1
        assert rt.store.outbox_counts() == {"sent": 2}
    failed, delivered = webhook_sink.hooks
    assert failed.headers["webhook-id"] == delivered.headers["webhook-id"]
    assert delivered.signature_valid


async def test_a_retry_counts_from_the_failed_attempt(config, webhook_sink):
    # a slow receiver that says "come back in a minute"
    webhook_sink.status, webhook_sink.delay = 429, 1.5
    webhook_sink.headers_out = {"Retry-After": "60"}
    async with open_runtime(config) as rt:
        await run_cycle(rt)
        answered = datetime.now(UTC)  # just after the 1.5 s answer (nothing else is slow)
        [pending] = rt.store.outbox_entries(("pending",))
    # counted from the pass's start, the retry would be due 1.5 s early
    assert pending.next_attempt_at >= answered + timedelta(seconds=59.5)


async def test_refused_email_is_dead_lettered_and_the_worker_goes_on(
    config, smtp_sink, webhook_sink
):
    smtp_sink.reply = "550 no such user"
    async with open_runtime(config) as rt:
        report = await run_cycle(rt)
        assert report.delivered == 1 and report.delivery_failures == 1
        assert rt.store.outbox_counts() == {"sent": 1, "dead": 1}
    assert len(webhook_sink.hooks) == 1


async def test_private_feed_refused_without_allow_private(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    text = config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url, allow_private=False)
    async with open_runtime(load_config(write_config(text), environ)) as rt:
        report = await run_cycle(rt)
        [state] = rt.store.feed_states()
    assert report.feeds_failed == 1
    assert "refused" in state.last_error and state.consecutive_failures == 1


async def test_broken_feed_is_recorded_and_others_go_on(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    text = config_text([f"{seed_site}/nope", f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url)
    async with open_runtime(load_config(write_config(text), environ)) as rt:
        report = await run_cycle(rt)
        states = {s.url.rsplit("/", 1)[1]: s for s in rt.store.feed_states()}
    assert report.feeds_failed == 1 and report.alerts == 3
    assert "404" in states["nope"].last_error


async def test_seed_story_on_postgresql(seed_site, smtp_sink, webhook_sink, write_config, environ):
    from tests.conftest import POSTGRES_URL, postgres_unreachable, reset_postgres

    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    reset_postgres()
    # one worker here: no other worker's alerts to wait for
    text = config_text(
        [f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url, extra="alert_settle: 0s\n"
    )
    path = write_config(text)
    config = load_config(
        path, {**environ, "MONITOR_DATABASE_URL": POSTGRES_URL.replace("+psycopg", "")}
    )
    assert config.database_url.startswith("postgresql+psycopg://")
    async with open_runtime(config) as rt:
        assert (await run_cycle(rt)).delivered == 2
        assert (await run_cycle(rt, poll_all=True)).delivered == 0
    assert len(smtp_sink.mails) == 1 and len(webhook_sink.hooks) == 1


async def test_a_crashing_notifier_does_not_stop_other_deliveries(
    config, smtp_sink, webhook_sink, monkeypatch
):
    from monitor.worker import deliver

    async def crashing(*_args, **_kwargs):
        raise RuntimeError("bug in a channel")

    monkeypatch.setattr(deliver, "send_batch", crashing)  # email only
    async with open_runtime(config) as rt:
        report = await run_cycle(rt)
        assert (report.delivered, report.delivery_failures) == (1, 1)
        assert rt.store.outbox_counts() == {"sent": 1, "pending": 1}  # kept, and retried later
    assert len(webhook_sink.hooks) == 1 and smtp_sink.mails == []


async def test_retry_is_the_same_message(config, webhook_sink):
    webhook_sink.status = 500
    async with open_runtime(config) as rt:
        await run_cycle(rt)
        webhook_sink.status = 200
        await run_cycle(rt, now=datetime.now(UTC) + timedelta(hours=2))
    first, second = webhook_sink.hooks
    assert first.body == second.body


async def test_a_flood_of_alerts_goes_out_in_several_digests(config, webhook_sink):
    from monitor.digest.plan import MAX_DIGEST_STORIES
    from monitor.models import Article, Match

    async with open_runtime(config) as rt:
        for n in range(MAX_DIGEST_STORIES * 2 + 5):
            article = Article(
                url=f"https://example.org/{n}", title=f"Ceasefire {n}", text="A truce."
            )
            article_id, _, _ = rt.store.add_article(f"https://example.org/{n}", article)
            rt.store.add_alert(
                article_id, Match("ceasefire", "Ceasefire mentioned", "medium"), ("humanitarian",)
            )
        report = await run_cycle(rt)
    assert report.digests == 6  # three for each subscription
    bodies = [hook.json() for hook in webhook_sink.hooks]
    # the seed story is the most severe (high): it leads the first digest
    assert [len(b["stories"]) for b in bodies] == [MAX_DIGEST_STORIES, MAX_DIGEST_STORIES, 6]
    assert bodies[0]["stories"][0]["severity"] == "high"
    assert sorted(b["subject"].split(":")[0] for b in bodies) == [
        f"{MAX_DIGEST_STORIES} stories (part 1 of 3)",
        f"{MAX_DIGEST_STORIES} stories (part 2 of 3)",
        "6 stories (part 3 of 3)",
    ]


async def test_a_broken_operator_template_falls_back_to_the_shipped_ones(
    seed_site, smtp_sink, webhook_sink, write_config, environ, tmp_path
):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "subject.txt.j2").write_text("{{ no_such_variable.boom }}")
    text = config_text(
        [f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url, extra="templates: tpl\n"
    )
    async with open_runtime(load_config(write_config(text), environ)) as rt:
        report = await run_cycle(rt)
    assert report.delivered == 2
    assert smtp_sink.mails[0].message["Subject"].startswith("1 story: at least 40,000")


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """`app` on an ephemeral port of 127.0.0.1: its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def seed_feed_config(seed_site: str) -> str:
    """A config's first lines: the shipped rules, the seed feed, loopback allowed."""
    return (
        f"database: sqlite:///monitor.db\nrules: {rules_dir()}\nallow_private_networks: true\n"
        f'feeds: [{{url: "{seed_site}/rss"}}]'
    )


async def test_a_slow_target_delays_nobody(seed_site, webhook_sink, write_config, environ):
    arrived = asyncio.Event()  # the healthy receiver has its digest
    seen_while_waiting = []

    async def stalls(_request):
        # answers only once the other target has its digest (bounded: 5 s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), 5)
        seen_while_waiting.append(arrived.is_set())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", stalls)
    runner, base = await serve(app)
    slow_url = f"{base}/hook"
    text = f"""{seed_feed_config(seed_site)}
subscriptions:
  - name: a-slow
    webhook: {{url: "{slow_url}"}}
    rules: [ceasefire]
  - name: b-healthy
    webhook: {{url: "{webhook_sink.url}/hooks/news", secret_env: CASES_WEBHOOK_SECRET}}
    rules: [ceasefire]
"""
    config = load_config(write_config(text), environ)

    async def watch_healthy():
        for _ in range(1200):  # bounded: 60 s
            if webhook_sink.hooks:
                arrived.set()
                return
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_healthy())
    try:
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
    finally:
        watcher.cancel()
        await runner.cleanup()
    assert report.delivered == 2
    # the healthy digest went out while the slow target still held its own
    assert seen_while_waiting == [True]


async def test_webhooks_never_wait_for_the_connections_pages_use(seed_site, write_config, environ):
    released = asyncio.Event()
    hooks_while_pages_hang = []

    async def page(_request):  # a page fetch that holds its connection (bounded: 10 s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), 10)
        return web.Response(text="<html></html>")

    async def hook(_request):
        hooks_while_pages_hang.append(not released.is_set())
        released.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/page", page)
    app.router.add_post("/hook", hook)
    runner, base = await serve(app)
    text = f"""{seed_feed_config(seed_site)}
subscriptions:
  - name: cases
    webhook: {{url: "{base}/hook"}}
    rules: [ceasefire]
"""
    config = load_config(write_config(text), environ)
    try:
        async with open_runtime(config) as rt:
            # heavy ingest from the same host: every page connection to it is taken
            pages = [asyncio.create_task(rt.session.get(f"{base}/page")) for _ in range(8)]
            report = await run_cycle(rt)
            for response in await asyncio.gather(*pages):
                response.release()
    finally:
        await runner.cleanup()
    assert report.delivered == 1
    assert hooks_while_pages_hang == [True]


async def test_a_worker_stalled_past_its_lease_does_not_send_what_another_took(
    config, webhook_sink, caplog
):
    async with open_runtime(config) as rt:
        await run_cycle(rt)  # the seed story: both digests sent
        cursor, _ = rt.store.subscription_state("case-system")
        row = NewDelivery(
            "msg_x", "dig_x", "generic", "webhook", "s", b"{}", "application/json", (), ()
        )
        rt.store.enqueue_digests("case-system", [row], cursor, utcnow())
        rows = rt.store.due_deliveries()
        assert len(rows) == 1
        other = Store(config.database_url)  # another worker, a minute later
        try:
            taken = other.due_deliveries(datetime.now(UTC) + LEASE)
        finally:
            other.close()
        assert {r.id for r in taken} == {r.id for r in rows}
        report = CycleReport()
        with caplog.at_level(logging.WARNING, logger="monitor.worker.deliver"):
            await _send_rows(rt, report, rows, datetime.now(UTC))
    assert report.delivered == 0 and len(webhook_sink.hooks) == 1  # only the first send
    assert "lease ran out before sending" in caplog.text


async def test_a_stopping_worker_frees_what_it_held(config):
    async with open_runtime(config) as rt:
        store = rt.store
        assert store.claim_due_feeds([f.url for f in config.feeds], datetime.now(UTC))
    other = Store(config.database_url)
    try:  # at once, not a minute later
        assert other.claim_due_feeds([f.url for f in config.feeds], datetime.now(UTC))
    finally:
        other.close()


async def test_a_cycle_forgets_story_band_keys_past_the_story_window(config):
    from sqlalchemy import func, select

    from monitor.digest.stories import STORY_WINDOW
    from monitor.store.schema import story_bands

    def bands(rt):
        with rt.store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(story_bands)).scalar_one()

    async with open_runtime(config) as rt:
        await run_cycle(rt)
        assert bands(rt) > 0
        await run_cycle(rt, now=utcnow() + STORY_WINDOW + timedelta(hours=1))
        assert bands(rt) == 0
