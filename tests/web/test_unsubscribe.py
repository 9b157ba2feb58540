"""The unsubscribe link end to end: the seed story is mailed through a real SMTP server, the
link in its List-Unsubscribe header is opened on the worker's web endpoint, and what is
chosen there decides what that address receives next. Then the same page in Chromium."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
import pytest

from monitor.config import load_config
from monitor.web.app import make_app, serving
from monitor.web.tokens import make_token
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.conftest import queue_digest
from tests.hostile.worker import Worker
from tests.worker.test_pipeline import config_text

SECRET = "unsubscribe-test-secret-0123456789"
DESK = "desk@example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_config(seed_site, smtp_sink, webhook_sink, write_config, environ):
    port = free_port()
    # public_url is https, as behind the TLS proxy of a real deployment; the tests reach the
    # worker itself, over plain http on loopback
    extra = f"http: {{listen: '127.0.0.1:{port}', public_url: 'https://127.0.0.1:{port}'}}\n"
    text = config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url, extra=extra)
    environ["MONITOR_SECRET_KEY"] = SECRET
    return load_config(write_config(text), environ)


@asynccontextmanager
async def worker_with_web(config):
    """The seed story delivered once, and the worker's web endpoint serving."""
    async with open_runtime(config) as rt:
        await run_cycle(rt)
        async with serving(make_app(config, rt.store), config.http.host, config.http.port) as url:
            yield rt, url


def unsubscribe_link(mail) -> str:
    """The https link of List-Unsubscribe, as the worker behind its TLS proxy serves it."""
    header = mail.message["List-Unsubscribe"]
    [url] = re.findall(r"<(https://[^>]+)>", header)
    return "http://" + url.removeprefix("https://")


async def test_the_emailed_link_confirms_on_get_and_unsubscribes_on_one_click_post(
    http_config, smtp_sink, environ
):
    async with worker_with_web(http_config) as (rt, base), aiohttp.ClientSession() as http:
        [mail] = smtp_sink.mails
        link = unsubscribe_link(mail)
        assert link.startswith(f"{base}/unsubscribe/")
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "mailto:" in mail.message["List-Unsubscribe"]
        # the same link in the footer of both parts
        https_link = "https://" + link.removeprefix("http://")
        text = mail.message.get_body(("plain",)).get_content()
        html = mail.message.get_body(("html",)).get_content()
        assert f"Unsubscribe or mute: {https_link}" in text
        assert f'href="{https_link.replace("&", "&amp;")}"' in html

        # GET (a link scanner, a preview) only asks
        async with http.get(link) as response:
            page = await response.text()
            assert response.status == 200
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["Cache-Control"] == "no-store"
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert DESK in page and "humanitarian-desk" in page
        # the digest's rules and its story are offered for muting
        for title in ("New displacement figures", "Envoy travel", "Ceasefire mentioned"):
            assert f"Rule: {title}" in page
        headline = rt.store.alerts_after(0)[0].article_title
        assert f"Story: {headline}" in page
        assert rt.store.mutes("humanitarian-desk") == {}

        # a digest queued before the click is not sent after it
        queue_digest(rt.store, "humanitarian-desk", [1], cursor=10, target=DESK)

        # the mail client's RFC 8058 request
        async with http.post(link, data={"List-Unsubscribe": "One-Click"}) as response:
            assert response.status == 200
        assert rt.store.mutes("humanitarian-desk")[DESK].everything

        await run_cycle(rt)
        assert len(smtp_sink.mails) == 1, "an unsubscribed address got another digest"

        # the page now says so, and offers to take it back
        async with http.get(link) as response:
            assert "You are unsubscribed" in await response.text()

    listing = subprocess.run(
        [sys.executable, "-m", "monitor", "subscriptions", "-c", str(http_config.path)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=True,
    )
    assert re.search(rf"{DESK}\s+unsubscribed \d{{4}}-\d\d-\d\d", listing.stdout), listing.stdout


async def test_muting_a_rule_or_story_only_takes_what_the_digest_offered(http_config, smtp_sink):
    async with worker_with_web(http_config) as (rt, _), aiohttp.ClientSession() as http:
        link = unsubscribe_link(smtp_sink.mails[0])

        async with http.post(link, data={"scope": "rule", "value": "ceasefire"}) as response:
            assert response.status == 200
            assert "Muted" in await response.text()
        mutes = rt.store.mutes("humanitarian-desk")[DESK]
        assert mutes.rules == {"ceasefire"} and not mutes.everything

        [story] = {a.story_id or -a.id for a in rt.store.alerts_after(0)}
        async with http.post(link, data={"scope": "story", "value": str(story)}) as response:
            assert response.status == 200
        assert rt.store.mutes("humanitarian-desk")[DESK].stories == {story}

        # a rule this digest did not carry, or no scope at all: refused, nothing recorded
        for form in ({"scope": "rule", "value": "not-in-this-digest"}, {"value": "x"}):
            async with http.post(link, data=form) as response:
                assert response.status == 400
        # a link without its digest offers (and accepts) only "everything"
        bare = link.split("?")[0]
        async with http.post(bare, data={"scope": "rule", "value": "envoy-travel"}) as response:
            assert response.status == 400

        async with http.post(
            link, data={"scope": "rule", "value": "ceasefire", "undo": "1"}
        ) as response:
            assert "you receive it again" in await response.text()
        assert rt.store.mutes("humanitarian-desk")[DESK].rules == frozenset()


async def test_forged_tampered_or_oversized_requests_change_nothing(http_config, smtp_sink):
    async with worker_with_web(http_config) as (rt, base), aiohttp.ClientSession() as http:
        link = unsubscribe_link(smtp_sink.mails[0])
        path = urlsplit(link).path
        token = path.rsplit("/", 1)[1]
        forged = make_token(b"another-secret", "humanitarian-desk", DESK)
        # the same address and subscription under a signature for someone else
        other = make_token(SECRET.encode(), "humanitarian-desk", "boss@example.org")
        tampered = other.split(".")[0] + "." + token.split(".")[1]
        for bad in (forged, tampered, "x", "a.b.c", token[:-2]):
            async with http.post(
                f"{base}/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"}
            ) as response:
                assert response.status == 404
                assert response.headers["Referrer-Policy"] == "no-referrer"
        async with http.post(link, data={"scope": "all", "value": "x" * 40_000}) as response:
            assert response.status == 413
        async with http.delete(link) as response:
            assert response.status == 405
        assert rt.store.unsubscribes() == []


