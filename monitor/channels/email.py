"""Email: the `smtp:` settings, and a digest composed as the exact bytes to send.

multipart/alternative, plain text first, then HTML with its CSS inlined (mail clients drop
<style> blocks; the dark-mode @media rules stay). One message per recipient, because each
carries its own one-click unsubscribe link (RFC 8058: `List-Unsubscribe` with an https URL
and a mailto, and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`). The `Message-ID` is
derived from the delivery's idempotency key, so a message re-sent after a crash carries the
same Message-ID and mail clients and servers can fold the repeat. With `dkim:` set, the
message is signed (dkimpy) over the headers that one-click needs signed.

This module imports no SMTP client: `monitor.channels.smtp` sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime
from urllib.parse import quote

import css_inline
from pydantic import Field, model_validator

from monitor.channels.base import Envelope, Payload, one_line
from monitor.digest.plan import DigestPlan
from monitor.models import Message
from monitor.yamlsrc import StrictModel

__all__ = ["DkimSettings", "SmtpModel", "SmtpSettings", "compose", "message_id"]

MESSAGE_ID_DOMAIN = "news-monitor"
_SUBJECT_LIMIT = 250
# the headers a DKIM signature covers: one-click unsubscribe needs both List-Unsubscribe ones
SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


class _BracketedHeader(UnstructuredHeader, BaseHeader):
    """A header of `<...>` items (List-Id, List-Unsubscribe) written as it is, folded only
    before a `<`. The default folding RFC 2047-encodes a word too long for one line, and an
    encoded URL is no URL to the clients that read these headers (RFC 2369)."""

    def fold(self, *, policy: Policy) -> str:
        value = str(self)
        if not value.isascii():
            return super().fold(policy=policy)
        limit = policy.max_line_length
        if limit and len(self.name) + 2 + len(value) > limit:
            value = value.replace(" <", f"{policy.linesep} <")
        return f"{self.name}: {value}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-id", _BracketedHeader)
_HEADERS.map_to_type("list-unsubscribe", _BracketedHeader)
_POLICY = policy.SMTP.clone(header_factory=_HEADERS)


class DkimModel(StrictModel):
    domain: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    selector: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    private_key_env: str


class SmtpModel(StrictModel):
    """The `smtp:` section."""

    host: str
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    tls: bool = False
    username: str | None = None
    password_env: str | None = None
    from_: str = Field("News Monitor <alerts@localhost>", alias="from")
    # where List-Unsubscribe's mailto points (default: the From address)
    unsubscribe_mailto: str | None = None
    timeout: float = Field(30.0, gt=0)
    dkim: DkimModel | None = None

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpModel:
        if self.starttls and self.tls:
            raise ValueError(
                "choose starttls (upgrade a plain connection) or tls (TLS from the start), not both"
            )
        return self


@dataclass(frozen=True)
class DkimSettings:
    domain: str
    selector: str
    private_key: bytes


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
    unsubscribe_mailto: str | None = None
    dkim: DkimSettings | None = None

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


def inline_css(html: str) -> str:
    """Styles moved into style attributes; @media rules (dark mode) kept in a <style>."""
    return str(_INLINER.inline(html))


def compose(
    plan: DigestPlan,
    envelope: Envelope,
    message: Message,
    *,
    settings: SmtpSettings,
    recipient: str,
) -> Payload:
    """The email as it is sent to `recipient`: RFC 5322 bytes with CRLF line ends."""
    email = EmailMessage(policy=_POLICY)
    # CR/LF in a subject would start new headers (Bcc:...): `one_line` removes them
    email["Subject"] = one_line(message.subject, _SUBJECT_LIMIT) or "News Monitor digest"
    email["From"] = settings.sender
    email["To"] = recipient
    created = plan.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    # the digest's own time, so a retried send is the same message, not a newer one
    email["Date"] = format_datetime(created.astimezone(UTC))
    email["Message-ID"] = message_id(envelope.key)
    # RFC 3834: stops vacation auto-replies from answering an alert mailbox
    email["Auto-Submitted"] = "auto-generated"
    email["List-Id"] = f"{plan.subscription} <{plan.subscription}.{MESSAGE_ID_DOMAIN}>"
    unsubscribe = [f"<{u}>" for u in (envelope.unsubscribe_url, envelope.unsubscribe_mailto) if u]
    if unsubscribe:
        email["List-Unsubscribe"] = ", ".join(unsubscribe)
    if (envelope.unsubscribe_url or "").startswith("https://"):  # RFC 8058: https only
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text)
    email.add_alternative(inline_css(message.html), subtype="html")
    data = email.as_bytes()
    if settings.dkim is not None:
        data = dkim_sign(data, settings.dkim)
    return Payload(email["Subject"], data, "message/rfc822")


def dkim_sign(data: bytes, key: DkimSettings) -> bytes:
    import dkim  # dkimpy: imported only where signing is configured

    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        include_headers=list(SIGNED_HEADERS),
    )
    return bytes(signature) + data
