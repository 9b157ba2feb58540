"""Ingest: poll due feeds -> fetch each new entry's page -> extract -> match -> record alerts.

Politeness lives here: conditional GETs, the feed's interval with jitter, backoff for failing
feeds, Retry-After and Cache-Control honoured, permanent redirects followed for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.config import FeedConfig
from monitor.errors import UnsafeURLError
from monitor.extract import article as extraction
from monitor.intake.feeds import entry_article, entry_identity, poll_feed
from monitor.intake.fetch import fetch
from monitor.intake.netguard import check_url
from monitor.metrics import fetch_error_kind
from monitor.models import Article, Entry, Match, PollResult
from monitor.rules import FEED_HEALTH
from monitor.rules.compile import CompiledRule
from monitor.rules.match import OutOfTime, RuleSet, match_article
from monitor.rules.nodes import PLACE_CAPTURE
from monitor.store import FeedState
from monitor.timeutil import utcnow
from monitor.worker.runtime import CycleReport, Runtime

log = logging.getLogger("monitor.worker.ingest")

FEED_BACKOFF_CAP = timedelta(hours=6)
# A publisher's Cache-Control max-age is honoured up to this long.
MAX_AGE_CAP = timedelta(days=1)
# Feeds polled at once; the session's per-host limit keeps this polite per publisher.
POLL_CONCURRENCY = 20
# Matching one article may take this long; the rules not run by then are skipped.
MATCH_SECONDS = 5.0
# Article pages of one feed fetched at once (the session allows 4 connections per host).
PAGES_PER_FEED = 4


class Poller:
    """Polls due feeds, POLL_CONCURRENCY at once. Feeds are claimed only as there is room to
    poll them, so workers sharing a database share the feeds, and a slow feed takes up one
    place, never the poll of the others. `on_polled` is called as each poll ends."""

    def __init__(
        self, rt: Runtime, *, on_polled: Callable[[CycleReport], Awaitable[None]] | None = None
    ) -> None:
        self.rt = rt
        self.feeds = {f.url: f for f in rt.config.feeds}
        self.running: dict[int, asyncio.Task[None]] = {}
        self.on_polled = on_polled
        self.stopped = False
        self.filling = asyncio.Lock()

    async def fill(
        self,
        report: CycleReport,
        *,
        now: datetime,
        poll_all: bool = False,
        skip: Collection[int] = (),
        not_polled_since: datetime | None = None,
    ) -> list[int]:
        """Claim due feeds (all with `poll_all`; none in `skip` or polled since
        `not_polled_since`) as far as there is room, and start polling them; returns their
        ids."""
        # one fill at a time: the room counted is the room there is when the claim lands
        async with self.filling:
            room = POLL_CONCURRENCY - len(self.running)
            if self.stopped or room <= 0:
                return []
            claimed = await self.rt.db(
                self.rt.store.claim_due_feeds,
                now=now,
                poll_all=poll_all,
                limit=room,
                skip={*skip, *self.running},
                not_polled_since=not_polled_since,
            )
            if self.stopped:  # stopped meanwhile: retiring the worker frees these leases
                return []
            for state in claimed:
                self.running[state.id] = asyncio.create_task(self._poll(state, report, now))
        return [state.id for state in claimed]

    async def _poll(self, state: FeedState, report: CycleReport, now: datetime) -> None:
        try:
            feed = self.feeds.get(state.url)
            if feed is None:  # active by another worker's config, or gone in a reload
                log.warning("not in this worker's config: left", extra={"feed_url": state.url})
                await self.rt.db(self.rt.store.let_lease_lapse, state.id)
                return
            await poll_one(self.rt, feed, state, report, now)
        except Exception:  # a bug with one feed must not cost the others
            log.exception("polling failed", extra={"feed_url": state.url})
            with contextlib.suppress(Exception):  # else the heartbeat would renew it for good
                await self.rt.db(self.rt.store.let_lease_lapse, state.id)
        finally:
            del self.running[state.id]
        if self.on_polled is not None and not self.stopped:
            try:
                await self.on_polled(report)
            except Exception:  # e.g. the scheduler is shutting down: the next tick refills
                log.exception("after-poll step failed", extra={"feed_url": state.url})

    async def wait(self) -> None:
        """Until one of the running polls ends."""
        if self.running:
            await asyncio.wait(self.running.values(), return_when=asyncio.FIRST_COMPLETED)

    async def stop(self, timeout: float = 10.0) -> None:
        """Cancel the running polls and wait for them (their feeds' leases are let go when
        the worker retires)."""
        self.stopped = True
        for task in self.running.values():
            task.cancel()
        if self.running:
            await asyncio.wait(self.running.values(), timeout=timeout)


async def poll_feeds(rt: Runtime, report: CycleReport, *, poll_all: bool, now: datetime) -> None:
    """Poll each due feed once (every feed with `poll_all`), and return when all are done."""
    poller = Poller(rt)
    try:
        while True:
            # a feed polled in this pass has `now` as its last poll; one whose poll failed
            # unexpectedly keeps its lease until after `now`: neither is claimed again
            await poller.fill(report, now=now, poll_all=poll_all, not_polled_since=now)
            if not poller.running:
                return
            await poller.wait()
    finally:  # cancelled: the polls stop with it
        await poller.stop()


async def poll_one(
    rt: Runtime, feed: FeedConfig, state: FeedState, report: CycleReport, now: datetime
) -> None:
    result = await poll_feed(
        rt.session,
        state.poll_url,
        etag=state.etag,
        last_modified=state.last_modified,
        allow_private=rt.config.allow_private_networks,
    )
    report.feeds_polled += 1
    outcome = "not_modified" if result.not_modified else "ok" if result.ok else "failed"
    rt.metrics.polls.labels(outcome).inc()
    if result.error is not None:
        rt.metrics.fetch_errors.labels(fetch_error_kind(result.error, result.status)).inc()
    first_poll = state.last_success_at is None
    new_items = 0
    if result.ok:
        if result.warning:
            log.warning("%s", result.warning, extra={"feed_url": feed.url})
        # a few pages at a time, so that one slow publisher's pages do not queue the rest
        pages = asyncio.Semaphore(PAGES_PER_FEED)
        # one query for the whole feed: most entries of a busy feed are known already
        identities = [entry_identity(entry) for entry in result.entries]
        known = await rt.db(rt.store.known_identities, identities)

        async def load(entry: Entry, identity: str) -> Claimed | None:
            async with pages:
                try:
                    return await claim_entry(
                        rt, feed, entry, identity, report, first_poll=first_poll, now=now
                    )
                except Exception:  # one bad entry must not cost the rest of the feed
                    rt.in_flight.discard(identity)
                    _log_entry_failure(feed, entry)
                    return None

        fresh = [(e, i) for e, i in zip(result.entries, identities, strict=True) if i not in known]
        # pages load concurrently; entries are recorded one by one, oldest first, so that a
        # figure history reads in the order the news came
        fresh.sort(key=lambda pair: pair[0].published or now)
        claimed = await asyncio.gather(*(load(entry, identity) for entry, identity in fresh))
        for (entry, _), claim in zip(fresh, claimed, strict=True):
            if claim is None:
                continue
            try:
                new_items += await record_entry(rt, claim, report, now)
            except Exception:
                _log_entry_failure(feed, entry)
            finally:
                rt.in_flight.discard(claim.identity)
    else:
        report.feeds_failed += 1
        log.warning("%s", result.error, extra={"feed_url": feed.url})
    if result.final_url:
        log.info("feed moved permanently to %s", result.final_url, extra={"feed_url": feed.url})
    await rt.db(
        rt.store.record_poll, state.id, result, next_poll(feed, state, result, now), new_items, now
    )
    await record_feed_health(rt, feed, state, result, now)


def next_poll(feed: FeedConfig, state: FeedState, result: PollResult, now: datetime) -> datetime:
    """The feed's interval with ±10% jitter; failing feeds back off exponentially (capped).
    Never sooner than the publisher asks: Retry-After, or Cache-Control max-age (up to a day)."""
    delay = feed.interval
    if not result.ok:
        delay = min(
            feed.interval * 2 ** min(state.consecutive_failures + 1, 10),
            max(FEED_BACKOFF_CAP, feed.interval),
        )
    delay *= random.uniform(0.9, 1.1)
    asked = max(result.retry_after or 0, min(result.max_age or 0, MAX_AGE_CAP.total_seconds()))
    return now + max(delay, timedelta(seconds=asked))


async def record_feed_health(
    rt: Runtime, feed: FeedConfig, state: FeedState, result: PollResult, now: datetime
) -> None:
    """A `feed-health` alert when a feed reaches N consecutive failures, and when it recovers.

    Subscriptions receive them with `rules: [feed-health]`; the feed itself is never given up.
    """
    threshold = rt.config.feed_health_after
    failures = 0 if result.ok else state.consecutive_failures + 1
    if failures == threshold:
        title = f"Feed failing: {feed.url}"
        message = f"{threshold} polls in a row failed; last error: {result.error}"
        await alert_feed_health(rt, feed, title, message, "high", now)
    elif result.ok and state.consecutive_failures >= threshold:
        title = f"Feed recovered: {feed.url}"
        message = f"polled again after {state.consecutive_failures} failed polls"
        await alert_feed_health(rt, feed, title, message, "info", now)


async def record_extraction(rt: Runtime, feed: FeedConfig, failure: str | None) -> None:
    """A `feed-health` alert when a feed's pages fail extraction N times in a row (its alerts
    then read only the feed's summaries), and when one is extracted again. Counted per
    worker, in memory: a restart starts the count anew."""
    threshold = rt.config.feed_health_after
    earlier = rt.extraction_failures.pop(feed.url, 0)
    now = utcnow()
    if failure is not None:
        rt.extraction_failures[feed.url] = earlier + 1
        if earlier + 1 == threshold:
            message = f"{threshold} pages in a row could not be extracted; last: {failure}"
            await alert_feed_health(
                rt, feed, f"Extraction failing: {feed.url}", message, "high", now
            )
    elif earlier >= threshold:
        message = f"a page was extracted again after {earlier} failures"
        await alert_feed_health(rt, feed, f"Extraction recovered: {feed.url}", message, "info", now)


async def alert_feed_health(
    rt: Runtime, feed: FeedConfig, title: str, message: str, severity: str, now: datetime
) -> None:
    notice = Article(url=feed.url, title=title, text=message, feed_url=feed.url, tags=feed.tags)
    match = Match(rule=FEED_HEALTH, title="Feed health", severity=severity, snippets=(message,))

    def store() -> None:
        with rt.store.transaction() as conn:  # the notice and its alert together, or neither
            article_id, _, _ = rt.store.add_article(
                f"{FEED_HEALTH}:{title}:{now.isoformat()}", notice, now=now, conn=conn
            )
            # tagged only feed-health: topic subscriptions (tags: [humanitarian]) want none
            rt.store.add_alert(article_id, match, (FEED_HEALTH,), now=now, conn=conn)

    await rt.db(store)
    log.warning("%s: %s", title, message, extra={"feed_url": feed.url, "rule": FEED_HEALTH})


@dataclass(frozen=True)
class Claimed:
    """An entry this worker claimed (its identity in flight) with its article, to record."""

    identity: str
    article: Article
    alert: bool  # False for an entry too old on a feed's first poll: remembered, not alerted


async def claim_entry(
    rt: Runtime,
    feed: FeedConfig,
    entry: Entry,
    identity: str,
    report: CycleReport,
    *,
    first_poll: bool,
    now: datetime,
) -> Claimed | None:
    """Claim a new entry and load its article; None when it is known or another feed has it.
    The caller records it (`record_entry`) and then lets its identity go."""
    # feeds are polled concurrently: a story in two feeds must not be fetched twice meanwhile,
    # and another feed may have recorded it since this one's `known_identities`
    if identity in rt.in_flight:
        return None
    rt.in_flight.add(identity)  # before the store is asked: no other feed claims it meanwhile
    if await rt.db(rt.store.has_article, identity):
        rt.in_flight.discard(identity)
        return None
    too_old = (
        first_poll
        and entry.published is not None
        and now - entry.published > feed.first_poll_max_age
    )
    if too_old:  # remembered, so it is never alerted later, but not fetched
        return Claimed(identity, entry_article(entry, feed_url=feed.url, tags=feed.tags), False)
    article = await load_article(rt, feed, entry)
    report.articles += 1
    rt.metrics.articles.inc()
    return Claimed(identity, article, True)


async def record_entry(rt: Runtime, claim: Claimed, report: CycleReport, now: datetime) -> int:
    """Match a claimed entry's article, then store it with its alerts in one transaction: a
    crash halfway stores nothing, and the entry is new again at the next poll. Returns 1
    (one new item)."""
    article = claim.article
    if not claim.alert:
        await rt.db(rt.store.add_article, claim.identity, article, alerted=False, now=now)
        return 1
    rules = rt.rules  # one rule set for the whole article, even if a reload lands meanwhile
    matches = await match_in_thread(article, rules, now)  # before the transaction opens

    def store() -> dict[str, int] | None:
        """The article and its alerts in one transaction; None for a duplicate's text."""
        with rt.store.transaction() as conn:
            article_id, story_id, duplicate = rt.store.add_article(
                claim.identity, article, now=now, conn=conn
            )
            if duplicate:
                return None
            return {
                m.rule: record_alert(
                    rt, conn, rules.by_id[m.rule], article_id, story_id, article, m, now
                )
                for m in matches
            }

    by_rule = await rt.db(store)
    if by_rule is None:
        log.info(
            "same text as a stored article, not alerted again", extra={"article_url": article.url}
        )
        return 1
    alerted = 0
    for rule_id, count in by_rule.items():  # counted once the transaction holds
        rt.metrics.matches.labels(rule_id).inc()
        rt.metrics.alerts.labels(rule_id).inc(count)
        alerted += count
    report.alerts += alerted
    return 1


