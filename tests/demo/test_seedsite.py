"""The seed site: a local Middle East Eye replay served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import feedparser
import pytest
from aiohttp import web

from monitor.demo.seedsite import (
    REQUESTS,
    SEED_ARTICLE_SLUG,
    RecordedRequest,
    make_seed_site,
    seeds_dir,
    start_seed_site,
)

NOW = datetime(2030, 5, 17, 9, 45, 12, 345678, tzinfo=UTC)


@dataclass
class Site:
    runner: web.AppRunner
    base: str
    session: aiohttp.ClientSession

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.runner.app[REQUESTS]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    runner, base = await start_seed_site(now=NOW)
    try:
        async with aiohttp.ClientSession() as session:
            yield Site(runner, base, session)
    finally:
        await runner.cleanup()


async def get_feed(site: Site) -> tuple[aiohttp.ClientResponse, bytes]:
    async with site.session.get(f"{site.base}/rss") as resp:
        return resp, await resp.read()


def test_seeds_dir_is_the_repo_folder() -> None:
    assert (seeds_dir() / "feed.xml").is_file()
    assert (seeds_dir() / "mee-syria-envoy.html").is_file()


async def test_feed_parses_and_points_at_the_served_site(site: Site) -> None:
    resp, body = await get_feed(site)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert b"www.middleeasteye.net" not in body

    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "Middle East Eye"
    assert parsed.feed.link == site.base
    assert 4 <= len(parsed.entries) <= 5
    for entry in parsed.entries:
        assert entry.link.startswith(f"{site.base}/news/")
        assert "content" not in entry  # the article must be fetched from its page
        assert entry.summary and entry.id and entry.author

    seed = next(e for e in parsed.entries if e.link == f"{site.base}/news/{SEED_ARTICLE_SLUG}")
    assert seed.title == "UN Syria peace envoy travels to Moscow"
    assert "40,000 people have been displaced" in seed.summary
    published = datetime.fromtimestamp(calendar.timegm(seed.published_parsed), UTC)
    assert published == NOW.replace(microsecond=0)
    # the other items keep their 2015 dates: only the seed is fresh news
    others = [e for e in parsed.entries if e is not seed]
    assert all(e.published_parsed.tm_year == 2015 for e in others)


async def test_every_item_link_is_served(site: Site) -> None:
    _, body = await get_feed(site)
    for entry in feedparser.parse(body).entries:
        async with site.session.get(entry.link) as resp:
            assert resp.status == 200, entry.link
            assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
            html = await resp.text()
        assert f">{entry.title}</span></h1>" in html

    async with site.session.get(f"{site.base}/news/{SEED_ARTICLE_SLUG}") as resp:
        html = await resp.text()
    assert "Russian strikes have displaced 40,000 people since they began on 30 September." in html


async def test_feed_is_stable_and_answers_conditional_gets(site: Site) -> None:
    first, body = await get_feed(site)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert last_modified == format_datetime(NOW.replace(microsecond=0), usegmt=True)

    second, again = await get_feed(site)
    assert (again, second.headers["ETag"]) == (body, etag)

    async with site.session.get(f"{site.base}/rss", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304
        assert await resp.read() == b""
        assert resp.headers["ETag"] == etag
    async with site.session.get(f"{site.base}/rss", headers={"If-None-Match": '"stale"'}) as resp:
        assert resp.status == 200
    async with site.session.get(
        f"{site.base}/rss", headers={"If-Modified-Since": last_modified}
    ) as resp:
        assert resp.status == 304
    earlier = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    async with site.session.get(f"{site.base}/rss", headers={"If-Modified-Since": earlier}) as resp:
        assert resp.status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    async with site.session.get(
        f"{site.base}/rss", headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    ) as resp:
        assert resp.status == 200


async def test_unknown_slugs_are_404(site: Site) -> None:
    for path in ("/news/no-such-story", "/news/..%2Ffeed", "/news/", "/nothing"):
        async with site.session.get(f"{site.base}{path}") as resp:
            assert resp.status == 404, path


async def test_requests_are_recorded(site: Site) -> None:
    await get_feed(site)
    async with site.session.get(
        f"{site.base}/news/no-such-story?utm_source=rss", headers={"User-Agent": "probe/1.0"}
    ):
        pass
    assert [(r.method, r.path) for r in site.requests] == [
        ("GET", "/rss"),
        ("GET", "/news/no-such-story?utm_source=rss"),
    ]
    assert site.requests[1].headers["User-Agent"] == "probe/1.0"
    with pytest.raises(AttributeError):
        site.requests[0].method = "POST"  # type: ignore[misc]


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        make_seed_site(now=datetime(2030, 1, 1))


async def test_default_now_is_fixed_at_creation() -> None:
    runner, base = await start_seed_site()
    try:
        async with aiohttp.ClientSession() as session:
            bodies = []
            for _ in range(2):
                async with session.get(f"{base}/rss") as resp:
                    bodies.append(await resp.read())
    finally:
        await runner.cleanup()
    assert bodies[0] == bodies[1]
    seed = feedparser.parse(bodies[0]).entries[0]
    published = datetime.fromtimestamp(calendar.timegm(seed.published_parsed), UTC)
    assert abs(datetime.now(UTC) - published) < timedelta(minutes=1)
