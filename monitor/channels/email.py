"""Email delivery over SMTP (aiosmtplib): multipart/alternative, plain text first, then HTML.

The `Message-ID` is derived from the delivery's idempotency key, so a row re-sent after a crash
carries the same Message-ID and mail clients and servers can fold the repeat.

Outcomes: SMTP 4xx replies, connection errors and timeouts are retryable; 5xx replies are
permanent (dead letter); a message accepted for at least one recipient is ok. None raise.
Several messages can share one connection through `EmailNotifier.send_many`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import quote

import aiosmtplib

from monitor.channels.base import one_line
from monitor.models import DeliveryResult, Digest, Message

__all__ = ["EmailNotifier", "SmtpSettings", "message_id"]

MESSAGE_ID_DOMAIN = "news-monitor"
_SUBJECT_LIMIT = 250


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. `starttls` upgrades a plain connection (port 587);
    `use_tls` speaks TLS from the first byte (port 465); they exclude each other."""

    host: str
    port: int = 25
    starttls: bool = False
    use_tls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "News Monitor <alerts@localhost>"
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError("email: starttls and use_tls exclude each other")


def message_id(idempotency_key: str) -> str:
    """`<key@news-monitor>`, the key percent-encoded where RFC 5322 forbids its characters."""
    if not idempotency_key:
        raise ValueError("email: empty idempotency key")
    local = quote(idempotency_key, safe="-_~+=!#$&'*/?^`{|}")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        local = local.replace(".", "%2E")  # a dot-atom may not start, end or repeat dots
    return f"<{local}@{MESSAGE_ID_DOMAIN}>"


Item = tuple[Message, Digest, str]


class EmailNotifier:
    """Sends each rendered digest as one email to a fixed list of recipients."""

    def __init__(self, settings: SmtpSettings, to: str | list[str]) -> None:
        recipients = [to] if isinstance(to, str) else list(to)
        if not recipients or any(not r.strip() or re.search(r"[\r\n]", r) for r in recipients):
            raise ValueError("email: recipients must be non-empty single-line addresses")
        self.settings = settings
        self.to = recipients

    def compose(self, message: Message, digest: Digest, *, idempotency_key: str) -> EmailMessage:
        """The email as it will be sent (also useful for previews and tests)."""
        email = EmailMessage()
        # CR/LF in a subject would start new headers (Bcc:...): `one_line` removes them
        email["Subject"] = one_line(message.subject, _SUBJECT_LIMIT) or "News Monitor digest"
        email["From"] = self.settings.sender
        email["To"] = ", ".join(self.to)
        created = digest.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        # the digest's own time, so a retried send is the same message, not a newer one
        email["Date"] = format_datetime(created.astimezone(UTC))
        email["Message-ID"] = message_id(idempotency_key)
        # RFC 3834: stops vacation auto-replies from answering an alert mailbox
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    async def send(
        self, message: Message, digest: Digest, *, idempotency_key: str
    ) -> DeliveryResult:
        return (await self.send_many([(message, digest, idempotency_key)]))[0]

    async def send_many(self, items: Iterable[Item]) -> list[DeliveryResult]:
        """Send several `(message, digest, idempotency_key)` over one SMTP connection.

        Returns one result per item, in order. A refused message does not stop the others
        (the server resets the envelope); once the connection is lost, the rest are marked
        retryable without being tried, and the outbox retries them later.
        """
        emails = [self.compose(m, d, idempotency_key=k) for m, d, k in items]
        if not emails:
            return []
        s = self.settings
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            timeout=s.timeout,
            use_tls=s.use_tls,
            start_tls=s.starttls,  # False means never, not "if offered": the operator decides
        )
        try:
            await client.connect()
        except Exception as exc:  # noqa: BLE001 - mapped by _failure, re-raised if unexpected
            failed = _failure(exc)
            return [failed] * len(emails)
        results: list[DeliveryResult] = []
        try:
            for email in emails:
                if not client.is_connected:
                    results.append(DeliveryResult(False, "email: connection lost", True))
                    continue
                results.append(await self._send_one(client, email))
        finally:
            await _close(client)
        return results

    async def _send_one(self, client: aiosmtplib.SMTP, email: EmailMessage) -> DeliveryResult:
        try:
            refused, reply = await client.send_message(email)
        except Exception as exc:  # noqa: BLE001 - mapped by _failure, re-raised if unexpected
            return _failure(exc)
        accepted = len(self.to) - len(refused)
        detail = f"email: sent to {accepted} recipient(s) ({one_line(reply, 120)})"
        if refused:
            # accepted for some: a retry would duplicate it for them, so this counts as sent
            listed = ", ".join(f"{addr} {r.code}" for addr, r in refused.items())
            detail += f"; refused: {one_line(listed, 200)}"
        return DeliveryResult(True, detail)


def _failure(exc: Exception) -> DeliveryResult:
    """Map an aiosmtplib (or socket) exception to a result; re-raise anything else (a bug)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        said = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        retry = any(400 <= c < 500 for c in codes)  # one 4xx: a later try may get through
        return DeliveryResult(False, f"email: recipients refused ({one_line(said, 300)})", retry)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        said = f"{exc.code} {one_line(exc.message, 200)}"
        if 500 <= exc.code < 600:
            return DeliveryResult(False, f"email: server refused ({said})", False)
        return DeliveryResult(False, f"email: server deferred ({said})", True)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return DeliveryResult(False, f"email: not supported by server ({exc.message})", False)
    if isinstance(exc, (TimeoutError, ConnectionError, OSError, aiosmtplib.SMTPException)):
        detail = str(exc) or type(exc).__name__
        return DeliveryResult(False, f"email: connection failed ({one_line(detail, 200)})", True)
    if isinstance(exc, ValueError):  # an address aiosmtplib cannot send to: fix the config
        return DeliveryResult(False, f"email: invalid message or address ({exc})", False)
    raise exc


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely; a server that already hung up is not an error."""
    try:
        if client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
