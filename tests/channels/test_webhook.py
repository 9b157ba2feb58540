"""WebhookNotifier and the chat formats against a real aiohttp receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from monitor import __version__
from monitor.channels import WEBHOOK_FORMATS, RecordingNotifier, digest_payload, register_format
from monitor.channels.webhook import WebhookNotifier, sign, verify_signature
from monitor.intake.fetch import parse_retry_after
from monitor.intake.netguard import make_session
from monitor.models import Alert, Digest, Match, Message

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    base: str
    requests: list[Received] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].body)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook endpoint whose path picks the answer; records every request."""
    state = Receiver(base="")

    async def hook(request: web.Request) -> web.StreamResponse:
        state.requests.append(
            Received(dict(request.headers), await request.read(), request.match_info["mode"])
        )
        mode = request.match_info["mode"]
        if mode == "ok":
            return web.Response(text="ok")
        if mode == "busy":
            return web.Response(status=429, headers={"Retry-After": "7"}, text="slow down")
        if mode == "busy-date":
            return web.Response(
                status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
            )
        if mode == "fail":
            return web.Response(status=500, text="boom")
        if mode == "bad":
            return web.Response(status=400, text="invalid_payload")
        if mode == "gone":
            return web.Response(status=404)
        if mode == "redirect":
            raise web.HTTPFound("/hook/ok")
        if mode == "hang":
            await state.release.wait()
            return web.Response(text="late")
        raise AssertionError(mode)

    app = web.Application()
    app.router.add_post("/hook/{mode}", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}/hook"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- generic format and signatures --------------------------------------------------------


