"""RobotsPolicy against a real aiohttp server on 127.0.0.1.

Time is a fake clock handed to the policy, so expiry is tested without sleeping and without
timing assertions; the server's record of requests says how often robots.txt was fetched.
"""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web

from monitor.intake.netguard import DEFAULT_USER_AGENT
from monitor.intake.robots import RobotsPolicy
from tests.localhttp import (
    PUBLIC_ADDRESS,
    LocalServer,
    loopback_session,
    public_dns,
    respond,
)
from tests.localhttp import server as server
from tests.localhttp import session as session

RETRY = timedelta(minutes=10)
TTL = timedelta(hours=24)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta.total_seconds()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def policy(
    session: aiohttp.ClientSession,
    clock: Clock,
    *,
    max_bytes: int = 512 * 1024,
    max_origins: int = 10_000,
) -> RobotsPolicy:
    return RobotsPolicy(
        session,
        allow_private=True,
        user_agent=DEFAULT_USER_AGENT,
        ttl=TTL,
        retry_after=RETRY,
        max_bytes=max_bytes,
        max_origins=max_origins,
        clock=clock,
    )


def robots(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/plain")


def serve_robots(server: LocalServer, text: str) -> None:
    server.routes["/robots.txt"] = respond(text=text, content_type="text/plain")


def robots_requests(server: LocalServer) -> int:
    return sum(1 for path, _headers in server.seen if path == "/robots.txt")


# --- parsing and matching --------------------------------------------------------------------


async def test_disallowed_path_refused_allowed_path_ok(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "User-agent: *\nDisallow: /private/\n")
    robots_policy = policy(session, clock)
    assert not await robots_policy.allowed(server.url("/private/report.html"))
    assert await robots_policy.allowed(server.url("/news/story.html"))
    assert await robots_policy.allowed(server.url("/"))
    # robots.txt is asked for, never the article itself
    assert [path for path, _ in server.seen] == ["/robots.txt"]


async def test_request_carries_our_user_agent(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "")
    assert await policy(session, clock).allowed(server.url("/a"))
    assert server.seen[0][1]["User-Agent"] == DEFAULT_USER_AGENT


async def test_our_group_overrides_star(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(
        server,
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: News-Monitor\nDisallow: /private/\n\n"
        "User-agent: otherbot\nDisallow: /news/\n",
    )
    robots_policy = policy(session, clock)
    assert await robots_policy.allowed(server.url("/news/story.html"))
    assert not await robots_policy.allowed(server.url("/private/x"))


async def test_our_group_can_be_stricter_than_star(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "User-agent: news-monitor\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    assert not await policy(session, clock).allowed(server.url("/news/story.html"))


async def test_most_specific_rule_wins_not_the_first(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    # RFC 9309 §2.2.2: the longest match decides, Allow wins a tie; file order does not matter
    serve_robots(
        server,
        "User-agent: *\nDisallow: /\nAllow: /news/\nDisallow: /news/drafts/\n"
        "Disallow: /same\nAllow: /same\n",
    )
    robots_policy = policy(session, clock)
    assert await robots_policy.allowed(server.url("/news/story.html"))
    assert not await robots_policy.allowed(server.url("/news/drafts/x"))
    assert not await robots_policy.allowed(server.url("/about"))
    assert await robots_policy.allowed(server.url("/same"))


async def test_oversized_robots_is_truncated_not_rejected(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    rules = "User-agent: *\nDisallow: /private/\n"
    filler = "# padding padding padding padding padding padding padding padding\n" * 200
    tail = "Disallow: /\n"  # beyond the cap: must not count
    serve_robots(server, rules + filler + tail)
    robots_policy = policy(session, clock, max_bytes=4096)
    assert not await robots_policy.allowed(server.url("/private/x"))
    assert await robots_policy.allowed(server.url("/news/x"))


async def test_robots_far_beyond_the_cap_counts_as_unreachable(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    # fetch reads at most a few times max_bytes; past that nothing is left to parse
    serve_robots(server, "User-agent: *\nDisallow: /private/\n" + "#" * 100_000)
    assert not await policy(session, clock, max_bytes=1024).allowed(server.url("/news/x"))


async def test_cut_line_at_the_cap_is_dropped(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    # cut mid-line, "Disallow: /private" would read "Disallow: /"
    head = "User-agent: *\n"
    serve_robots(server, head + "Disallow: /private\n")
    robots_policy = policy(session, clock, max_bytes=len(head) + len("Disallow: /"))
    assert await robots_policy.allowed(server.url("/news/x"))


async def test_redirect_is_followed(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    server.routes["/robots.txt"] = respond(status=301, headers={"Location": "/real-robots.txt"})
    server.routes["/real-robots.txt"] = respond(text="User-agent: *\nDisallow: /x/\n")
    robots_policy = policy(session, clock)
    assert not await robots_policy.allowed(server.url("/x/1"))
    assert await robots_policy.allowed(server.url("/y/1"))


async def test_redirect_loop_means_unavailable_so_allowed(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    server.routes["/robots.txt"] = respond(status=302, headers={"Location": "/robots.txt"})
    assert await policy(session, clock).allowed(server.url("/x"))


# --- status codes and failures ---------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 403, 410])
async def test_4xx_robots_allows_everything(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock, status: int
) -> None:
    server.routes["/robots.txt"] = respond(status=status, text="Disallow: /")
    robots_policy = policy(session, clock)
    assert await robots_policy.allowed(server.url("/news/x"))
    assert await robots_policy.allowed(server.url("/"))
    # not found is remembered for the full ttl
    clock.advance(TTL - timedelta(seconds=1))
    assert await robots_policy.allowed(server.url("/more"))
    assert robots_requests(server) == 1


async def test_unrouted_robots_is_a_404(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    assert await policy(session, clock).allowed(server.url("/news/x"))
    assert robots_requests(server) == 1


async def test_500_disallows_then_retries_after_the_window(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    server.routes["/robots.txt"] = respond(status=500)
    robots_policy = policy(session, clock)
    assert not await robots_policy.allowed(server.url("/news/x"))
    clock.advance(RETRY / 2)
    assert not await robots_policy.allowed(server.url("/news/y"))
    assert robots_requests(server) == 1  # within the window: not asked again

    serve_robots(server, "User-agent: *\nDisallow: /private/\n")
    clock.advance(RETRY / 2)
    assert await robots_policy.allowed(server.url("/news/x"))
    assert not await robots_policy.allowed(server.url("/private/x"))
    assert robots_requests(server) == 2


async def test_429_is_unreachable_and_retry_after_extends_the_window(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    server.routes["/robots.txt"] = respond(status=429, headers={"Retry-After": "3600"})
    robots_policy = policy(session, clock)
    assert not await robots_policy.allowed(server.url("/x"))
    clock.advance(RETRY * 2)  # past our window, still inside the server's Retry-After
    assert not await robots_policy.allowed(server.url("/x"))
    assert robots_requests(server) == 1


async def test_timeout_disallows(server: LocalServer, clock: Clock) -> None:
    async def hang(_request: web.Request) -> web.StreamResponse:
        await server.hang()
        return robots("")

    server.routes["/robots.txt"] = hang
    timeout = aiohttp.ClientTimeout(total=2, sock_connect=1, sock_read=0.2)
    async with loopback_session(allow_private=True, timeout=timeout) as s:
        assert not await policy(s, clock).allowed(server.url("/news/x"))


async def test_connection_refused_disallows(clock: Clock) -> None:
    with socket.socket() as sock:  # bound and released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with loopback_session(allow_private=True) as s:
        assert not await policy(s, clock).allowed(f"http://127.0.0.1:{port}/news/x")


# --- sharing and caching ---------------------------------------------------------------------


async def test_concurrent_calls_share_one_fetch(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    release = asyncio.Event()

    async def slow_robots(_request: web.Request) -> web.StreamResponse:
        await asyncio.wait_for(release.wait(), 5)  # every caller is waiting by now
        return robots("User-agent: *\nDisallow: /private/\n")

    server.routes["/robots.txt"] = slow_robots
    robots_policy = policy(session, clock)
    paths = [f"/news/{i}" for i in range(25)] + [f"/private/{i}" for i in range(25)]
    calls = asyncio.gather(*(robots_policy.allowed(server.url(p)) for p in paths))
    for _ in range(5):
        await asyncio.sleep(0)
    release.set()
    results = await calls
    assert results == [True] * 25 + [False] * 25
    assert robots_requests(server) == 1


async def test_cancelled_caller_does_not_cancel_the_shared_fetch(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow_robots(_request: web.Request) -> web.StreamResponse:
        started.set()
        await asyncio.wait_for(release.wait(), 5)
        return robots("User-agent: *\nDisallow: /private/\n")

    server.routes["/robots.txt"] = slow_robots
    robots_policy = policy(session, clock)
    first = asyncio.create_task(robots_policy.allowed(server.url("/news/1")))
    second = asyncio.create_task(robots_policy.allowed(server.url("/private/1")))
    await asyncio.wait_for(started.wait(), 5)
    first.cancel()
    release.set()
    assert await second is False
    with pytest.raises(asyncio.CancelledError):
        await first
    assert robots_requests(server) == 1


async def test_cache_reused_within_ttl_and_refreshed_after(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "User-agent: *\nDisallow: /private/\n")
    robots_policy = policy(session, clock)
    assert not await robots_policy.allowed(server.url("/private/a"))
    clock.advance(TTL - timedelta(minutes=1))
    assert await robots_policy.allowed(server.url("/news/b"))
    # same origin however the URL spells it
    assert await robots_policy.allowed(f"HTTP://127.0.0.1:{server.port}/news/c?x=1#frag")
    assert robots_requests(server) == 1

    serve_robots(server, "User-agent: *\nDisallow: /news/\n")
    clock.advance(timedelta(minutes=1))
    assert not await robots_policy.allowed(server.url("/news/b"))
    assert robots_requests(server) == 2


async def test_origins_are_cached_separately(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "User-agent: *\nDisallow: /\n")
    robots_policy = policy(session, clock)
    # two names for 127.0.0.1 (the loopback session resolves every name there): two origins
    assert not await robots_policy.allowed(server.url("/a", host="127.0.0.1"))
    assert not await robots_policy.allowed(server.url("/a", host="news.test"))
    assert robots_requests(server) == 2
    hosts = sorted(headers["Host"] for path, headers in server.seen)
    assert hosts == [f"127.0.0.1:{server.port}", f"news.test:{server.port}"]


async def test_cache_is_bounded(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock
) -> None:
    serve_robots(server, "User-agent: *\nDisallow: /private/\n")
    robots_policy = policy(session, clock, max_origins=2)
    for host in ("a.test", "b.test", "c.test"):
        assert await robots_policy.allowed(server.url("/x", host=host))
    assert robots_requests(server) == 3
    assert await robots_policy.allowed(server.url("/x", host="c.test"))  # kept
    assert await robots_policy.allowed(server.url("/x", host="a.test"))  # evicted: asked again
    assert robots_requests(server) == 4


@pytest.mark.parametrize("url", ["ftp://example.org/x", "mailto:a@example.org", "/relative", ""])
async def test_url_without_http_origin_is_not_allowed(
    server: LocalServer, session: aiohttp.ClientSession, clock: Clock, url: str
) -> None:
    assert not await policy(session, clock).allowed(url)
    assert server.seen == []


# --- the SSRF guard --------------------------------------------------------------------------


async def test_private_address_refused_by_the_guard(server: LocalServer, clock: Clock) -> None:
    async with loopback_session(allow_private=False) as guarded:
        robots_policy = RobotsPolicy(
            guarded, allow_private=False, user_agent=DEFAULT_USER_AGENT, clock=clock
        )
        assert not await robots_policy.allowed(server.url("/news/x"))
    assert server.seen == []


async def test_rebinding_name_refused_at_connect_time(
    server: LocalServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_url sees a public address, the connection would go to 127.0.0.1: still refused
    public_dns(monkeypatch, {"rebind.test": [PUBLIC_ADDRESS]})
    async with loopback_session(allow_private=False) as guarded:
        robots_policy = RobotsPolicy(
            guarded, allow_private=False, user_agent=DEFAULT_USER_AGENT, clock=clock
        )
        assert not await robots_policy.allowed(server.url("/news/x", host="rebind.test"))
    assert server.seen == []
