"""Subscriptions in the console: the list, the next digest exactly as it would be queued,
and a test message that reaches a real SMTP server and webhook receiver at once."""

from __future__ import annotations

import aiohttp
import pytest

from monitor.web.app import make_app, serving
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.web.console.conftest import VIEWER_PASSWORD, Console, console_config


@pytest.fixture
def config(tmp_path, write_config, seed_site, smtp_sink, webhook_sink):
    extra = f"""\
  - name: morning
    email: [desk@example.org, duty@example.org]
    rules: [displacement-figures, envoy-travel]
    schedule: daily 07:30 Europe/Berlin
smtp: {{host: 127.0.0.1, port: {smtp_sink.port}, from: "News Monitor <alerts@example.org>"}}
allow_private_networks: true
"""
    return console_config(
        tmp_path,
        write_config,
        extra=extra,
        feeds=f'[{{url: "{seed_site}/rss"}}]',
        hook=f"{webhook_sink.url}/hooks/desk",
    )


@pytest.fixture
async def console(config):
    async with open_runtime(config) as rt:
        # the morning digest is not due yet: its alerts wait, and the preview shows them
        await run_cycle(rt)
        async with serving(make_app(config, rt.store), "127.0.0.1", 0) as base:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                yield Console(base, rt.store, http)


async def test_the_list_and_the_next_digest_as_it_would_be_queued(console, smtp_sink):
    await console.login()
    status, html = await console.page("/console/subscriptions")
    assert status == 200
    assert "desk@example.org, duty@example.org" in html
    assert "generic webhook at 127.0.0.1" in html and "/hooks/desk" not in html  # a secret
    assert "daily 07:30 Europe/Berlin" in html

    status, html = await console.page("/console/subscriptions/morning")
    assert status == 200
    assert "2 deliveries (desk@example.org: 1 story, duty@example.org: 1 story)" in html
    assert "1 story: at least 40,000 displaced in Syria; envoy travel to Moscow, Washington" in html
    async with console.http.get(console.base + "/console/subscriptions/morning/preview.html") as r:
        assert r.status == 200
        assert r.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
        assert "UN Syria peace envoy travels to Moscow" in await r.text()
    assert smtp_sink.mails == []  # a preview sends nothing, and queues nothing
    assert console.store.outbox_counts().get("pending", 0) == 0
    assert (await console.page("/console/subscriptions/nobody"))[0] == 404


async def test_a_test_message_reaches_every_target_now(console, smtp_sink, webhook_sink):
    await console.login()
    sent_before = len(webhook_sink.hooks)
    token = await console.csrf("/console/subscriptions/morning")
    async with console.http.post(
        console.base + "/console/subscriptions/morning/test", data={"csrf": token}
    ) as response:
        html = await response.text()
    assert "desk@example.org: sent" in html and "duty@example.org: sent" in html
    assert sorted(m.recipients[0] for m in smtp_sink.mails) == [
        "desk@example.org",
        "duty@example.org",
    ]
    assert all("test message" in m.message["Subject"] for m in smtp_sink.mails)

    token = await console.csrf("/console/subscriptions/desk")
    async with console.http.post(
        console.base + "/console/subscriptions/desk/test", data={"csrf": token}
    ) as response:
        assert "generic webhook at 127.0.0.1: sent" in await response.text()
    [hook] = webhook_sink.hooks[sent_before:]
    assert hook.headers["webhook-id"].startswith("test_")  # never a digest's key
    assert hook.json()["subject"] == "1 story: test message"


async def test_a_viewer_cannot_send(console):
    await console.login(VIEWER_PASSWORD)
    status, html = await console.page("/console/subscriptions/morning")
    assert status == 200 and "Send a test message" not in html
    token = await console.csrf("/console/subscriptions/morning")
    async with console.http.post(
        console.base + "/console/subscriptions/morning/test", data={"csrf": token}
    ) as response:
        assert response.status == 403