async def match_in_thread(article: Article, rules: RuleSet, now: datetime) -> list[Match]:
    """Match off the event loop (polls, deliveries and the heartbeat go on meanwhile), within
    MATCH_SECONDS: past it, the rules not yet run are skipped, and said so."""
    deadline = time.monotonic() + MATCH_SECONDS
    try:
        return await asyncio.to_thread(match_article, article, rules, now=now, deadline=deadline)
    except OutOfTime as exc:
        log.error(
            "matching took more than %.0f s: %s (the matches found are kept)",
            MATCH_SECONDS,
            exc,
            extra={"article_url": article.url},
        )
        return exc.matches


def _log_entry_failure(feed: FeedConfig, entry: Entry) -> None:
    log.exception(
        "entry failed: %s", entry.url, extra={"feed_url": feed.url, "article_url": entry.url}
    )


async def load_article(rt: Runtime, feed: FeedConfig, entry: Entry) -> Article:
    """The entry's article: the feed's full text, else the extracted page, else its summary."""
    base = entry_article(entry, feed_url=feed.url, tags=feed.tags)
    if not base.partial or not entry.url:
        return base
    extra = {"article_url": entry.url}
    try:  # a page the SSRF guard refuses is said so, not blamed on its robots.txt
        await check_url(entry.url, allow_private=rt.config.allow_private_networks)
    except UnsafeURLError as exc:
        log.warning("%s: the feed's summary stands in", exc, extra=extra)
        return base
    except OSError:
        pass  # the host does not resolve: the fetch below says so
    if rt.robots is not None and not await rt.robots.allowed(entry.url):
        log.info("robots.txt disallows the page: the feed's summary stands in", extra=extra)
        return base
    page = await fetch(rt.session, entry.url, allow_private=rt.config.allow_private_networks)
    if not page.ok:
        error = page.error or f"fetch: status {page.status}"
        rt.metrics.fetch_errors.labels(fetch_error_kind(error, page.status)).inc()
        log.warning("%s", error, extra=extra)
        return base
    with rt.metrics.extraction_seconds.time():
        extracted = await extraction.extract(rt.pool, page.body, page.final_url)
    if isinstance(extracted, extraction.ExtractFailure):
        log.warning("%s", extracted.reason, extra=extra)
        await record_extraction(rt, feed, extracted.reason)
        return base
    await record_extraction(rt, feed, None)
    return extracted.fill(base)


