"""Sending emails over SMTP (aiosmtplib): a batch of stored messages over one connection.

Outcomes: SMTP 4xx replies, connection errors and timeouts are retryable; 5xx replies are
permanent (dead letter); a message accepted is ok. None raise.
"""

from __future__ import annotations

from email.utils import parseaddr

import aiosmtplib

from monitor.channels.base import one_line
from monitor.channels.email import SmtpSettings
from monitor.models import DeliveryResult

__all__ = ["send_batch"]


async def send_batch(
    settings: SmtpSettings, messages: list[tuple[str, bytes]]
) -> list[DeliveryResult]:
    """Send `(recipient, message bytes)` pairs over one SMTP connection, in order.

    A refused message does not stop the others (the server resets the envelope); once the
    connection is lost, the rest are marked retryable without being tried, and the outbox
    retries them later.
    """
    if not messages:
        return []
    s = settings
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
        return [_failure(exc)] * len(messages)
    sender = parseaddr(s.sender)[1] or s.sender
    results: list[DeliveryResult] = []
    try:
        for recipient, data in messages:
            if not client.is_connected:
                results.append(DeliveryResult(False, "email: connection lost", True))
                continue
            results.append(await _send_one(client, sender, recipient, data))
    except BaseException:
        # cancelled (the worker is stopping) or a bug: no QUIT, which would wait for a reply
        client.close()
        raise
    await _close(client)
    return results


async def _send_one(
    client: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes
) -> DeliveryResult:
    try:
        _refused, reply = await client.sendmail(sender, [recipient], data)
    except Exception as exc:  # noqa: BLE001 - mapped by _failure, re-raised if unexpected
        return _failure(exc)
    return DeliveryResult(True, f"email: sent to {recipient} ({one_line(reply, 120)})")


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