async def test_generic_body_is_signed_and_versioned(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    hook = WebhookNotifier(receiver.url("ok"), secret=SECRET, session=session)
    result = await hook.send(message, digest, idempotency_key="outbox-7")

    assert result.ok, result.detail
    [request] = receiver.requests
    assert verify_signature(SECRET, request.headers, request.body)
    assert request.headers["webhook-id"] == "outbox-7"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == f"news-monitor/{__version__}"

    body = receiver.json()
    assert body == digest_payload(digest)
    assert body["version"] == 1
    assert body["type"] == "digest"
    assert body["subscription"] == "humanitarian-desk"
    assert body["created_at"] == "2015-10-20T07:30:00Z"
    rules = [a["rule"] for a in body["alerts"]]
    assert rules == ["displacement-figures", "envoy-travel", "ceasefire"]
    first = body["alerts"][0]
    assert first == {
        "id": 1,
        "rule": "displacement-figures",
        "title": "New displacement figures",
        "severity": "high",
        "article": {
            "url": "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow",
            "title": "UN Syria peace envoy travels to Moscow",
            "published": "2015-10-19T18:00:00Z",
            "site_name": "Middle East Eye",
        },
        "figures": [
            {"value": 40000, "text": "40,000", "qualifier": "at least", "approximate": False}
        ],
        "previous_figures": [
            {"value": 25000, "text": "25,000", "qualifier": None, "approximate": False}
        ],
        "captures": {},
        "snippets": [first["snippets"][0]],
        "hits": [{"term": "displac*", "text": "displaced", "snippet": 0, "start": 41, "end": 50}],
        "tags": ["mideast", "humanitarian"],
    }
    assert body["alerts"][1]["captures"] == {"destination": ["Moscow", "Washington"]}


async def test_same_key_same_webhook_id_and_unsigned_without_secret(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    hook = WebhookNotifier(receiver.url("ok"), session=session)
    for _ in range(2):
        assert (await hook.send(message, digest, idempotency_key="outbox-9")).ok

    assert [r.headers["webhook-id"] for r in receiver.requests] == ["outbox-9", "outbox-9"]
    assert all("webhook-signature" not in r.headers for r in receiver.requests)


async def test_signature_checks_reject_forgeries(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    await WebhookNotifier(receiver.url("ok"), secret=SECRET, session=session).send(
        message, digest, idempotency_key="outbox-1"
    )
    [request] = receiver.requests
    headers, body = request.headers, request.body

    assert verify_signature(SECRET, headers, body)
    wrong = "whsec_" + base64.b64encode(b"another secret of 32 bytes long!").decode()
    assert not verify_signature(wrong, headers, body)
    assert not verify_signature(SECRET, headers, body.replace(b"40000", b"40001"))
    assert not verify_signature(SECRET, {**headers, "webhook-id": "outbox-2"}, body)

    old = int(time.time()) - 3600
    stale = {
        **headers,
        "webhook-timestamp": str(old),
        "webhook-signature": sign(SECRET, "outbox-1", old, body),
    }
    assert not verify_signature(SECRET, stale, body)
    assert verify_signature(SECRET, stale, body, tolerance=7200)  # the signature itself is fine

    rotated = {**headers, "webhook-signature": "v1,bm9wZQ== " + headers["webhook-signature"]}
    assert verify_signature(SECRET, rotated, body)
    lower = {k.lower(): v for k, v in headers.items()}
    assert verify_signature(SECRET, lower, body)
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert not verify_signature(SECRET, {k: v for k, v in lower.items() if k != missing}, body)
    assert not verify_signature(SECRET, {**lower, "webhook-timestamp": "soon"}, body)


def test_standard_webhooks_reference_vector() -> None:
    # the example from the Standard Webhooks spec and its reference libraries
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id, timestamp = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, msg_id, timestamp, body) == expected


async def test_raw_secret_uses_utf8_bytes(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    raw = "not-base64 secret ✓"
    await WebhookNotifier(receiver.url("ok"), secret=raw, session=session).send(
        message, digest, idempotency_key="k"
    )
    [request] = receiver.requests
    assert verify_signature(raw, request.headers, request.body)
    as_base64 = "whsec_" + base64.b64encode(raw.encode()).decode()
    assert verify_signature(as_base64, request.headers, request.body)  # the same key bytes
    assert not verify_signature(
        "whsec_" + base64.b64encode(b"other").decode(), request.headers, request.body
    )


def test_bad_configuration_raises() -> None:
    no_session = cast(aiohttp.ClientSession, None)  # never used: the constructor refuses first
    with pytest.raises(ValueError, match="base64"):
        WebhookNotifier("http://127.0.0.1/", secret="whsec_not*base64", session=no_session)
    with pytest.raises(ValueError, match="unknown format"):
        WebhookNotifier("http://127.0.0.1/", format="irc", session=no_session)


# --- outcomes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "ok", "retryable", "retry_after", "said"),
    [
        ("ok", True, False, None, "HTTP 200"),
        ("busy", False, True, 7.0, "HTTP 429: slow down"),
        ("fail", False, True, None, "HTTP 500: boom"),
        ("bad", False, False, None, "HTTP 400: invalid_payload"),
        ("gone", False, False, None, "HTTP 404"),
        ("redirect", False, False, None, "HTTP 302"),
    ],
    ids=["200-ok", "429-retry-after", "500-retry", "400-dead", "404-dead", "302-not-followed"],
)
async def test_http_outcomes(
    receiver: Receiver,
    session: aiohttp.ClientSession,
    message: Message,
    digest: Digest,
    mode: str,
    ok: bool,
    retryable: bool,
    retry_after: float | None,
    said: str,
) -> None:
    result = await WebhookNotifier(receiver.url(mode), session=session).send(
        message, digest, idempotency_key="k"
    )
    assert (result.ok, result.retryable, result.retry_after) == (ok, retryable, retry_after)
    assert said in result.detail
    assert [r.path for r in receiver.requests] == [mode]  # a redirect is not followed


async def test_retry_after_http_date(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    result = await WebhookNotifier(receiver.url("busy-date"), session=session).send(
        message, digest, idempotency_key="k"
    )
    assert result.retryable
    assert result.retry_after is not None and result.retry_after > 86400


async def test_connection_refused_is_retryable(
    session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    result = await WebhookNotifier(url, session=session).send(message, digest, idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)
    assert result.detail.startswith("webhook: connection failed")


async def test_timeout_is_retryable(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    hook = WebhookNotifier(receiver.url("hang"), session=session, timeout=0.2)
    result = await hook.send(message, digest, idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)
    assert "timed out" in result.detail


async def test_invalid_url_is_permanent(
    session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    for url in ("not a url", "ftp://127.0.0.1/hook"):
        result = await WebhookNotifier(url, session=session).send(
            message, digest, idempotency_key="k"
        )
        assert (result.ok, result.retryable) == (False, False), result.detail


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest", "http://[::ffff:127.0.0.1]:9/hook", "http://10.0.0.1/hook"],
)
async def test_a_literal_private_ip_is_refused_at_once_not_retried(
    url: str, message: Message, digest: Digest
) -> None:
    async with make_session(allow_private=False) as guarded:
        result = await WebhookNotifier(url, session=guarded, timeout=5).send(
            message, digest, idempotency_key="k"
        )
    assert (result.ok, result.retryable) == (False, False)
    assert result.detail.startswith("webhook: refused unsafe URL"), result.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("-5", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
    ids=["seconds", "zero", "negative", "http-date", "past-date", "junk", "nan", "empty", "none"],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


# --- chat formats ---------------------------------------------------------------------------


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


async def deliver(
    receiver: Receiver, session: aiohttp.ClientSession, fmt: str, message: Message, digest: Digest
) -> Any:
    hook = WebhookNotifier(receiver.url("ok"), format=fmt, session=session)
    result = await hook.send(message, digest, idempotency_key="k")
    assert result.ok, result.detail
    return receiver.json()


def text_of(body: Any) -> str:
    return "\n".join(strings(body))


SEED_FACTS = [
    "New displacement figures",
    "high",
    "at least 40,000",
    "25,000",
    "destination",
    "Moscow, Washington",
    "Several local ceasefires were in place",
    "UN Syria peace envoy travels to Moscow",
]


async def test_slack_body(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    body = await deliver(receiver, session, "slack", message, digest)

    assert set(body) == {"text", "blocks"}
    assert "3 alerts" in body["text"]
    sections = [b for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) == 4  # subject + three alerts
    assert all(s["text"]["type"] == "mrkdwn" and s["text"]["verbatim"] for s in sections)
    first = sections[1]["text"]["text"]
    assert "*New displacement figures* · high" in first
    url = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
    assert f"<{url}|UN Syria peace envoy travels to Moscow> (Middle East Eye)" in first
    assert "*Figures:* at least 40,000 (up from 25,000)" in first
    assert "*destination:* Moscow, Washington" in sections[2]["text"]["text"]
    text = text_of(body)
    for fact in SEED_FACTS:
        assert fact in text


async def test_discord_body(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    body = await deliver(receiver, session, "discord", message, digest)

    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["embeds"]) == 3
    first = body["embeds"][0]
    assert first["title"] == "UN Syria peace envoy travels to Moscow"
    assert first["url"] == "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"
    assert "**Figures:** at least 40,000 (up from 25,000)" in first["description"]
    assert first["footer"] == {"text": "Middle East Eye"}
    assert isinstance(first["color"], int)
    text = text_of(body)
    for fact in SEED_FACTS:
        assert fact in text


async def test_teams_body(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    body = await deliver(receiver, session, "teams", message, digest)

    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    containers = [b for b in card["body"] if b["type"] == "Container"]
    assert len(containers) == 3
    links = [
        run["selectAction"]["url"]
        for c in containers
        for block in c["items"]
        for run in block["inlines"]
        if "selectAction" in run
    ]
    assert links == ["https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"] * 3
    text = text_of(body)
    for fact in SEED_FACTS:
        assert fact in text


async def test_mattermost_body(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    body = await deliver(receiver, session, "mattermost", message, digest)

    assert set(body) == {"text"}
    text = body["text"]
    assert text.startswith("#### News Monitor: 3 new alerts")
    assert (
        "[UN Syria peace envoy travels to Moscow]"
        "(https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow)"
    ) in text
    assert "**Figures:** at least 40,000 (up from 25,000)" in text
    assert "**destination:** Moscow, Washington" in text
    for fact in SEED_FACTS:
        assert fact in text


CHAT_FORMATS = ["slack", "discord", "teams", "mattermost"]


@pytest.mark.parametrize("fmt", CHAT_FORMATS)
async def test_hostile_text_is_neutralised(
    receiver: Receiver,
    session: aiohttp.ClientSession,
    hostile_message: Message,
    hostile: Digest,
    fmt: str,
) -> None:
    body = await deliver(receiver, session, fmt, hostile_message, hostile)
    text = text_of(body)

    for danger in ("<script>", "<!channel>", "<!here>", "<@U123>", "@everyone", "@here", "<b>"):
        assert danger not in text, (fmt, danger)
    assert "\r" not in text
    assert "X-Injected" in text
    assert not any(line.startswith("X-Injected") for line in text.splitlines())
    if fmt in ("discord", "mattermost"):  # markdown: no link, no bold, no spoiler from the title
        assert "[click](" not in text
        assert "**bold**" not in text
        assert "||spoiler||" not in text
    if fmt == "slack":
        assert "&lt;script&gt;" in text
        assert "<https://evil" not in text


async def test_discord_respects_limits(
    receiver: Receiver, session: aiohttp.ClientSession, digest: Digest
) -> None:
    long_match = Match(rule="r", title="T" * 500, severity="high", snippets=("word " * 2000,))
    many = tuple(
        Alert(
            id=i,
            article_url="https://example.org/a",
            article_title="A" * 1000,
            published=None,
            site_name="S" * 3000,
            match=long_match,
        )
        for i in range(15)
    )
    big = Digest(subscription="s", alerts=many, created_at=digest.created_at)
    body = await deliver(receiver, session, "discord", Message("x" * 5000, "t", "h"), big)

    assert len(body["content"]) <= 2000
    assert len(body["embeds"]) <= 10
    total = 0
    for embed in body["embeds"]:
        assert len(embed["title"]) <= 256
        assert len(embed["description"]) <= 4096
        total += len(embed["title"]) + len(embed["description"])
        total += len(embed.get("footer", {}).get("text", ""))
    assert total <= 6000
    assert "of 15 alerts" in body["content"]


def test_slack_respects_block_limit(digest: Digest) -> None:
    many = Digest(subscription="s", alerts=digest.alerts * 30, created_at=digest.created_at)
    body = WEBHOOK_FORMATS["slack"](many, Message("s", "t", "h"))
    assert len(body["blocks"]) <= 50
    assert "more alerts" in text_of(body["blocks"][-1])
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")


# --- registry and the recording notifier ---------------------------------------------------


async def test_registering_a_format_makes_it_usable(
    receiver: Receiver, session: aiohttp.ClientSession, message: Message, digest: Digest
) -> None:
    @register_format("test-ntfy")
    def ntfy(d: Digest, m: Message) -> dict[str, Any]:
        return {"title": m.subject, "count": len(d.alerts)}

    try:
        body = await deliver(receiver, session, "test-ntfy", message, digest)
        assert body == {"title": "News Monitor: 3 new alerts", "count": 3}
        with pytest.raises(ValueError, match="registered twice"):
            register_format("test-ntfy")(lambda d, m: {})
    finally:
        WEBHOOK_FORMATS.pop("test-ntfy")
    assert set(WEBHOOK_FORMATS) == {"generic", "slack", "discord", "teams", "mattermost"}


async def test_recording_notifier(message: Message, digest: Digest) -> None:
    recorder = RecordingNotifier()
    result = await recorder.send(message, digest, idempotency_key="outbox-1")
    assert result.ok
    assert recorder.sent == [(message, digest, "outbox-1")]