async def test_a_reader_mutes_a_rule_then_leaves_in_chromium(
    http_config, smtp_sink, browser, screenshots
):
    async with worker_with_web(http_config) as (rt, _):
        link = unsubscribe_link(smtp_sink.mails[0])
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(link)
        assert await page.title() == "Unsubscribe · humanitarian-desk"
        rules = page.locator("li", has_text="Rule:")
        assert await rules.count() == 3
        ceasefire = rules.filter(has_text=re.compile("ceasefire", re.I))
        await page.screenshot(path=str(screenshots / "unsubscribe-390.png"), full_page=True)
        await ceasefire.get_by_role("button", name="Mute").click()
        await page.get_by_text("Muted. You will not receive it again.").wait_for()
        assert await ceasefire.get_by_role("button", name="Unmute").is_visible()
        assert rt.store.mutes("humanitarian-desk")[DESK].rules == {"ceasefire"}
        # nothing on the page is wider than a phone
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390

        await page.get_by_role("button", name="Unsubscribe from everything").click()
        await page.get_by_role("heading", name="You are unsubscribed").wait_for()
        assert rt.store.mutes("humanitarian-desk")[DESK].everything
        await page.get_by_role("button", name="Subscribe again").click()
        await page.get_by_role("heading", name=re.compile("Unsubscribe from")).wait_for()
        assert not rt.store.mutes("humanitarian-desk")[DESK].everything


async def test_monitor_run_serves_the_link_it_mails(http_config, smtp_sink, environ):
    worker = await Worker.start(http_config.path, environ)
    try:
        await worker.logged(f"serving http://127.0.0.1:{http_config.http.port}")
        for _ in range(600):  # the first poll and delivery, bounded
            if smtp_sink.mails:
                break
            await asyncio.sleep(0.1)
        link = unsubscribe_link(smtp_sink.mails[0])
        async with aiohttp.ClientSession() as http:
            async with http.post(link, data={"List-Unsubscribe": "One-Click"}) as response:
                assert response.status == 200
                assert "is unsubscribed" in await response.text()
    finally:
        assert await worker.stop() == 0


async def test_a_taken_port_stops_monitor_run_with_a_clear_error(http_config, environ):
    with socket.socket() as taken:
        taken.bind((http_config.http.host, http_config.http.port))
        taken.listen()
        worker = await Worker.start(http_config.path, environ)
        code = await asyncio.wait_for(worker.process.wait(), 60)
        await worker.stop()
    assert code == 1
    assert f"http.listen 127.0.0.1:{http_config.http.port}: " in worker.log
    assert "Traceback" not in worker.log
