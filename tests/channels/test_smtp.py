"""Sending a batch of stored emails over one SMTP connection, against real aiosmtpd servers on
127.0.0.1, and what each refusal means for the outbox."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import dkim
import pytest

from monitor.channels.base import Envelope
from monitor.channels.email import DkimSettings, SmtpSettings, compose
from monitor.channels.smtp import send_batch
from monitor.demo.sinks import SmtpSink
from monitor.digest.plan import DigestPlan
from monitor.digest.render import make_environment, render_digest
from tests.channels.dkimkey import make_rsa_key

SENDER = "News Monitor <alerts@example.org>"


def raw_mail(recipient: str, subject: str = "digest") -> bytes:
    return (
        f"From: {SENDER}\r\nTo: {recipient}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@news-monitor>\r\n\r\nbody of {subject}\r\n.leading dot\r\n"
    ).encode()


def settings(port: int, **kwargs: Any) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, timeout=5, **kwargs)


@dataclass
class PickySink(SmtpSink):
    """An SmtpSink that refuses some recipients by their name ("gone..." 550, "busy..." 450),
    keeps the raw bytes and the connection of each message, and can hang up on the
    `hang_up_at`-th transaction (counting from 1)."""

    raw: list[bytes] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    transactions: int = 0
    hang_up_at: int | None = None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.transactions += 1
        if self.transactions == self.hang_up_at:
            server.transport.close()
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("gone"):
            return "550 5.1.1 no such user"
        if address.startswith("busy"):
            return "450 4.2.1 mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def picky() -> AsyncIterator[PickySink]:
    sink = await PickySink().start()
    yield sink
    await sink.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound, never listening, held meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture
async def mute_server() -> AsyncIterator[int]:
    """A server on 127.0.0.1 that accepts connections and never says a word."""
    writers: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


# --- delivered -------------------------------------------------------------------------------


async def test_a_batch_goes_over_one_connection(smtp_sink: SmtpSink) -> None:
    rcpts = ["desk@example.org", "ops@example.org", "chief@example.org"]
    results = await send_batch(settings(smtp_sink.port), [(r, raw_mail(r, r[:4])) for r in rcpts])
    assert [r.ok for r in results] == [True, True, True]
    assert all(not r.retryable for r in results)
    assert results[0].detail == "email: sent to desk@example.org (OK)"
    assert [m.recipients for m in smtp_sink.mails] == [[r] for r in rcpts]
    assert {m.sender for m in smtp_sink.mails} == {"alerts@example.org"}
    assert [m.message["Subject"] for m in smtp_sink.mails] == ["desk", "ops@", "chie"]


async def test_one_connection_and_the_exact_bytes(picky: PickySink) -> None:
    mails = [(f"r{i}@example.org", raw_mail(f"r{i}@example.org", f"m{i}")) for i in range(5)]
    results = await send_batch(settings(picky.port), mails)
    assert all(r.ok for r in results)
    assert len(set(picky.peers)) == 1  # one connection for the whole batch
    assert picky.raw == [data for _rcpt, data in mails]  # dot-stuffing undone, bytes intact


async def test_an_empty_batch_connects_to_nothing(closed_port: int) -> None:
    assert await send_batch(settings(closed_port), []) == []


async def test_a_composed_digest_arrives_with_its_headers(
    smtp_sink: SmtpSink, seed: DigestPlan
) -> None:
    envelope = Envelope(
        "msg_1",
        unsubscribe_url="https://monitor.example.org/unsubscribe/t0ken?d=dig_1",
        unsubscribe_mailto="mailto:unsubscribe@example.org",
    )
    message = render_digest(make_environment(), seed, unsubscribe_url=envelope.unsubscribe_url)
    smtp = settings(smtp_sink.port)
    payload = compose(seed, envelope, message, settings=smtp, recipient="desk@example.org")
    [result] = await send_batch(smtp, [("desk@example.org", payload.body)])
    assert result.ok, result.detail
    [mail] = smtp_sink.mails
    assert mail.message["Message-ID"] == "<msg_1@news-monitor>"
    assert mail.message["List-Unsubscribe"] == (
        "<https://monitor.example.org/unsubscribe/t0ken?d=dig_1>, <mailto:unsubscribe@example.org>"
    )
    assert "at least 40,000" in mail.part("text/plain")
    assert "at least 40,000" in mail.part("text/html")


async def test_a_dkim_signature_survives_the_transfer(picky: PickySink, seed: DigestPlan) -> None:
    key = make_rsa_key()
    smtp = settings(
        picky.port,
        dkim=DkimSettings(domain="example.org", selector="news", private_key=key.private_pem),
    )
    message = render_digest(make_environment(), seed)
    payload = compose(seed, Envelope("msg_1"), message, settings=smtp, recipient="desk@example.org")
    [result] = await send_batch(smtp, [("desk@example.org", payload.body)])
    assert result.ok, result.detail
    [received] = picky.raw

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return key.dns_record if name == b"news._domainkey.example.org." else None

    assert dkim.verify(received, dnsfunc=lookup)


# --- refused ---------------------------------------------------------------------------------


async def test_a_refused_recipient_does_not_stop_the_others(picky: PickySink) -> None:
    rcpts = ["a@example.org", "gone@example.org", "busy@example.org", "b@example.org"]
    results = await send_batch(settings(picky.port), [(r, raw_mail(r)) for r in rcpts])
    ok, gone, busy, also_ok = results
    assert ok.ok and also_ok.ok
    assert (gone.ok, gone.retryable) == (False, False)  # 5xx: dead letter
    assert gone.detail == "email: recipients refused (gone@example.org: 550 5.1.1 no such user)"
    assert (busy.ok, busy.retryable) == (False, True)  # 4xx: try again later
    assert busy.detail == "email: recipients refused (busy@example.org: 450 4.2.1 mailbox busy)"
    assert [m.recipients for m in picky.mails] == [["a@example.org"], ["b@example.org"]]
    assert len(set(picky.peers)) == 1


@pytest.mark.parametrize(
    ("reply", "retryable", "detail"),
    [
        ("451 4.3.0 try later", True, "email: server deferred (451 4.3.0 try later)"),
        (
            "452 4.3.1 insufficient storage",
            True,
            "email: server deferred (452 4.3.1 insufficient storage)",
        ),
        ("554 5.7.1 message refused", False, "email: server refused (554 5.7.1 message refused)"),
        ("552 5.3.4 message too big", False, "email: server refused (552 5.3.4 message too big)"),
    ],
    ids=["451", "452", "554", "552"],
)
async def test_a_refused_message(
    smtp_sink: SmtpSink, reply: str, retryable: bool, detail: str
) -> None:
    smtp_sink.reply = reply
    rcpts = ["a@example.org", "b@example.org"]
    results = await send_batch(settings(smtp_sink.port), [(r, raw_mail(r)) for r in rcpts])
    assert [(r.ok, r.retryable, r.detail) for r in results] == [(False, retryable, detail)] * 2
    assert smtp_sink.mails == []


async def test_a_refused_connection_is_retryable_for_every_message(closed_port: int) -> None:
    results = await send_batch(
        settings(closed_port), [("a@example.org", raw_mail("a")), ("b@example.org", raw_mail("b"))]
    )
    assert len(results) == 2
    for result in results:
        assert (result.ok, result.retryable) == (False, True)
        assert result.detail.startswith("email: connection failed (")


async def test_a_server_that_never_greets_times_out_retryably(mute_server: int) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=mute_server, sender=SENDER, timeout=0.3)
    [result] = await send_batch(smtp, [("a@example.org", raw_mail("a"))])
    assert (result.ok, result.retryable) == (False, True)
    assert result.detail.startswith("email: connection failed ("), result.detail


async def test_a_lost_connection_leaves_the_rest_for_a_retry(picky: PickySink) -> None:
    picky.hang_up_at = 2  # accepts the first message, hangs up at the second's MAIL FROM
    rcpts = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    first, second, *rest = await send_batch(settings(picky.port), [(r, raw_mail(r)) for r in rcpts])
    assert first.ok
    assert (second.ok, second.retryable) == (False, True)
    assert second.detail.startswith("email: connection failed (")
    for result in rest:  # never tried
        assert (result.ok, result.retryable, result.detail) == (
            False,
            True,
            "email: connection lost",
        )
    assert [m.recipients for m in picky.mails] == [["a@example.org"]]
    assert picky.transactions == 2


async def test_starttls_missing_on_the_server_sends_nothing_in_clear(smtp_sink: SmtpSink) -> None:
    # the operator asked for STARTTLS: a server without it must not get the mail in clear
    [result] = await send_batch(
        settings(smtp_sink.port, starttls=True), [("a@example.org", raw_mail("a"))]
    )
    assert not result.ok
    assert "STARTTLS" in result.detail, result.detail
    assert smtp_sink.mails == []
