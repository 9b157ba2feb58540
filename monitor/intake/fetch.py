"""One guarded HTTP GET -> FetchResult: redirects, size cap, SSRF checks, precise errors.

Expected outcomes (timeouts, refused connections, HTTP errors, unsafe URLs, oversized bodies)
come back as `FetchResult.error` strings in the form `fetch: what failed (detail)`; only bugs
raise. Redirects are followed by hand so that every hop passes `check_url` and so that we can
tell whether the whole chain was permanent (the caller may then store the new URL).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from monitor.errors import UnsafeURLError
from monitor.intake.netguard import PRIVATE_ADDRESS, RefusedAddressError, check_url, refusal
from monitor.models import FetchResult

__all__ = ["fetch", "parse_retry_after"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
_CHUNK_SIZE = 64 * 1024

_STATUS_ERRORS = {
    401: "unauthorized",
    403: "access forbidden",
    404: "not found",
    407: "proxy authentication required",
    410: "gone",
    429: "too many requests",
}

# The longest Retry-After we honour (seconds): a week.
MAX_RETRY_AFTER = 7 * 24 * 3600.0


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str
    headers: dict[str, str]


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    allow_private: bool,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = 5,
    headers: dict[str, str] | None = None,
) -> FetchResult:
    """GET `url`, following at most `max_redirects` redirects, reading at most `max_bytes`.

    A 304 answer to a conditional request is a success: status 304, no error, empty body.
    Use a session from `netguard.make_session` so the connect-time guard matches allow_private.
    """
    current = url
    seen = {url}
    permanent = True
    hops = 0
    while True:
        outcome = await _request(session, current, allow_private, max_bytes, headers)
        if isinstance(outcome, FetchResult):
            moved = hops > 0 and permanent
            return replace(outcome, url=url, final_url=current, permanent_redirect=moved)
        hops += 1
        permanent = permanent and outcome.status in PERMANENT_REDIRECT_STATUSES
        error = None
        if outcome.location in seen:
            error = "fetch: redirect loop"
        elif hops > max_redirects:
            error = f"fetch: too many redirects (more than {max_redirects})"
        if error is not None:
            return FetchResult(
                url=url,
                final_url=current,
                status=outcome.status,
                headers=outcome.headers,
                error=error,
            )
        seen.add(outcome.location)
        current = outcome.location


async def _request(
    session: aiohttp.ClientSession,
    url: str,
    allow_private: bool,
    max_bytes: int,
    headers: Mapping[str, str] | None,
) -> FetchResult | _Redirect:
    """One request, no redirects followed; every failure becomes a FetchResult error."""
    try:
        # the system resolver has its own, long, timeouts: bound it like a connect
        async with asyncio.timeout(session.timeout.sock_connect or session.timeout.total):
            await check_url(url, allow_private=allow_private)
    except UnsafeURLError as exc:
        return _error(url, str(exc))
    except TimeoutError:
        return _error(url, f"fetch: cannot resolve host ({URL(url).host}: timed out)")
    except OSError as exc:
        return _error(url, f"fetch: cannot resolve host ({URL(url).host}: {_reason(exc)})")
    try:
        # parsed by yarl exactly as check_url parsed it, so both see the same host
        async with session.get(URL(url), allow_redirects=False, headers=headers) as resp:
            return await _read_response(resp, url, max_bytes)
    except UnsafeURLError:
        # the connect-time guard: DNS rebinding, or a session used without check_url
        return _error(url, refusal(url, PRIVATE_ADDRESS))
    except TimeoutError as exc:  # before OSError: aiohttp's timeouts are both
        seconds = _timeout_for(session, exc)
        return _error(url, f"fetch: timed out after {_format_seconds(seconds)}s")
    except aiohttp.ClientConnectorDNSError as exc:
        return _error(url, f"fetch: cannot resolve host ({exc.host}: {_reason(exc.os_error)})")
    except aiohttp.ClientSSLError as exc:
        return _error(url, f"fetch: TLS error ({_reason(exc)})")
    except aiohttp.ClientConnectorError as exc:
        return _error(url, _connect_error(url, exc))
    except aiohttp.ServerDisconnectedError:
        return _error(url, "fetch: server disconnected")
    except aiohttp.ClientPayloadError as exc:
        return _error(url, f"fetch: invalid response body ({_reason(exc)})")
    except aiohttp.ClientResponseError as exc:
        return _error(url, f"fetch: invalid response ({exc.message or exc.status})")
    except aiohttp.InvalidURL as exc:
        return _error(url, f"fetch: invalid URL ({exc})")
    except aiohttp.ClientError as exc:
        return _error(url, f"fetch: request failed ({_reason(exc)})")
    except OSError as exc:
        return _error(url, f"fetch: connection failed ({_reason(exc)})")
    except ValueError as exc:  # yarl rejects some malformed URLs with a bare ValueError
        return _error(url, f"fetch: invalid URL ({exc})")


def _connect_error(url: str, exc: aiohttp.ClientConnectorError) -> str:
    if isinstance(exc.os_error, RefusedAddressError):
        return refusal(url, PRIVATE_ADDRESS)
    if isinstance(exc.os_error, ConnectionRefusedError):
        return f"fetch: connection refused ({exc.host}:{exc.port})"
    return f"fetch: connection failed ({exc.host}:{exc.port}: {_reason(exc.os_error)})"


async def _read_response(
    resp: aiohttp.ClientResponse, url: str, max_bytes: int
) -> FetchResult | _Redirect:
    status = resp.status
    headers = _lower_headers(resp.headers)
    if status in REDIRECT_STATUSES:
        location = headers.get("location")
        if not location:
            return _error(url, _status_text(status, "redirect without Location"), status, headers)
        try:
            return _Redirect(status, str(resp.url.join(URL(location))), headers)
        except ValueError as exc:
            return _error(url, f"fetch: invalid redirect Location ({exc})", status, headers)
    result = FetchResult(
        url=url,
        final_url=url,
        status=status,
        content_type=resp.content_type if "content-type" in headers else None,
        charset=resp.charset.lower() if resp.charset else None,
        headers=headers,
    )
    if status == 304:
        return result
    if not 200 <= status < 300:
        retry = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
        return replace(result, error=_status_error(status), retry_after=retry)
    if resp.content_length is not None and resp.content_length > max_bytes:
        return replace(result, error=_too_large(max_bytes))
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK_SIZE):
        body += chunk
        # counted after decompression, so a gzip bomb is cut as early as a plain big body
        if len(body) > max_bytes:
            return replace(result, error=_too_large(max_bytes))
    return replace(result, body=bytes(body))


def _status_error(status: int) -> str:
    if status in _STATUS_ERRORS:
        return _status_text(status, _STATUS_ERRORS[status])
    if status >= 500:
        return _status_text(status, "server error")
    return _status_text(status, "unexpected status code")


def _status_text(status: int, what: str) -> str:
    return f"fetch: {what} ({status} status code)"


def _too_large(max_bytes: int) -> str:
    return f"fetch: body larger than {max_bytes} bytes"


def _error(
    url: str, error: str, status: int | None = None, headers: dict[str, str] | None = None
) -> FetchResult:
    return FetchResult(url=url, final_url=url, status=status, headers=headers or {}, error=error)


def parse_retry_after(value: str | None, *, now: float | datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable.

    The result is never negative (a past date means now). `now` (a Unix timestamp or an aware
    datetime, default the current time) is what an HTTP date is measured from.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": HTTP dates are GMT all the same
            when = when.replace(tzinfo=UTC)
        if now is None:
            now = time.time()
        elif isinstance(now, datetime):
            now = now.timestamp()
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    # a server may ask for a pause, not for eternity: a week is the most we honour
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _lower_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Response headers under lower-case names; repeated headers joined as HTTP allows."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _timeout_for(session: aiohttp.ClientSession, exc: BaseException) -> float | None:
    """The configured limit that fired, so the message names the number the operator set."""
    timeout = session.timeout
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return timeout.sock_connect or timeout.connect or timeout.total
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return timeout.sock_read or timeout.total
    return timeout.total or timeout.sock_read


def _format_seconds(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds:g}"


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
