"""Sending a webhook: one signed POST of the stored body to a real receiver on 127.0.0.1, and
what each answer (or the lack of one) means for the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from monitor import __version__
from monitor.channels.base import Envelope
from monitor.channels.http import USER_AGENT, headers, outcome, post
from monitor.channels.registry import WEBHOOK_FORMATS
from monitor.channels.webhook import verify_signature
from monitor.demo.sinks import WebhookSink
from monitor.digest.plan import DigestPlan
from monitor.intake.fetch import MAX_RETRY_AFTER
from monitor.intake.netguard import make_session
from tests.conftest import WEBHOOK_SECRET
from tests.localhttp import loopback_session
from tests.localhttp import session as session  # noqa: F401 - a fixture

# mode -> (status, response headers, body)
ANSWERS: dict[str, tuple[int, dict[str, str], str]] = {
    "ok": (200, {}, "ok"),
    "created": (201, {}, ""),
    "accepted": (202, {}, ""),
    "no-content": (204, {}, ""),
    "bad": (400, {}, "invalid_payload"),
    "unauthorized": (401, {}, ""),
    "forbidden": (403, {}, "invalid_token"),
    "gone": (404, {}, "no_service"),
    "deleted": (410, {}, "channel_is_archived"),
    "too-large": (413, {}, ""),
    "timeout": (408, {}, ""),
    "busy": (429, {"Retry-After": "7"}, "slow down"),
    "fail": (500, {}, "boom"),
    "bad-gateway": (502, {}, ""),
    "unavailable": (503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, ""),
    "moved": (301, {"Location": "/ok"}, ""),
    "found": (302, {"Location": "/ok"}, ""),
    "temporary": (307, {"Location": "/ok"}, ""),
    "permanent": (308, {"Location": "/ok"}, ""),
    "chatty": (400, {}, "line one\r\nline two " + "x" * 400),
}


@dataclass
class Receiver:
    """A webhook endpoint whose path picks the answer; it records every request."""

    base: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, mode: str) -> str:
        return f"{self.base}/{mode}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _headers, _body in self.requests]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        mode = request.match_info["mode"]
        self.requests.append((request.path, dict(request.headers), await request.read()))
        if mode == "hang":
            with contextlib.suppress(TimeoutError):  # bounded: released when the test ends
                await asyncio.wait_for(self.release.wait(), 5)
            return web.Response(text="late")
        status, extra, text = ANSWERS[mode]
        return web.Response(status=status, headers=extra, text=text)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/{mode}", state.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening, held meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# --- headers ---------------------------------------------------------------------------------


def test_headers_carry_the_key_the_time_and_the_signature() -> None:
    sent = headers(
        b"{}",
        idempotency_key="msg_1",
        timestamp=1614265330,
        secret=WEBHOOK_SECRET,
        content_type="application/json",
    )
    assert sent["webhook-id"] == "msg_1"
    assert sent["webhook-timestamp"] == "1614265330"
    assert sent["webhook-signature"].startswith("v1,")
    assert sent["Content-Type"] == "application/json"
    assert sent["User-Agent"] == USER_AGENT == f"news-monitor/{__version__}"
    unsigned = headers(
        b"{}", idempotency_key="msg_1", timestamp=1, secret=None, content_type="text/plain"
    )
    assert "webhook-signature" not in unsigned
    assert unsigned["Content-Type"] == "text/plain"


@pytest.mark.parametrize("key", ["", "msg\r\nX-Injected: 1", "msg\n", "msg\0"])
def test_a_key_that_cannot_be_a_header_is_a_bug(key: str) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        headers(b"{}", idempotency_key=key, timestamp=1, secret=None, content_type="x/y")


# --- outcomes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [
        (200, True, False),
        (204, True, False),
        (299, True, False),
        (301, False, False),
        (304, False, False),
        (400, False, False),
        (404, False, False),
        (408, False, True),
        (409, False, False),
        (429, False, True),
        (451, False, False),
        (500, False, True),
        (503, False, True),
        (599, False, True),
    ],
    ids=lambda v: str(v),
)
def test_outcome_by_status(status: int, ok: bool, retryable: bool) -> None:
    result = outcome(status, None)
    assert (result.ok, result.retryable) == (ok, retryable)
    assert f"HTTP {status}" in result.detail


def test_retry_after_is_honoured_only_where_a_retry_is_due() -> None:
    assert outcome(429, "120").retry_after == 120.0
    assert outcome(503, "soon").retry_after is None
    assert outcome(400, "120").retry_after is None
    assert outcome(200, "120").retry_after is None


async def test_the_body_is_signed_and_delivered_exactly(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    body = '{"version":1,"subject":"Ünïcode"}'.encode()
    result = await post(
        session, receiver.url("ok"), body, idempotency_key="msg_7", secret=WEBHOOK_SECRET
    )
    assert result.ok and not result.retryable
    assert result.detail == "webhook: delivered (HTTP 200)"
    [(path, sent, received)] = receiver.requests
    assert path == "/ok" and received == body
    assert sent["webhook-id"] == "msg_7"
    assert sent["Content-Type"] == "application/json"
    assert sent["User-Agent"] == USER_AGENT
    assert verify_signature(WEBHOOK_SECRET, sent, received)


async def test_a_retry_sends_the_same_id_and_bytes_unsigned_without_secret(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    for _ in range(2):
        assert (await post(session, receiver.url("ok"), b"{}", idempotency_key="msg_9")).ok
    assert [h["webhook-id"] for _p, h, _b in receiver.requests] == ["msg_9", "msg_9"]
    assert [b for _p, _h, b in receiver.requests] == [b"{}", b"{}"]
    assert all("webhook-signature" not in h for _p, h, _b in receiver.requests)


OUTCOMES = [
    ("ok", True, False, None, "delivered (HTTP 200)"),
    ("created", True, False, None, "delivered (HTTP 201)"),
    ("accepted", True, False, None, "delivered (HTTP 202)"),
    ("no-content", True, False, None, "delivered (HTTP 204)"),
    ("bad", False, False, None, "rejected (HTTP 400: invalid_payload)"),
    ("unauthorized", False, False, None, "rejected (HTTP 401)"),
    ("forbidden", False, False, None, "rejected (HTTP 403: invalid_token)"),
    ("gone", False, False, None, "rejected (HTTP 404: no_service)"),
    ("deleted", False, False, None, "rejected (HTTP 410: channel_is_archived)"),
    ("too-large", False, False, None, "rejected (HTTP 413)"),
    ("timeout", False, True, None, "receiver busy or failing (HTTP 408)"),
    ("busy", False, True, 7.0, "receiver busy or failing (HTTP 429: slow down)"),
    ("fail", False, True, None, "receiver busy or failing (HTTP 500: boom)"),
    ("bad-gateway", False, True, None, "receiver busy or failing (HTTP 502)"),
    ("unavailable", False, True, MAX_RETRY_AFTER, "receiver busy or failing (HTTP 503)"),
    ("moved", False, False, None, "redirect not followed (HTTP 301)"),
    ("found", False, False, None, "redirect not followed (HTTP 302)"),
    ("temporary", False, False, None, "redirect not followed (HTTP 307)"),
    ("permanent", False, False, None, "redirect not followed (HTTP 308)"),
]


@pytest.mark.parametrize(
    ("mode", "ok", "retryable", "retry_after", "said"),
    OUTCOMES,
    ids=[row[0] for row in OUTCOMES],
)
async def test_answers_from_a_real_receiver(
    receiver: Receiver,
    session: aiohttp.ClientSession,
    mode: str,
    ok: bool,
    retryable: bool,
    retry_after: float | None,
    said: str,
) -> None:
    result = await post(session, receiver.url(mode), b"{}", idempotency_key="msg_1")
    assert (result.ok, result.retryable, result.retry_after) == (ok, retryable, retry_after)
    assert result.detail == f"webhook: {said}"
    # a redirect is never followed: the signed body goes only where it was configured
    assert receiver.paths == [f"/{mode}"]


async def test_the_answer_quoted_in_the_detail_is_one_short_line(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    result = await post(session, receiver.url("chatty"), b"{}", idempotency_key="msg_1")
    assert result.detail.startswith("webhook: rejected (HTTP 400: line one line two xxx")
    assert "\r" not in result.detail and "\n" not in result.detail
    assert len(result.detail) < 200


async def test_a_receiver_that_never_answers_times_out_retryably(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    result = await post(session, receiver.url("hang"), b"{}", idempotency_key="k", timeout=0.2)
    assert (result.ok, result.retryable) == (False, True)
    assert result.detail == "webhook: timed out after 0.2s"


async def test_a_refused_connection_is_retryable(
    session: aiohttp.ClientSession, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/hook"
    result = await post(session, url, b"{}", idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)
    assert result.detail.startswith("webhook: connection failed (")


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://127.0.0.1/hook", "http://", "mailto:desk@example.org"]
)
async def test_an_invalid_url_is_permanent(session: aiohttp.ClientSession, url: str) -> None:
    result = await post(session, url, b"{}", idempotency_key="k")
    assert (result.ok, result.retryable) == (False, False), result.detail
    assert result.detail.startswith("webhook: invalid URL ("), result.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://10.0.0.1/hook",
    ],
    ids=["metadata", "mapped-loopback", "private"],
)
async def test_a_literal_private_address_is_refused_at_once(url: str) -> None:
    # the guard refuses at socket creation: nothing is ever sent to these addresses
    async with make_session(allow_private=False) as guarded:
        result = await post(guarded, url, b"{}", idempotency_key="k")
    assert (result.ok, result.retryable) == (False, False)
    assert result.detail.startswith("webhook: refused unsafe URL ("), result.detail


async def test_a_name_resolving_to_a_private_address_is_refused(receiver: Receiver) -> None:
    # every name resolves to 127.0.0.1 here: a guarded session must not connect to it
    url = receiver.url("ok").replace("127.0.0.1", "hooks.example.test")
    async with loopback_session(allow_private=False) as guarded:
        result = await post(guarded, url, b"{}", idempotency_key="k")
    assert (result.ok, result.retryable) == (False, False)
    assert result.detail.startswith("webhook: refused unsafe URL ("), result.detail
    assert receiver.requests == []


# --- every format, end to end ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(WEBHOOK_FORMATS))
async def test_every_format_arrives_signed_at_the_shared_sink(
    fmt: str, seed: DigestPlan, webhook_sink: WebhookSink, session: aiohttp.ClientSession
) -> None:
    payload = WEBHOOK_FORMATS[fmt](seed, Envelope("msg_42"))
    result = await post(
        session,
        f"{webhook_sink.url}/hooks/{fmt}",
        payload.body,
        idempotency_key="msg_42",
        secret=WEBHOOK_SECRET,
        content_type=payload.content_type,
    )
    assert result.ok, result.detail
    [hook] = webhook_sink.hooks
    assert hook.path == f"/hooks/{fmt}"
    assert hook.signature_valid is True
    assert hook.body == payload.body
    assert hook.headers["webhook-id"] == "msg_42"
    assert hook.headers["Content-Type"] == "application/json"
