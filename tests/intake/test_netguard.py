"""The SSRF guard: address policy, check_url, and the connect-time guard of make_session.

Only 127.0.0.1 is ever connected to: names resolve through a loopback-only resolver or a
patched getaddrinfo, and the guard tests assert the local server received nothing.
"""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp.abc import ResolveResult

from monitor import __version__
from monitor.errors import UnsafeURLError
from monitor.intake.netguard import (
    DEFAULT_USER_AGENT,
    GuardedResolver,
    RefusedAddressError,
    check_url,
    is_forbidden_address,
    make_session,
)
from tests.localhttp import LocalServer, LoopbackResolver, public_dns, respond
from tests.localhttp import server as server

# --- address policy --------------------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.170",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "not-an-address",
]
ALLOWED = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e"]


@pytest.mark.parametrize("address", FORBIDDEN, ids=FORBIDDEN)
def test_forbidden_addresses(address: str) -> None:
    assert is_forbidden_address(address)


@pytest.mark.parametrize("address", ALLOWED, ids=ALLOWED)
def test_public_addresses_allowed(address: str) -> None:
    assert not is_forbidden_address(address)


# --- check_url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "private address"),
        ("http://10.0.0.1/", "private address"),
        ("http://169.254.169.254/latest/meta-data/", "private address"),
        ("http://[::1]:8080/", "private address"),
        ("http://[::ffff:7f00:1]/", "private address"),
        ("http://localhost/", "private address"),
        ("https://LOCALHOST./x", "private address"),
        ("http://api.localhost:8080/", "private address"),
        ("ftp://example.org/file", "unsupported scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported scheme 'file'"),
        ("gopher://127.0.0.1:11211/", "unsupported scheme 'gopher'"),
        ("example.org/feed", "no scheme"),
        ("http:///path", "no host"),
    ],
    ids=[
        "loopback",
        "private",
        "metadata",
        "ipv6-loopback",
        "v4-mapped",
        "localhost",
        "localhost-fqdn",
        "dot-localhost",
        "ftp",
        "file",
        "gopher",
        "no-scheme",
        "no-host",
    ],
)
async def test_check_url_refuses(url: str, reason: str) -> None:
    with pytest.raises(UnsafeURLError) as info:
        await check_url(url, allow_private=False)
    assert str(info.value) == f"fetch: refused {url} ({reason})"


async def test_check_url_allows_private_when_told() -> None:
    await check_url("http://127.0.0.1:8080/feed", allow_private=True)
    await check_url("http://localhost/", allow_private=True)
    with pytest.raises(UnsafeURLError, match="unsupported scheme 'file'"):
        await check_url("file:///etc/passwd", allow_private=True)


async def test_check_url_public_literal() -> None:
    await check_url("https://93.184.215.14/news", allow_private=False)
    await check_url("https://[2606:4700:4700::1111]/", allow_private=False)


async def test_check_url_resolves_names(monkeypatch: pytest.MonkeyPatch) -> None:
    public_dns(
        monkeypatch,
        {"news.test": ["93.184.215.14"], "mixed.test": ["93.184.215.14", "10.1.2.3"]},
    )
    await check_url("https://news.test/rss", allow_private=False)
    # one private answer among public ones is enough to refuse
    with pytest.raises(UnsafeURLError, match=r"\(private address\)"):
        await check_url("https://mixed.test/rss", allow_private=False)


# --- connect-time guard ----------------------------------------------------------------------


async def test_guarded_session_refuses_literal_loopback(server: LocalServer) -> None:
    # straight through the session, skipping check_url: the socket factory still refuses
    async with make_session(allow_private=False) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            async with session.get(server.url()):
                pass
    assert isinstance(info.value.os_error, RefusedAddressError)
    assert server.seen == []


async def test_guarded_resolver_refuses_rebinding_name(server: LocalServer) -> None:
    async with make_session(allow_private=False, resolver=LoopbackResolver()) as session:
        with pytest.raises(UnsafeURLError, match=r"rebind\.test \(private address\)"):
            async with session.get(server.url(host="rebind.test")):
                pass
    assert server.seen == []


async def test_guarded_resolver_passes_public_answers() -> None:
    class Public(LoopbackResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            [result] = await super().resolve(host, port, family)
            return [ResolveResult(**{**result, "host": "93.184.215.14"})]

    resolver = GuardedResolver(Public())
    [result] = await resolver.resolve("news.test", 443)
    assert result["host"] == "93.184.215.14"
    await resolver.close()


async def test_open_session_reaches_loopback(server: LocalServer) -> None:
    server.routes["/"] = respond(text="ok")
    async with make_session(allow_private=True) as session:
        async with session.get(server.url()) as response:
            assert response.status == 200
            assert await response.text() == "ok"
    [(_path, headers)] = server.seen
    assert headers["User-Agent"] == DEFAULT_USER_AGENT
    assert headers["Accept-Encoding"] == "gzip, deflate, br"


async def test_session_settings() -> None:
    async with make_session(allow_private=False, user_agent="custom/1") as session:
        assert session.headers["User-Agent"] == "custom/1"
        assert session.timeout.total == 30
        assert session.timeout.sock_connect == 10
        assert session.timeout.sock_read == 15
        assert session.auto_decompress
        connector = session.connector
        assert isinstance(connector, aiohttp.TCPConnector)
        assert (connector.limit, connector.limit_per_host) == (100, 4)
    assert DEFAULT_USER_AGENT.startswith(f"news-monitor/{__version__} (+https://")
