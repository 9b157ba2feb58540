"""EmailNotifier against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from monitor.channels.email import EmailNotifier, SmtpSettings, message_id
from monitor.models import Digest, Message


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Store:
    """Accepts everything; keeps each envelope and the connection it came on."""

    def __init__(self) -> None:
        self.received: list[tuple[Any, EmailMessage, tuple[str, int]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        if "reject" in str(parsed["Subject"]):
            return "554 message refused"
        self.received.append((envelope, parsed, session.peer))
        return "250 OK queued"


class Defer:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "451 try later"


class RefuseRecipient:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        return "550 no such user"


class DeferRecipient:
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        return "450 mailbox busy"


@pytest.fixture
def smtp() -> Iterator[Callable[[object], int]]:
    """Start an SMTP server with a handler; returns its port. Stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: object) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def notifier(port: int, to: str | list[str] = "desk@example.org") -> EmailNotifier:
    settings = SmtpSettings(
        host="127.0.0.1", port=port, sender="News Monitor <alerts@example.org>", timeout=10
    )
    return EmailNotifier(settings, to)


async def test_sends_multipart_alternative(
    smtp: Callable[[object], int], message: Message, digest: Digest
) -> None:
    store = Store()
    port = smtp(store)
    result = await notifier(port, ["desk@example.org", "ops@example.org"]).send(
        message, digest, idempotency_key="outbox-17"
    )

    assert result.ok, result.detail
    assert not result.retryable
    [(envelope, email, _)] = store.received
    assert envelope.mail_from == "alerts@example.org"
    assert envelope.rcpt_tos == ["desk@example.org", "ops@example.org"]
    assert email.get_content_type() == "multipart/alternative"
    parts = list(email.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert "at least 40,000" in parts[0].get_content()
    assert "<li>at least 40,000</li>" in parts[1].get_content()
    assert email["Subject"] == "News Monitor: 3 new alerts"
    assert email["From"] == "News Monitor <alerts@example.org>"
    assert email["To"] == "desk@example.org, ops@example.org"
    assert email["Date"] == "Tue, 20 Oct 2015 07:30:00 +0000"
    assert email["Message-ID"] == "<outbox-17@news-monitor>"
    assert email["Auto-Submitted"] == "auto-generated"


async def test_message_id_is_stable_per_key(
    smtp: Callable[[object], int], message: Message, digest: Digest
) -> None:
    store = Store()
    port = smtp(store)
    email = notifier(port)
    for key in ("outbox-1", "outbox-1", "outbox-2"):
        assert (await email.send(message, digest, idempotency_key=key)).ok

    ids = [parsed["Message-ID"] for _, parsed, _ in store.received]
    assert ids == ["<outbox-1@news-monitor>", "<outbox-1@news-monitor>", "<outbox-2@news-monitor>"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("outbox-42", "<outbox-42@news-monitor>"),
        ("9f1c2e.3", "<9f1c2e.3@news-monitor>"),
        ("a b<c>@d", "<a%20b%3Cc%3E%40d@news-monitor>"),
        (".lead..dots", "<%2Elead%2E%2Edots@news-monitor>"),
    ],
    ids=["plain", "dot", "unsafe-chars", "bad-dots"],
)
def test_message_id_encoding(key: str, expected: str) -> None:
    assert message_id(key) == expected


async def test_crlf_in_subject_cannot_add_headers(
    smtp: Callable[[object], int], digest: Digest
) -> None:
    store = Store()
    port = smtp(store)
    hostile = Message(
        subject="Alert\r\nBcc: victim@example.org\r\n\r\nbody", text="t", html="<p>h</p>"
    )
    result = await notifier(port).send(hostile, digest, idempotency_key="k1")

    assert result.ok, result.detail
    [(envelope, email, _)] = store.received
    assert email["Subject"] == "Alert Bcc: victim@example.org body"
    assert email["Bcc"] is None
    assert envelope.rcpt_tos == ["desk@example.org"]
    assert b"\r\nBcc:" not in envelope.original_content


@pytest.mark.parametrize(
    ("handler", "retryable", "code"),
    [
        (Defer, True, "451"),
        (DeferRecipient, True, "450"),
        (RefuseRecipient, False, "550"),
    ],
    ids=["data-451-retry", "rcpt-450-retry", "rcpt-550-dead-letter"],
)
async def test_smtp_replies_map_to_results(
    smtp: Callable[[object], int],
    message: Message,
    digest: Digest,
    handler: type,
    retryable: bool,
    code: str,
) -> None:
    port = smtp(handler())
    result = await notifier(port).send(message, digest, idempotency_key="k")

    assert not result.ok
    assert result.retryable is retryable
    assert code in result.detail


async def test_connection_refused_is_retryable(message: Message, digest: Digest) -> None:
    port = free_port()  # bound then closed: nothing listens there
    result = await notifier(port).send(message, digest, idempotency_key="k")

    assert not result.ok
    assert result.retryable
    assert result.detail.startswith("email: connection failed")


async def test_send_many_uses_one_connection(
    smtp: Callable[[object], int], message: Message, digest: Digest
) -> None:
    store = Store()
    port = smtp(store)
    rejected = Message(subject="please reject me", text="t", html="<p>h</p>")
    items = [
        (message, digest, "outbox-1"),
        (rejected, digest, "outbox-2"),
        (message, digest, "outbox-3"),
    ]
    results = await notifier(port).send_many(items)

    assert [(r.ok, r.retryable) for r in results] == [(True, False), (False, False), (True, False)]
    assert "554" in results[1].detail
    assert [e["Message-ID"] for _, e, _ in store.received] == [
        "<outbox-1@news-monitor>",
        "<outbox-3@news-monitor>",
    ]
    assert len({peer for _, _, peer in store.received}) == 1


async def test_send_many_connection_refused_marks_all(message: Message, digest: Digest) -> None:
    results = await notifier(free_port()).send_many(
        [(message, digest, "a"), (message, digest, "b")]
    )
    assert [(r.ok, r.retryable) for r in results] == [(False, True), (False, True)]
    assert await notifier(free_port()).send_many([]) == []


def test_settings_and_recipients_are_checked() -> None:
    with pytest.raises(ValueError, match="exclude"):
        SmtpSettings(host="h", starttls=True, use_tls=True)
    with pytest.raises(ValueError, match="recipients"):
        EmailNotifier(SmtpSettings(host="h"), [])
    with pytest.raises(ValueError, match="recipients"):
        EmailNotifier(SmtpSettings(host="h"), "a@example.org\r\nBcc: b@example.org")
