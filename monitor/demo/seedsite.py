"""A local replay of Middle East Eye: the seed feed and its article pages, served over real HTTP.

The demo command and the end-to-end tests point the worker at this server instead of the real
site, so the whole pipeline (conditional GET, fetch, extract, match, digest) runs against real
sockets while staying offline and deterministic.

Routes:
    GET /rss           seeds/feed.xml, every ``https://www.middleeasteye.net`` rewritten to the
                       server's own base URL (so item links come back here) and the seed item's
                       pubDate set to ``now`` (so a first poll treats it as fresh news).
    GET /news/{slug}   the article page: the seed slug is seeds/mee-syria-envoy.html, any other
                       slug seeds/pages/<slug>.html, else 404.

Every request is recorded in ``app[REQUESTS]`` so tests can assert what the worker asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.resources import seeds_dir

__all__ = [
    "REQUESTS",
    "SEED_ARTICLE_SLUG",
    "SEED_ORIGIN",
    "RecordedRequest",
    "make_seed_site",
    "seeds_dir",
    "start_seed_site",
]

SEED_ARTICLE_SLUG = "un-syria-peace-envoy-travels-moscow"
# The origin written in the fixtures; the feed handler swaps it for the server's own.
SEED_ORIGIN = "https://www.middleeasteye.net"

_SEED_PAGE = "mee-syria-envoy.html"
_FEED_FILE = "feed.xml"
_RSS_TYPE = "application/rss+xml"
_HTML_TYPE = "text/html"
# Slugs are plain kebab-case: anything else never reaches the file system.
_SLUG_RE = r"[a-z0-9]+(?:-[a-z0-9]+)*"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the seed site received, as the client sent it."""

    method: str
    path: str  # path with query string, if any ("/rss", "/news/x?utm=1")
    headers: dict[str, str]


REQUESTS: web.AppKey[list[RecordedRequest]] = web.AppKey("seedsite_requests", list)


@dataclass(frozen=True)
class _Feed:
    """The feed text with dates fixed; only the origin still depends on the request."""

    template: str
    last_modified: datetime  # whole seconds, UTC: HTTP dates carry no fractions


def _load_feed(path: Path, now: datetime) -> _Feed:
    text = path.read_text(encoding="utf-8")
    pub = format_datetime(now, usegmt=False)  # RFC 822 with "+0000", as feeds usually write
    seed_link = f"<link>{SEED_ORIGIN}/news/{SEED_ARTICLE_SLUG}</link>"
    replaced = 0

    def fix_item(m: re.Match[str]) -> str:
        nonlocal replaced
        item = m.group(0)
        if seed_link not in item:
            return item
        item, n = re.subn(r"<pubDate>[^<]*</pubDate>", f"<pubDate>{pub}</pubDate>", item)
        replaced += n
        return item

    text = re.sub(r"<item>.*?</item>", fix_item, text, flags=re.DOTALL)
    if replaced != 1:
        raise ValueError(f"{path}: expected one <pubDate> in the seed item, replaced {replaced}")
    # The seed item is now the newest entry, so the channel was last built at `now` too.
    text = re.sub(
        r"<lastBuildDate>[^<]*</lastBuildDate>",
        f"<lastBuildDate>{pub}</lastBuildDate>",
        text,
        count=1,
    )
    return _Feed(template=text, last_modified=now)


def _load_pages(seeds: Path) -> dict[str, bytes]:
    pages = {SEED_ARTICLE_SLUG: (seeds / _SEED_PAGE).read_bytes()}
    pages_dir = seeds / "pages"
    if pages_dir.is_dir():
        for path in sorted(pages_dir.glob("*.html")):
            pages.setdefault(path.stem, path.read_bytes())
    return pages


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(request: web.Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match, when present, overrides If-Modified-Since."""
    if_none_match = request.if_none_match
    if if_none_match is not None:
        # Weak comparison: a W/ prefix on the client's tag still matches our strong tag.
        return any(tag.value in ("*", etag.strip('"')) for tag in if_none_match)
    since = request.if_modified_since
    return last_modified is not None and since is not None and last_modified <= since


def _respond(
    request: web.Request, body: bytes, content_type: str, last_modified: datetime | None = None
) -> web.Response:
    etag = _etag(body)
    headers = {"ETag": etag}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    if _not_modified(request, etag, last_modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def make_seed_site(seeds: Path | None = None, *, now: datetime | None = None) -> web.Application:
    """Build the replay app. ``now`` (aware; default: the current time, fixed here once) becomes
    the seed item's pubDate, so the feed body and its ETag are stable across requests."""
    seeds = seeds if seeds is not None else seeds_dir()
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("make_seed_site: `now` must be timezone-aware")
    now = now.astimezone(UTC).replace(microsecond=0)

    feed = _load_feed(seeds / _FEED_FILE, now)
    pages = _load_pages(seeds)
    feed_bodies: dict[str, bytes] = {}  # per origin: each Host seen gets its own rewrite

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # Recorded before dispatch, so 404s and errors are on the list too.
        request.app[REQUESTS].append(
            RecordedRequest(request.method, request.path_qs, dict(request.headers))
        )
        return await handler(request)

    async def rss(request: web.Request) -> web.Response:
        origin = str(request.url.origin())
        body = feed_bodies.get(origin)
        if body is None:
            body = feed_bodies[origin] = feed.template.replace(SEED_ORIGIN, origin).encode()
        return _respond(request, body, _RSS_TYPE, feed.last_modified)

    async def page(request: web.Request) -> web.Response:
        body = pages.get(request.match_info["slug"])
        if body is None:
            raise web.HTTPNotFound()
        return _respond(request, body, _HTML_TYPE)

    app = web.Application(middlewares=[record])
    app[REQUESTS] = []
    app.router.add_get("/rss", rss)
    app.router.add_get(f"/news/{{slug:{_SLUG_RE}}}", page)
    return app


async def start_seed_site(
    host: str = "127.0.0.1", port: int = 0, **kw: Any
) -> tuple[web.AppRunner, str]:
    """Serve ``make_seed_site(**kw)`` on host:port (0: an ephemeral port).

    Returns the runner and the base URL ("http://127.0.0.1:PORT"); stop with
    ``await runner.cleanup()``. The app is ``runner.app`` (for ``runner.app[REQUESTS]``).
    """
    runner = web.AppRunner(make_seed_site(**kw), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
    except BaseException:
        await runner.cleanup()
        raise
    netloc = f"[{host}]" if ":" in host else host
    return runner, f"http://{netloc}:{bound_port}"
