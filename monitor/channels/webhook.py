"""Webhook delivery: POST a JSON body built by a registered format, signed per Standard Webhooks.

Signing (https://www.standardwebhooks.com/): the secret is written `whsec_<base64>` and the
base64 part is the HMAC key (a secret without the prefix is used as its UTF-8 bytes). Every
request carries `webhook-id` (the delivery's idempotency key, the same on every retry, so a
receiver can drop repeats), `webhook-timestamp` (unix seconds) and, with a secret,
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

Outcomes: 2xx ok; 408, 429 and 5xx retryable (with `Retry-After` honoured); other 4xx and 3xx
permanent; timeouts and connection errors retryable. None of these raise.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

import aiohttp

from monitor import __version__
from monitor.channels.base import WEBHOOK_FORMATS, one_line
from monitor.errors import UnsafeURLError
from monitor.intake.fetch import parse_retry_after
from monitor.intake.netguard import RefusedAddressError
from monitor.models import DeliveryResult, Digest, Message

__all__ = [
    "WebhookNotifier",
    "outcome",
    "secret_key",
    "sign",
    "verify_signature",
]

USER_AGENT = f"news-monitor/{__version__}"
SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: base64-decoded after `whsec_`, else the string's UTF-8 bytes.

    Raises ValueError for a `whsec_` secret that is not valid base64 (a configuration error).
    """
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("webhook: secret after 'whsec_' is not valid base64") from exc
    else:
        key = secret.encode("utf-8")
    if not key:
        raise ValueError("webhook: empty secret")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: int = 300
) -> bool:
    """True when `body` was signed with `secret` less than `tolerance` seconds from now.

    `headers` may be any mapping (case-insensitive or not); `body` must be the raw bytes as
    received. Any one of several space-separated signatures may match (key rotation).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not stamp or not signatures:
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    return any(
        candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected)
        for candidate in signatures.split()
    )


class WebhookNotifier:
    """POSTs each digest as JSON to one URL in one of the registered formats.

    The session is the caller's: it owns connection pooling and the SSRF guard (its connector
    or resolver refuses unsafe addresses). Redirects are not followed, so a signed body is
    never re-sent somewhere the operator did not configure.
    """

    def __init__(
        self,
        url: str,
        format: str = "generic",
        secret: str | None = None,
        *,
        session: aiohttp.ClientSession,
        timeout: float = 10.0,
    ) -> None:
        if format not in WEBHOOK_FORMATS:
            known = ", ".join(sorted(WEBHOOK_FORMATS))
            raise ValueError(f"webhook: unknown format {format!r} (known: {known})")
        if secret is not None:
            secret_key(secret)  # a bad secret fails here, not in the middle of a send
        self.url = url
        self.format = format
        self.secret = secret
        self.session = session
        self.timeout = timeout

    def build(self, message: Message, digest: Digest) -> bytes:
        """The exact body bytes that are sent (and signed)."""
        payload = WEBHOOK_FORMATS[self.format](digest, message)
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def headers(self, body: bytes, *, idempotency_key: str, timestamp: int) -> dict[str, str]:
        """Request headers; raises ValueError for a key that cannot be a header (a bug)."""
        if not idempotency_key or any(ch in idempotency_key for ch in "\r\n\0"):
            raise ValueError("webhook: idempotency key must be a non-empty single line")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": idempotency_key,
            "webhook-timestamp": str(timestamp),
        }
        if self.secret is not None:
            headers["webhook-signature"] = sign(self.secret, idempotency_key, timestamp, body)
        return headers

    async def send(
        self, message: Message, digest: Digest, *, idempotency_key: str
    ) -> DeliveryResult:
        body = self.build(message, digest)
        headers = self.headers(body, idempotency_key=idempotency_key, timestamp=int(time.time()))
        try:
            async with self.session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                # a few bytes of the answer make the error say why (e.g. Slack's "invalid_payload")
                answer = (await response.content.read(200)).decode("utf-8", "replace")
                return outcome(response.status, response.headers.get("Retry-After"), answer)
        except TimeoutError:
            return DeliveryResult(False, f"webhook: timed out after {self.timeout:g}s", True)
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            return DeliveryResult(False, f"webhook: invalid URL ({exc})", False)
        except UnsafeURLError as exc:
            return DeliveryResult(False, f"webhook: refused unsafe URL ({exc})", False)
        except (aiohttp.ClientError, OSError) as exc:
            refused = _refused_address(exc)
            if refused is not None:  # a literal private IP, refused at connect: never retried
                return DeliveryResult(False, f"webhook: refused unsafe URL ({refused})", False)
            detail = str(exc) or type(exc).__name__
            return DeliveryResult(False, f"webhook: connection failed ({detail})", True)


def _refused_address(exc: BaseException) -> RefusedAddressError | None:
    """The SSRF guard's refusal behind a connection error, if that is what it was: a URL on
    a literal IP ("http://169.254.169.254/") is never resolved, so only the socket sees it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RefusedAddressError):
            return seen
        os_error = getattr(seen, "os_error", None)
        if isinstance(os_error, RefusedAddressError):
            return os_error
        seen = seen.__cause__ or seen.__context__
    return None


def outcome(status: int, retry_after: str | None, answer: str = "") -> DeliveryResult:
    """Map an HTTP status to a delivery result."""
    said = f": {one_line(answer, 120)}" if answer.strip() else ""
    if 200 <= status < 300:
        return DeliveryResult(True, f"webhook: delivered (HTTP {status})")
    if status in (408, 429) or status >= 500:
        return DeliveryResult(
            False,
            f"webhook: receiver busy or failing (HTTP {status}{said})",
            retryable=True,
            retry_after=parse_retry_after(retry_after),
        )
    if 300 <= status < 400:
        return DeliveryResult(False, f"webhook: redirect not followed (HTTP {status})", False)
    return DeliveryResult(False, f"webhook: rejected (HTTP {status}{said})", False)
