"""robots.txt for article fetches: one guarded fetch per origin, cached, RFC 9309 semantics.

How an answer for `scheme://host[:port]/robots.txt` turns into a decision (RFC 9309 §2.3.1,
and what Google documents for its crawler):

- 2xx: parsed; rules for our product token (`news-monitor`) win over those for `*`.
- 4xx except 429 (404, 403, ...), and redirect chains `fetch` gives up on: no usable robots.txt,
  everything is allowed.
- 5xx, 429, timeouts, connection errors, refusals by the SSRF guard: unreachable, which means
  complete disallow (§2.3.1.4) until `retry_after` has passed, then we ask again.

Decisions come from the standard library's `RobotFileParser`, with one fix: it applies the first
rule that matches in file order, RFC 9309 the most specific (longest) one, with Allow winning a
tie; rules are reordered after parsing so that first-match gives the RFC's answer. It still
reads `*` and `$` inside paths literally, so such a rule never matches (errs towards allowing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.robotparser import RobotFileParser

import aiohttp
from yarl import URL

from monitor.intake.fetch import fetch
from monitor.models import FetchResult

__all__ = ["RobotsPolicy"]

log = logging.getLogger("monitor.intake.robots")

# `fetch` refuses a body over its cap instead of cutting it: read up to this many times
# `max_bytes` and cut ourselves, so that a merely large robots.txt still counts (RFC 9309 §2.5:
# parse at least the first 500 KiB). Beyond it the file is treated as unreachable.
_READ_FACTOR = 4


@dataclass(frozen=True)
class _Rules:
    """One origin's verdict: a parsed file, or allow/disallow everything (parser None)."""

    parser: RobotFileParser | None
    allow_all: bool
    expires: float  # on the policy's clock

    def allows(self, agent: str, url: str) -> bool:
        return self.allow_all if self.parser is None else self.parser.can_fetch(agent, url)


class RobotsPolicy:
    """Answers "may we fetch this URL?" from each origin's robots.txt.

    robots.txt goes through `monitor.intake.fetch.fetch`, so the SSRF guard applies to it as to any
    fetch. Concurrent calls for one origin share one request. Not thread-safe: use it from the
    event loop it was first used in.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allow_private: bool,
        user_agent: str,
        ttl: timedelta = timedelta(hours=24),
        max_bytes: int = 512 * 1024,
        retry_after: timedelta = timedelta(minutes=10),
        max_origins: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._allow_private = allow_private
        # the product token is what robots.txt groups name ("news-monitor/0.1 (+url)" -> ...)
        self._agent = user_agent.split("/", 1)[0].strip() or user_agent
        self._ttl = ttl.total_seconds()
        self._max_bytes = max_bytes
        self._retry_after = retry_after.total_seconds()
        self._max_origins = max_origins
        self._clock = clock
        self._cache: dict[str, _Rules] = {}
        self._loading: dict[str, asyncio.Task[_Rules]] = {}

    async def allowed(self, url: str) -> bool:
        """True if robots.txt lets our user agent fetch `url`. Never raises for network trouble;
        a URL that is not http(s) with a host is never allowed (there is no robots.txt to ask)."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError):
            return False
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            return False
        origin = str(parsed.origin())  # lower-cased, default port dropped: one key per origin
        rules = self._cache.get(origin)
        if rules is None or self._clock() >= rules.expires:
            rules = await self._load_shared(origin)
        return rules.allows(self._agent, url)

    async def _load_shared(self, origin: str) -> _Rules:
        task = self._loading.get(origin)
        if task is None:
            task = asyncio.create_task(self._load(origin))
            self._loading[origin] = task
            task.add_done_callback(lambda _: self._loading.pop(origin, None))
        # shielded: a caller that is cancelled must not cancel the fetch the others wait for
        return await asyncio.shield(task)

    async def _load(self, origin: str) -> _Rules:
        robots_url = origin + "/robots.txt"
        result = await fetch(
            self._session,
            robots_url,
            allow_private=self._allow_private,
            max_bytes=self._max_bytes * _READ_FACTOR,
            max_redirects=5,
        )
        rules = self._verdict(origin, result)
        self._cache.pop(origin, None)  # re-inserted last: the dict's order is load order
        self._cache[origin] = rules
        while len(self._cache) > self._max_origins:
            del self._cache[next(iter(self._cache))]
        return rules

    def _verdict(self, origin: str, result: FetchResult) -> _Rules:
        now = self._clock()
        status = result.status
        if result.ok:
            parser = RobotFileParser()
            parser.parse(self._lines(result.body))
            _longest_match_first(parser)
            return _Rules(parser, False, now + self._ttl)
        if status is not None and 300 <= status < 500 and status != 429:
            # 4xx: no robots.txt for us; 3xx with an error: redirects fetch gave up on, which
            # RFC 9309 §2.3.1.2 and Google also treat as "unavailable"
            return _Rules(None, True, now + self._ttl)
        wait = max(self._retry_after, min(result.retry_after or 0.0, self._ttl))
        log.info(
            "robots.txt unreachable: %s disallowed for %gs (%s)",
            origin,
            wait,
            result.error or f"status {status}",
        )
        return _Rules(None, False, now + wait)

    def _lines(self, body: bytes) -> list[str]:
        if len(body) > self._max_bytes:
            # cut at the last full line: half a "Disallow: /private" would read "Disallow: /"
            body = body[: self._max_bytes]
            body = body[: body.rfind(b"\n") + 1]
        return body.decode("utf-8", errors="replace").removeprefix("\ufeff").splitlines()


def _longest_match_first(parser: RobotFileParser) -> None:
    """Order each group's rules longest path first, Allow before Disallow on a tie, so the
    parser's first match is RFC 9309's most specific match. `entries`, `default_entry` and
    `rulelines` are plain attributes the stub files leave out, stable since Python 2."""
    internals: Any = parser
    groups = [*internals.entries]
    if internals.default_entry is not None:
        groups.append(internals.default_entry)
    for group in groups:
        group.rulelines.sort(key=lambda rule: (-len(rule.path), not rule.allowance))
