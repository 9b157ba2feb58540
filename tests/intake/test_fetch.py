"""fetch() against a real aiohttp server on 127.0.0.1.

Every session used here resolves names to 127.0.0.1 only, and a trace refuses any request to
another literal address, so no test can send traffic off this machine even if the guard broke.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace

import aiohttp
import brotli
import pytest
from aiohttp import web

from monitor.intake.fetch import MAX_RETRY_AFTER, fetch, parse_retry_after
from tests.localhttp import (
    PUBLIC_ADDRESS,
    Handler,
    LocalServer,
    loopback_session,
    public_dns,
    respond,
)
from tests.localhttp import server as server
from tests.localhttp import session as session

# --- loopback-only sessions ------------------------------------------------------------------


@pytest.fixture
async def guarded() -> AsyncIterator[aiohttp.ClientSession]:
    async with loopback_session(allow_private=False) as s:
        yield s


def redirect(status: int, location: str) -> Handler:
    return respond(status=status, headers={"Location": location})


# --- success, headers, conditional GET -------------------------------------------------------


async def test_ok_body_and_headers(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/a"] = respond(
        body=b"<p>hello</p>",
        headers={"Content-Type": "text/html; charset=ISO-8859-1", "ETag": '"v1"'},
    )
    result = await fetch(session, server.url("/a"), allow_private=True)
    assert result.ok and result.error is None
    assert result.status == 200
    assert result.body == b"<p>hello</p>"
    assert (result.content_type, result.charset) == ("text/html", "iso-8859-1")
    assert result.headers["etag"] == '"v1"'
    assert result.final_url == result.url == server.url("/a")
    assert not result.permanent_redirect
    _path, sent = server.seen[0]
    assert sent["User-Agent"].startswith("news-monitor/")
    assert sent["Accept-Encoding"] == "gzip, deflate, br"


async def test_conditional_get_304(server: LocalServer, session: aiohttp.ClientSession) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=b"full", headers={"ETag": '"v1"'})

    server.routes["/c"] = handler
    validators = {"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 10 Jun 2025 04:00:00 GMT"}
    result = await fetch(session, server.url("/c"), allow_private=True, headers=validators)
    assert (result.status, result.error, result.body) == (304, None, b"")
    assert result.headers["etag"] == '"v1"'
    _path, sent = server.seen[0]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Tue, 10 Jun 2025 04:00:00 GMT"


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "permanent"),
    [(301, 308, True), (301, 302, False), (307, 301, False), (303, 308, False)],
    ids=["301-308-permanent", "301-302-temporary", "307-301-temporary", "303-308-temporary"],
)
async def test_redirect_chain_permanence(
    server: LocalServer, session: aiohttp.ClientSession, first: int, second: int, permanent: bool
) -> None:
    server.routes["/old"] = redirect(first, "/middle")  # relative Location
    server.routes["/middle"] = redirect(second, server.url("/new"))
    server.routes["/new"] = respond(body=b"moved")
    result = await fetch(session, server.url("/old"), allow_private=True)
    assert result.ok and result.body == b"moved"
    assert result.url == server.url("/old")
    assert result.final_url == server.url("/new")
    assert result.permanent_redirect is permanent


async def test_redirect_loop(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/a"] = redirect(302, "/b")
    server.routes["/b"] = redirect(302, "/a")
    result = await fetch(session, server.url("/a"), allow_private=True)
    assert result.error == "fetch: redirect loop"
    assert [path for path, _ in server.seen] == ["/a", "/b"]


async def test_too_many_redirects(server: LocalServer, session: aiohttp.ClientSession) -> None:
    for n in range(10):
        server.routes[f"/hop{n}"] = redirect(302, f"/hop{n + 1}")
    result = await fetch(session, server.url("/hop0"), allow_private=True, max_redirects=3)
    assert result.error == "fetch: too many redirects (more than 3)"
    assert len(server.seen) == 4  # the first request and three followed redirects


async def test_redirect_without_location(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    server.routes["/r"] = respond(status=302)
    result = await fetch(session, server.url("/r"), allow_private=True)
    assert result.error == "fetch: redirect without Location (302 status code)"


@pytest.mark.parametrize(
    ("location", "error"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "fetch: refused http://169.254.169.254/latest/meta-data/ (private address)",
        ),
        ("http://10.0.0.1/admin", "fetch: refused http://10.0.0.1/admin (private address)"),
        ("file:///etc/passwd", "fetch: refused file:///etc/passwd (unsupported scheme 'file')"),
    ],
    ids=["metadata", "private", "file-scheme"],
)
async def test_every_redirect_hop_is_checked(
    server: LocalServer,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    location: str,
    error: str,
) -> None:
    # news.test looks public to check_url; the connection itself goes to 127.0.0.1
    public_dns(monkeypatch, {"news.test": [PUBLIC_ADDRESS]})
    server.routes["/go"] = redirect(302, location)
    result = await fetch(session, server.url("/go", host="news.test"), allow_private=False)
    assert result.error == error
    assert len(server.seen) == 1


# --- size caps, compression ------------------------------------------------------------------


async def test_chunked_body_over_cap_is_cut(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    sent = SimpleNamespace(chunks=0)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            for _ in range(64):  # 4 MiB at most, far past the cap
                await response.write(b"x" * 65536)
                sent.chunks += 1
        return response

    server.routes["/big"] = chunked
    result = await fetch(session, server.url("/big"), allow_private=True, max_bytes=100_000)
    assert result.error == "fetch: body larger than 100000 bytes"
    assert result.body == b""
    assert "content-length" not in result.headers


async def test_content_length_over_cap(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/big"] = respond(body=b"x" * 2000)
    result = await fetch(session, server.url("/big"), allow_private=True, max_bytes=1000)
    assert result.error == "fetch: body larger than 1000 bytes"
    assert result.headers["content-length"] == "2000"


async def test_body_exactly_at_cap(server: LocalServer, session: aiohttp.ClientSession) -> None:
    server.routes["/fit"] = respond(body=b"x" * 1000)
    result = await fetch(session, server.url("/fit"), allow_private=True, max_bytes=1000)
    assert result.ok and len(result.body) == 1000


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("br", brotli.compress)],
    ids=["gzip", "brotli"],
)
async def test_compressed_response(
    server: LocalServer,
    session: aiohttp.ClientSession,
    encoding: str,
    compress: Callable[[bytes], bytes],
) -> None:
    payload = b"<rss>" + b"news " * 1000 + b"</rss>"
    server.routes["/z"] = respond(body=compress(payload), headers={"Content-Encoding": encoding})
    result = await fetch(session, server.url("/z"), allow_private=True)
    assert result.ok and result.body == payload


async def test_decompression_bomb_is_cut(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # about 8 KiB on the wire
    server.routes["/bomb"] = respond(body=bomb, headers={"Content-Encoding": "gzip"})
    result = await fetch(session, server.url("/bomb"), allow_private=True, max_bytes=1024 * 1024)
    assert result.error == "fetch: body larger than 1048576 bytes"


# --- timeouts and connection failures --------------------------------------------------------


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        (aiohttp.ClientTimeout(total=3, sock_read=0.2), "fetch: timed out after 0.2s"),
        (aiohttp.ClientTimeout(total=0.3), "fetch: timed out after 0.3s"),
    ],
    ids=["sock-read", "total"],
)
async def test_slow_server_times_out(
    server: LocalServer, timeout: aiohttp.ClientTimeout, error: str
) -> None:
    async def slow(_request: web.Request) -> web.StreamResponse:
        await server.hang()
        return web.Response(body=b"too late")

    server.routes["/slow"] = slow
    async with loopback_session(allow_private=True, timeout=timeout) as session:
        result = await fetch(session, server.url("/slow"), allow_private=True)
    assert result.error == error


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await fetch(session, f"http://127.0.0.1:{port}/", allow_private=True)
    assert result.error == f"fetch: connection refused (127.0.0.1:{port})"


# --- HTTP errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (404, {}, "fetch: not found (404 status code)", None),
        (403, {}, "fetch: access forbidden (403 status code)", None),
        (401, {}, "fetch: unauthorized (401 status code)", None),
        (410, {}, "fetch: gone (410 status code)", None),
        (429, {"Retry-After": "120"}, "fetch: too many requests (429 status code)", 120.0),
        (503, {"Retry-After": "7"}, "fetch: server error (503 status code)", 7.0),
        (500, {"Retry-After": "7"}, "fetch: server error (500 status code)", None),
        (418, {}, "fetch: unexpected status code (418 status code)", None),
    ],
    ids=["404", "403", "401", "410", "429-retry-after", "503-retry-after", "500", "418"],
)
async def test_http_errors(
    server: LocalServer,
    session: aiohttp.ClientSession,
    status: int,
    headers: dict[str, str],
    error: str,
    retry_after: float | None,
) -> None:
    server.routes["/e"] = respond(status=status, headers=headers, body=b"error page")
    result = await fetch(session, server.url("/e"), allow_private=True)
    assert (result.status, result.error, result.retry_after) == (status, error, retry_after)
    assert result.body == b"" and not result.ok


async def test_retry_after_http_date(server: LocalServer, session: aiohttp.ClientSession) -> None:
    later = format_datetime(datetime(2999, 1, 1, tzinfo=UTC), usegmt=True)
    server.routes["/e"] = respond(status=429, headers={"Retry-After": later})
    result = await fetch(session, server.url("/e"), allow_private=True)
    assert result.retry_after == MAX_RETRY_AFTER  # a date in 2999 is honoured as a week


NOW = datetime(2025, 6, 10, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("-5", 0.0),
        ("Tue, 10 Jun 2025 12:01:30 GMT", 90.0),
        ("Tue, 10 Jun 2025 11:00:00 GMT", 0.0),
        ("Tue, 10 Jun 2025 12:00:10 -0000", 10.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "seconds",
        "zero",
        "negative",
        "date",
        "past-date",
        "date-minus-zero",
        "garbage",
        "nan",
        "inf",
        "empty",
        "missing",
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


# --- SSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://100.64.0.1/",
    ],
    ids=[
        "loopback",
        "private-literal",
        "metadata",
        "ipv6-loopback",
        "localhost",
        "v4-mapped",
        "shared-space",
    ],
)
async def test_private_addresses_refused(
    server: LocalServer, guarded: aiohttp.ClientSession, url: str
) -> None:
    target = url.format(port=server.port)
    result = await fetch(guarded, target, allow_private=False)
    assert result.error == f"fetch: refused {target} (private address)"
    assert result.status is None
    assert server.seen == []


async def test_loopback_allowed_when_private_allowed(
    server: LocalServer, session: aiohttp.ClientSession
) -> None:
    server.routes["/ok"] = respond(body=b"fine")
    result = await fetch(session, server.url("/ok", host="localhost"), allow_private=True)
    assert result.ok and result.body == b"fine"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://127.0.0.1/x", "fetch: refused ftp://127.0.0.1/x (unsupported scheme 'ftp')"),
        ("file:///etc/passwd", "fetch: refused file:///etc/passwd (unsupported scheme 'file')"),
        ("/relative/path", "fetch: refused /relative/path (no scheme)"),
        ("http:///nohost", "fetch: refused http:///nohost (no host)"),
    ],
    ids=["ftp", "file", "relative", "no-host"],
)
async def test_unsupported_urls(session: aiohttp.ClientSession, url: str, error: str) -> None:
    result = await fetch(session, url, allow_private=True)
    assert result.error == error


async def test_dns_rebinding_refused_at_connect(
    server: LocalServer, guarded: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check_url sees a public address; the connector's resolver then answers 127.0.0.1
    public_dns(monkeypatch, {"rebind.test": [PUBLIC_ADDRESS]})
    target = server.url("/", host="rebind.test")
    result = await fetch(guarded, target, allow_private=False)
    assert result.error == f"fetch: refused {target} (private address)"
    assert server.seen == []
