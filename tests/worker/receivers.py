"""Test-side receivers and outbox readers for the delivery tests: the demo's real SMTP server
and webhook endpoint, taught to refuse one address, or to hold a request until the test lets
it go (a receiver busy while the worker is killed), and helpers that read what they got
the way a deduplicating receiver would, by idempotency key."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from monitor.channels.webhook import verify_signature
from monitor.demo.sinks import ReceivedHook, ReceivedMail, SmtpSink, WebhookSink
from monitor.store import Store
from monitor.store.schema import outbox

# A held request waits at most this long for the test to let it go: never a hang.
HOLD_SECONDS = 20.0


async def _hold(release: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(release.wait(), HOLD_SECONDS)


@dataclass
class RecipientSmtpSink(SmtpSink):
    """An SmtpSink that answers RCPT TO per address: `refuse[address]` holds the replies of
    its next attempts (e.g. ["450 4.2.1 mailbox busy"]), used one per attempt; an address
    with none left is accepted. Every RCPT TO is counted in `rcpts`.

    With `holding` set, DATA keeps the message (as a server that has it does) and then
    waits, before its 250, until `release` is set: the sender is mid-DATA meanwhile."""

    refuse: dict[str, list[str]] = field(default_factory=dict)
    rcpts: list[str] = field(default_factory=list)
    holding: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.rcpts.append(address)
        replies = self.refuse.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.holding:
            await _hold(self.release)
        return reply


@dataclass
class HoldingWebhookSink(WebhookSink):
    """A WebhookSink that, with `holding` set, keeps each request and then answers only once
    `release` is set: a slow receiver, holding the worker's POST for as long as the test
    needs (bounded by HOLD_SECONDS)."""

    holding: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def _receive(self, request: web.Request) -> web.Response:
        if not self.holding:
            return await super()._receive(request)
        body = await request.read()
        headers = dict(request.headers)
        valid = verify_signature(self.secret, headers, body) if self.secret else None
        self.hooks.append(ReceivedHook(request.path, headers, body, valid))
        await _hold(self.release)
        return web.Response(status=self.status, text="ok")


def outbox_rows(store: Store) -> list[dict[str, Any]]:
    """Every outbox row, oldest first, with its key (what OutboxEntry leaves out)."""
    o = outbox.c
    query = select(
        o.key, o.digest, o.subscription, o.target, o.status, o.attempts, o.last_error, o.alert_ids
    ).order_by(o.id)
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def states(store: Store, subscription: str) -> dict[str, tuple[str, int]]:
    """Target -> (status, attempts) of a subscription's outbox rows."""
    return {
        row["target"]: (row["status"], row["attempts"])
        for row in outbox_rows(store)
        if row["subscription"] == subscription
    }


def mails_by_address(mails: list[ReceivedMail]) -> Counter[str]:
    return Counter(address for mail in mails for address in mail.recipients)


def hook_ids(hooks: list[ReceivedHook]) -> Counter[str]:
    """How many times each `webhook-id` arrived."""
    return Counter(hook.headers["webhook-id"] for hook in hooks)


def mail_ids(mails: list[ReceivedMail]) -> Counter[tuple[str, str]]:
    """How many times each (address, Message-ID) arrived."""
    return Counter(
        (address, str(mail.message["Message-ID"])) for mail in mails for address in mail.recipients
    )
