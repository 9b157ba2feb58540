"""Sending a webhook payload: one signed POST of the stored body.

The session is the caller's: it owns connection pooling and the SSRF guard (its connector or
resolver refuses unsafe addresses). Redirects are not followed, so a signed body is never
re-sent somewhere the operator did not configure.

Outcomes: 2xx ok; 408, 429 and 5xx retryable (with `Retry-After` honoured); other 4xx and 3xx
permanent; timeouts and connection errors retryable. None of these raise.
"""

from __future__ import annotations

import time

import aiohttp

from monitor import __version__
from monitor.channels.base import one_line
from monitor.channels.webhook import sign
from monitor.errors import UnsafeURLError
from monitor.intake.fetch import parse_retry_after
from monitor.intake.netguard import RefusedAddressError
from monitor.models import DeliveryResult

__all__ = ["USER_AGENT", "headers", "outcome", "post"]

USER_AGENT = f"news-monitor/{__version__}"
TIMEOUT = 10.0


def headers(
    body: bytes, *, idempotency_key: str, timestamp: int, secret: str | None, content_type: str
) -> dict[str, str]:
    """Request headers; raises ValueError for a key that cannot be a header (a bug)."""
    if not idempotency_key or any(ch in idempotency_key for ch in "\r\n\0"):
        raise ValueError("webhook: idempotency key must be a non-empty single line")
    result = {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "webhook-id": idempotency_key,
        "webhook-timestamp": str(timestamp),
    }
    if secret is not None:
        result["webhook-signature"] = sign(secret, idempotency_key, timestamp, body)
    return result


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    *,
    idempotency_key: str,
    secret: str | None = None,
    content_type: str = "application/json",
    timeout: float = TIMEOUT,
) -> DeliveryResult:
    sent_headers = headers(
        body,
        idempotency_key=idempotency_key,
        timestamp=int(time.time()),
        secret=secret,
        content_type=content_type,
    )
    try:
        async with session.post(
            url,
            data=body,
            headers=sent_headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            # a few bytes of the answer make the error say why (e.g. Slack's "invalid_payload")
            answer = (await response.content.read(200)).decode("utf-8", "replace")
            return outcome(response.status, response.headers.get("Retry-After"), answer)
    except TimeoutError:
        return DeliveryResult(False, f"webhook: timed out after {timeout:g}s", True)
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
