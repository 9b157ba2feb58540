"""Polite, robust polling through the real pipeline against a recording server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from aiohttp import web
from sqlalchemy import update

from monitor.config import FeedConfig, load_config
from monitor.demo.sinks import WebhookSink
from monitor.models import PollResult
from monitor.resources import rules_dir
from monitor.store import FeedState, feeds
from monitor.worker import ingest
from monitor.worker.ingest import FEED_BACKOFF_CAP, next_poll
from monitor.worker.pipeline import CycleReport, open_runtime, run_cycle
from tests.localhttp import local_server

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def rss(*items: tuple[str, str, str], link_base: str = "https://news.example") -> str:
    """Items are (slug, title, description); dates are now, so they are fresh news."""
    now = format_datetime(datetime.now(UTC))
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{link_base}/{s}</link><guid>{s}</guid>"
        f"<pubDate>{now}</pubDate><description>{escape(d)}</description></item>"
        for s, t, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )


def feed_response(text: str, **headers: str):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/rss+xml", headers=headers)

    return handler


def write_config(tmp_path, feeds: list[str], extra: str = "") -> object:
    lines = "\n".join(f'  - {{url: "{url}"}}' for url in feeds)
    (tmp_path / "monitor.yaml").write_text(
        f"rules: {rules_dir()}\nallow_private_networks: true\nfeeds:\n{lines}\n"
        + textwrap.dedent(extra)
    )
    return load_config(tmp_path / "monitor.yaml", {})


FEED = FeedConfig("https://news.example/rss", timedelta(minutes=10), (), timedelta(hours=48))


def state(failures: int = 0) -> FeedState:
    return FeedState(
        1, FEED.url, FEED.url, None, None, None, None, None, None, None, None, failures, 0
    )


@pytest.mark.parametrize(
    "result, failures, low, high",
    [
        (PollResult(FEED.url, status=200), 0, timedelta(minutes=9), timedelta(minutes=11)),
        (
            PollResult(FEED.url, status=503, error="e"),
            0,
            timedelta(minutes=18),
            timedelta(minutes=22),
        ),
        (
            PollResult(FEED.url, status=503, error="e"),
            3,
            timedelta(minutes=144),
            timedelta(minutes=176),
        ),
        (
            PollResult(FEED.url, status=503, error="e"),
            30,
            FEED_BACKOFF_CAP * 0.9,
            FEED_BACKOFF_CAP * 1.1,
        ),
        (
            PollResult(FEED.url, status=429, error="e", retry_after=7200),
            0,
            timedelta(hours=2),
            timedelta(hours=2),
        ),
        (PollResult(FEED.url, status=200, max_age=3600), 0, timedelta(hours=1), timedelta(hours=1)),
        (
            PollResult(FEED.url, status=200, max_age=10 * 86400),
            0,
            timedelta(days=1),
            timedelta(days=1),
        ),
    ],
    ids=[
        "interval",
        "first-failure",
        "fourth-failure",
        "capped",
        "retry-after",
        "max-age",
        "max-age-capped",
    ],
)
def test_next_poll(result, failures, low, high):
    delay = next_poll(FEED, state(failures), result, NOW) - NOW
    assert low <= delay <= high


async def test_identifying_user_agent_and_max_age_honoured(tmp_path):
    async with local_server() as server:
        server.routes["/rss"] = feed_response(rss(), **{"Cache-Control": "public, max-age=3600"})
        async with open_runtime(write_config(tmp_path, [server.url("/rss")])) as rt:
            before = datetime.now(UTC)
            await run_cycle(rt)
            [feed] = rt.store.feed_states()
    [(_, headers)] = server.seen
    assert headers["User-Agent"].startswith("news-monitor/")
    assert "gzip" in headers["Accept-Encoding"]
    assert feed.next_poll_at >= before + timedelta(hours=1)


async def test_permanent_redirect_moves_the_feed(tmp_path):
    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/new")

    async with local_server() as server:
        server.routes["/old"] = moved
        server.routes["/new"] = feed_response(rss())
        async with open_runtime(write_config(tmp_path, [server.url("/old")])) as rt:
            await run_cycle(rt)
            await run_cycle(rt, poll_all=True)
            [feed] = rt.store.feed_states()
    assert [path for path, _ in server.seen] == ["/old", "/new", "/new"]
    assert feed.url == server.url("/old") and feed.poll_url == server.url("/new")


async def test_per_host_concurrency_is_limited(tmp_path):
    active = peak = 0

    async def slow(_request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(text=rss(), content_type="application/rss+xml")

    async with local_server() as server:
        for n in range(12):
            server.routes[f"/feed{n}"] = slow
        config = write_config(tmp_path, [server.url(f"/feed{n}") for n in range(12)])
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
    assert report.feeds_polled == 12
    assert 1 < peak <= 4


async def test_failing_feed_alerts_subscribers_then_recovers(tmp_path):
    hooks = await WebhookSink().start()
    status = {"code": 500}

    async def flaky(_request: web.Request) -> web.Response:
        if status["code"] != 200:
            return web.Response(status=status["code"], text="down")
        return web.Response(text=rss(), content_type="application/rss+xml")

    try:
        async with local_server() as server:
            server.routes["/rss"] = flaky
            config = write_config(
                tmp_path,
                [server.url("/rss")],
                f"""\
                feed_health_after: 2
                subscriptions:
                  - name: ops
                    webhook: {{url: "{hooks.url}/ops"}}
                    rules: [feed-health]
                """,
            )
            async with open_runtime(config) as rt:
                for _ in range(3):  # fails three times: one alert, at the second failure
                    await run_cycle(rt, poll_all=True)
                status["code"] = 200
                await run_cycle(rt, poll_all=True)
                await run_cycle(rt, poll_all=True)
                [feed] = rt.store.feed_states()
    finally:
        await hooks.stop()
    titles = [a["article"]["title"] for hook in hooks.hooks for a in hook.json()["alerts"]]
    assert titles == [
        f"Feed failing: {server.url('/rss')}",
        f"Feed recovered: {server.url('/rss')}",
    ]
    assert feed.consecutive_failures == 0 and feed.last_error is None
    failing = hooks.hooks[0].json()["alerts"][0]
    assert failing["rule"] == "feed-health" and failing["severity"] == "high"
    assert "500" in failing["snippets"][0]


async def test_unfetchable_page_falls_back_to_the_feed_summary(tmp_path):
    async with local_server() as server:
        item = ("gone", "Truce agreed", "A ceasefire was agreed in Hodeidah on Monday.")
        server.routes["/rss"] = feed_response(rss(item, link_base=server.url("")))
        async with open_runtime(write_config(tmp_path, [server.url("/rss")])) as rt:
            report = await run_cycle(rt)
            [alert] = rt.store.alerts_after(0)
    assert report.alerts == 1 and alert.match.rule == "ceasefire"
    assert "/gone" in [path for path, _ in server.seen]  # the page was tried (and was a 404)
    assert alert.match.snippets == ("Truce agreed", "A ceasefire was agreed in Hodeidah on Monday.")


@pytest.mark.parametrize("respect", [True, False])
async def test_robots_txt_is_respected_for_article_pages(tmp_path, respect):
    async with local_server() as server:
        item = ("private/story", "Truce agreed", "A truce was agreed.")
        server.routes["/rss"] = feed_response(rss(item, link_base=server.url("")))
        server.routes["/robots.txt"] = feed_response("User-agent: *\nDisallow: /private/\n")
        server.routes["/private/story"] = feed_response(
            "<html><body><p>Full text</p></body></html>"
        )
        config = write_config(
            tmp_path, [server.url("/rss")], f"respect_robots_txt: {str(respect).lower()}\n"
        )
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
    paths = [path for path, _ in server.seen]
    assert report.alerts == 1  # the feed's summary stands in when the page may not be fetched
    assert ("/private/story" in paths) is not respect
    assert ("/robots.txt" in paths) is respect
    assert "/robots.txt" not in paths[:1]  # feeds themselves are never subject to robots.txt


async def test_a_story_in_two_feeds_polled_at_once_is_fetched_once(tmp_path, caplog):
    async def slow_page(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)  # both feeds reach this entry while the first fetch is under way
        return web.Response(
            text="<html><body><p>A truce was agreed.</p></body></html>", content_type="text/html"
        )

    async with local_server() as server:
        item = ("story", "Truce agreed", "A truce was agreed.")
        server.routes["/a"] = server.routes["/b"] = feed_response(
            rss(item, link_base=server.url(""))
        )
        server.routes["/story"] = slow_page
        config = write_config(
            tmp_path, [server.url("/a"), server.url("/b")], "respect_robots_txt: false\n"
        )
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
    assert [path for path, _ in server.seen].count("/story") == 1
    assert report.articles == 1 and report.alerts == 1
    assert "entry failed" not in caplog.text


async def test_articles_without_text_are_not_duplicates_of_each_other(tmp_path):
    items = [
        ("a", "Ceasefire agreed in Sudan", ""),
        ("b", "UN envoy travels to Moscow for talks", ""),
        ("c", "Yemen truce takes hold in Hodeidah", ""),
    ]
    async with local_server() as server:
        server.routes["/rss"] = feed_response(rss(*items, link_base=server.url("")))  # pages 404
        async with open_runtime(write_config(tmp_path, [server.url("/rss")])) as rt:
            report = await run_cycle(rt)
            alerted = sorted(a.article_url.rsplit("/", 1)[1] for a in rt.store.alerts_after(0))
    assert report.articles == 3 and alerted == ["a", "b", "c"]


async def test_hostile_retry_after_is_capped_not_fatal(tmp_path):
    hooks = await WebhookSink(status=429, headers_out={"Retry-After": "300000000000"}).start()
    try:
        async with local_server() as server:
            server.routes["/rss"] = feed_response(rss(("a", "Truce agreed", "A truce was agreed.")))
            server.routes["/down"] = respond_status(503, **{"Retry-After": "300000000000"})
            config = write_config(
                tmp_path,
                [server.url("/rss"), server.url("/down")],
                f"""\
                subscriptions:
                  - name: desk
                    webhook: {{url: "{hooks.url}/desk"}}
                    rules: [ceasefire]
                """,
            )
            async with open_runtime(config) as rt:
                report = await run_cycle(rt)
                states = {s.url.rsplit("/", 1)[1]: s for s in rt.store.feed_states()}
                [entry] = rt.store.outbox_entries(("pending",))
    finally:
        await hooks.stop()
    assert report.feeds_polled == 2 and report.delivery_failures == 1
    assert states["down"].consecutive_failures == 1
    assert states["down"].next_poll_at - states["down"].last_polled_at <= timedelta(days=7)
    # capped at a week from the failed attempt (moments after the digest was queued)
    assert entry.attempts == 1
    assert entry.next_attempt_at - entry.created_at <= timedelta(days=7, minutes=1)


async def test_first_poll_age_limit_holds_when_the_first_poll_failed(tmp_path):
    old = format_datetime(datetime.now(UTC) - timedelta(days=30))
    status = {"code": 503}

    async def flaky(_request: web.Request) -> web.Response:
        if status["code"] != 200:
            return web.Response(status=status["code"])
        body = rss(("old", "Truce agreed", "A truce was agreed.")).replace(
            format_datetime(datetime.now(UTC))[:16], old[:16]
        )
        return web.Response(text=body, content_type="application/rss+xml")

    async with local_server() as server:
        server.routes["/rss"] = flaky
        async with open_runtime(write_config(tmp_path, [server.url("/rss")])) as rt:
            await run_cycle(rt)
            status["code"] = 200
            report = await run_cycle(rt, poll_all=True)
    assert report.alerts == 0  # a month-old story is not news on the feed's first good poll


def respond_status(status: int, **headers: str):
    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers)

    return handler


async def test_pages_of_one_feed_are_fetched_a_few_at_a_time(tmp_path):
    active = peak = 0

    async def slow_page(_request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(
            text="<html><body><p>Quiet day.</p></body></html>", content_type="text/html"
        )

    async with local_server() as server:
        items = [(f"p{n}", f"Story {n}", "Quiet day.") for n in range(8)]
        server.routes["/rss"] = feed_response(rss(*items, link_base=server.url("")))
        for n in range(8):
            server.routes[f"/p{n}"] = slow_page
        config = write_config(tmp_path, [server.url("/rss")], "respect_robots_txt: false\n")
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
    assert report.articles == 8
    assert 1 < peak <= 4


async def test_a_private_page_is_refused_by_the_guard_not_blamed_on_robots(caplog):
    from types import SimpleNamespace

    from monitor.config import FeedConfig
    from monitor.models import Entry
    from monitor.worker.ingest import load_article

    class NoRobots:
        async def allowed(self, url):
            raise AssertionError("robots.txt must not be asked about a refused page")

    rt = SimpleNamespace(
        config=SimpleNamespace(allow_private_networks=False), robots=NoRobots(), session=None
    )
    entry = Entry(
        feed_url="https://news.example/feed",
        guid=None,
        url="http://169.254.169.254/latest/meta-data",
        title="T",
        summary="The summary.",
    )
    feed = FeedConfig("https://news.example/feed", timedelta(minutes=10), (), timedelta(days=2))
    with caplog.at_level("WARNING", logger="monitor.worker.ingest"):
        article = await load_article(rt, feed, entry)
    assert article.text == "The summary." and article.partial
    assert "refused http://169.254.169.254/latest/meta-data" in caplog.text
    assert "robots.txt" not in caplog.text


async def test_workers_sharing_a_database_share_the_due_feeds(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(ingest, "POLL_CONCURRENCY", 3)
    polled_by: dict[str, list[str]] = {}

    def feed(n: int):
        async def handler(request: web.Request) -> web.Response:
            polled_by.setdefault(request.path, []).append(request.headers["X-Worker"])
            await asyncio.sleep(0.05)
            return web.Response(text=rss(), content_type="application/rss+xml")

        return handler

    async with local_server() as server:
        for n in range(24):
            server.routes[f"/feed{n}"] = feed(n)
        urls = [server.url(f"/feed{n}") for n in range(24)]
        config = write_config(tmp_path, urls, f"database: '{database_url}'\n")
        async with open_runtime(config) as first, open_runtime(config) as second:
            for name, rt in (("first", first), ("second", second)):
                rt.session.headers["X-Worker"] = name
            reports = await asyncio.gather(run_cycle(first), run_cycle(second))
    assert sorted(polled_by) == sorted(f"/feed{n}" for n in range(24))
    assert all(len(workers) == 1 for workers in polled_by.values())  # none polled twice
    # each claims only what it has room for: neither takes every feed while the other idles
    shares = [r.feeds_polled for r in reports]
    assert sum(shares) == 24 and min(shares) >= 6, shares


async def test_a_slow_feed_holds_one_place_not_the_next_polls(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "POLL_CONCURRENCY", 2)
    fast_polls = 0
    slow_arrived = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        slow_arrived.set()
        await server.hang()
        return web.Response(text=rss(), content_type="application/rss+xml")

    async def fast(_request: web.Request) -> web.Response:
        nonlocal fast_polls
        fast_polls += 1
        return web.Response(text=rss(), content_type="application/rss+xml")

    async with local_server() as server:
        server.routes["/slow"] = slow
        server.routes["/fast"] = fast
        config = write_config(tmp_path, [server.url("/slow"), server.url("/fast")])
        async with open_runtime(config) as rt:
            ended = asyncio.Queue[CycleReport]()
            poller = ingest.Poller(rt, on_polled=ended.put)
            await poller.fill(CycleReport(), now=datetime.now(UTC))
            await asyncio.wait_for(slow_arrived.wait(), 10)
            await asyncio.wait_for(ended.get(), 10)  # the fast feed's poll ended
            for _ in range(3):  # the fast feed is due again while the slow one still hangs
                with rt.store.engine.begin() as conn:
                    conn.execute(
                        update(feeds)
                        .where(feeds.c.url == server.url("/fast"))
                        .values(next_poll_at=datetime.now(UTC) - timedelta(seconds=1))
                    )
                assert len(await poller.fill(CycleReport(), now=datetime.now(UTC))) == 1
                await asyncio.wait_for(ended.get(), 10)
            assert list(poller.running) != []  # the slow poll is still running
            await poller.stop()
    assert fast_polls == 4


async def test_matching_runs_off_the_event_loop(tmp_path, monkeypatch):
    real_match = ingest.match_article
    slow_started, release = threading.Event(), threading.Event()

    def match(article, rules, **kwargs):
        if article.title == "Slow":
            slow_started.set()
            release.wait(10)  # a long match (bounded for the test)
        return real_match(article, rules, **kwargs)

    monkeypatch.setattr(ingest, "match_article", match)
    text = "A ceasefire was agreed on Monday."
    async with local_server() as server:
        server.routes["/slow"] = feed_response(rss(("s", "Slow", text)))
        server.routes["/fast"] = feed_response(rss(("f", "Fast", text)))
        config = write_config(tmp_path, [server.url("/slow"), server.url("/fast")])
        async with open_runtime(config) as rt:
            cycle = asyncio.create_task(run_cycle(rt))
            for _ in range(200):  # bounded: while the slow match runs, the loop goes on
                if slow_started.is_set() and rt.store.alerts_after(0):
                    break
                await asyncio.sleep(0.05)
            assert [a.article_title for a in rt.store.alerts_after(0)] == ["Fast"]
            release.set()
            report = await cycle
    assert report.alerts == 2


async def test_matching_past_its_time_keeps_what_it_found_and_says_so(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(ingest, "MATCH_SECONDS", -1.0)  # every article is out of time at once
    async with local_server() as server:
        server.routes["/rss"] = feed_response(rss(("a", "Talks", "A ceasefire was agreed.")))
        config = write_config(tmp_path, [server.url("/rss")])
        async with open_runtime(config) as rt:
            report = await run_cycle(rt)
            again = await run_cycle(rt, poll_all=True)
    assert report.articles == 1 and report.alerts == 0
    assert again.articles == 0  # stored: not matched again at each poll
    [line] = [r.getMessage() for r in caplog.records if "matching took" in r.getMessage()]
    assert "rules not checked: " in line and "ceasefire" in line


async def test_a_feed_whose_pages_keep_failing_extraction_alerts_feed_health(tmp_path):
    pages = {"ok": False}

    async def page(_request: web.Request) -> web.Response:
        if not pages["ok"]:  # a page with no article in it (a consent wall, say)
            return web.Response(text="<html><body></body></html>", content_type="text/html")
        return web.Response(text=SEED_LIKE_PAGE, content_type="text/html")

    async with local_server() as server:
        items = [(f"p{n}", f"Story {n}", "") for n in range(4)]
        server.routes["/rss"] = feed_response(rss(*items, link_base=server.url("/page")))
        for slug, _, _ in items:
            server.routes[f"/page/{slug}"] = page
        config = write_config(
            tmp_path, [server.url("/rss")], "feed_health_after: 3\nrespect_robots_txt: false\n"
        )
        async with open_runtime(config) as rt:
            await run_cycle(rt)  # four pages fail: one alert, at the third
            pages["ok"] = True
            server.routes["/rss"] = feed_response(
                rss(("p9", "Story 9", ""), link_base=server.url("/page"))
            )
            server.routes["/page/p9"] = page
            await run_cycle(rt, poll_all=True)
            alerts = rt.store.alerts_after(0)
    assert [(a.article_title, a.match.severity) for a in alerts] == [
        (f"Extraction failing: {server.url('/rss')}", "high"),
        (f"Extraction recovered: {server.url('/rss')}", "info"),
    ]
    assert (
        "3 pages in a row could not be extracted; last: extract: no main text"
        in (alerts[0].match.snippets[0])
    )


SEED_LIKE_PAGE = (
    "<html><head><title>Talks</title></head><body><article><h1>Talks resume</h1>"
    + "<p>Negotiators met again on Tuesday to discuss the harvest and the roads.</p>" * 8
    + "</article></body></html>"
)
