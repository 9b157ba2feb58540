"""Local receivers for the demo and the tests: an SMTP server and a webhook endpoint on
127.0.0.1 that keep what they receive. Real servers, so the demo and the tests exercise the
same network code as production."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from monitor.channels.webhook import verify_signature


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        return body.get_content() if body is not None else ""


@dataclass
class SmtpSink:
    """Keeps every message; `reply` (e.g. "451 try later") makes it refuse them instead."""

    host: str = "127.0.0.1"
    port: int = 0
    mails: list[ReceivedMail] = field(default_factory=list)
    reply: str | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.base_events.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reply:
            return self.reply
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), message))
        self.arrived.set()
        return "250 OK"

    async def start(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="localhost"), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool | None

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class WebhookSink:
    """Accepts POSTs on any path; verifies Standard Webhooks signatures when given the secret.
    `status` is what it answers (e.g. 500 or 429 to test retries)."""

    secret: str | None = None
    status: int = 200
    headers_out: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds it takes to answer (a slow receiver)
    hooks: list[ReceivedHook] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        valid = verify_signature(self.secret, headers, body) if self.secret else None
        self.hooks.append(ReceivedHook(request.path, headers, body, valid))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text="ok", headers=self.headers_out)

    async def start(self, host: str = "127.0.0.1") -> WebhookSink:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
