"""Loopback-only HTTP for tests: a recording aiohttp server on 127.0.0.1, sessions whose names
all resolve to 127.0.0.1, and a patched getaddrinfo, so no test asks real DNS or leaves the
machine.

The `server` and `session` fixtures are shared by importing them into a test module under
their own names (`from tests.localhttp import server as server`: the redundant alias tells
linters the import is used, by pytest).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from monitor.intake.netguard import make_session

__all__ = [
    "PUBLIC_ADDRESS",
    "Handler",
    "LocalServer",
    "LoopbackResolver",
    "local_server",
    "loopback_session",
    "loopback_tripwire",
    "public_dns",
    "respond",
    "server",
    "session",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# what public_dns answers by default for a name that should look public to check_url
PUBLIC_ADDRESS = "93.184.215.14"


# --- the server ------------------------------------------------------------------------------


@dataclass
class LocalServer:
    """An aiohttp server on 127.0.0.1 with per-test routes, recording every request it gets.

    `seen` holds `(path_qs, headers)` for every request, routed or not (an unknown path is
    answered 404 after it is recorded).
    """

    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.path_qs, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    async def hang(self) -> None:
        """Stall a handler until the test ends (bounded, never a real sleep of the suite)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), 5)


@contextlib.asynccontextmanager
async def local_server() -> AsyncIterator[LocalServer]:
    """A started LocalServer on an ephemeral port of 127.0.0.1, stopped on exit."""
    srv = LocalServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", srv.dispatch)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.port = runner.addresses[0][1]
    try:
        yield srv
    finally:
        srv.stop.set()
        await runner.cleanup()


def respond(**kwargs: Any) -> Handler:
    """A handler answering every request with `web.Response(**kwargs)`."""

    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(**kwargs)

    return handler


# --- name resolution -------------------------------------------------------------------------


class LoopbackResolver(AbstractResolver):
    """Resolves every name to 127.0.0.1 (like a rebinding DNS server would at connect time):
    tests never ask real DNS."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=flags,
            )
        ]

    async def close(self) -> None:
        pass


def public_dns(monkeypatch: pytest.MonkeyPatch, answers: Mapping[str, Sequence[str]]) -> None:
    """Answer the running loop's getaddrinfo for the given names (no real DNS in tests).

    Other names go to the real getaddrinfo; `check_url` then sees these addresses, while a
    session with a LoopbackResolver still connects to 127.0.0.1.
    """
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port or 0),
                )
                for a in answers[host]
            ]
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", fake)


# --- sessions --------------------------------------------------------------------------------


def loopback_tripwire() -> aiohttp.TraceConfig:
    """Fail the test before connecting if a request targets a literal address off 127.0.0.1."""

    async def on_start(_s: Any, _c: Any, params: aiohttp.TraceRequestStartParams) -> None:
        host = params.url.raw_host or ""
        literal = host.replace(".", "").isdigit() or ":" in host
        assert not literal or host == "127.0.0.1", f"test tried to reach {host}"

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return trace


def loopback_session(*, allow_private: bool, **kwargs: Any) -> aiohttp.ClientSession:
    """A `make_session` session that resolves every name to 127.0.0.1 and trips on any other
    literal address; short timeouts unless `timeout` is given."""
    kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=5, sock_connect=2, sock_read=2))
    return make_session(
        allow_private=allow_private,
        resolver=LoopbackResolver(),
        trace_configs=[loopback_tripwire()],
        **kwargs,
    )


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A loopback session that allows private addresses (the local server is one)."""
    async with loopback_session(allow_private=True) as s:
        yield s