def record_alert(
    rt: Runtime,
    conn: Connection,
    rule: CompiledRule,
    article_id: int,
    story_id: int,
    article: Article,
    match: Match,
    now: datetime,
) -> int:
    """Store a match as an alert, in the article's transaction `conn`, unless the rule's
    alert policy says it is not news."""
    store = rt.store
    policy = rule.spec.alert
    tags = tuple(dict.fromkeys((*rule.spec.tags, *article.tags)))
    extra = {"rule": match.rule, "article_url": article.url}
    if policy == "once-per-story" and store.story_alerted(match.rule, story_id, conn=conn):
        log.info("story already alerted, not alerted again", extra=extra)
        return 0
    if policy != "new-figure":
        store.add_alert(article_id, match, tags, now=now, conn=conn)
        return 1
    key = figure_key(rule, match, story_id)
    values = [f.value for f in match.figures]
    known = store.known_figure_values(match.rule, key, values, conn=conn)
    if match.figures and all(f.value in known for f in match.figures):
        log.info("no new figure for %s, not alerted", key, extra=extra)
        return 0
    store.add_alert(
        article_id,
        match,
        tags,
        previous=tuple(store.previous_figures(match.rule, key, now=now, conn=conn)),
        figure_key=key,
        now=now,
        reported=article.published,
        conn=conn,
    )
    return 1


def figure_key(rule: CompiledRule, match: Match, story_id: int) -> str:
    """What a `new-figure` rule tracks its figures per: the value of its `key` capture, else
    the place written beside the figure, else the story (an equal number elsewhere is news)."""
    for name in (rule.spec.key, PLACE_CAPTURE):
        if name and match.captures.get(name):
            return f"{name}:{match.captures[name][0].casefold()}"
    return f"story:{story_id}"
