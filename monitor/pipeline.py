"""One cycle of the worker, as a recipe:

    poll due feeds -> for each new entry: fetch page -> extract -> match -> record alerts
    -> build the digests that are due -> deliver the outbox

Each step is a function over a `Runtime` (config, store, rules, HTTP session, extraction pool,
templates). Failures of one feed, page or delivery are recorded and logged; the cycle goes on.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import aiohttp
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor import extract as extraction
from monitor.config import Config, FeedConfig, SubscriptionConfig
from monitor.errors import UnsafeURLError
from monitor.feeds import entry_identity, plain_text, poll_feed
from monitor.fetch import fetch
from monitor.models import Article, Digest, Entry, Match, PollResult
from monitor.netguard import make_session
from monitor.notify import EmailNotifier, Notifier, SmtpSettings, WebhookNotifier
from monitor.render import RenderError, make_environment, render_digest
from monitor.rules.load import load_rules
from monitor.rules.match import RuleSet, match_article
from monitor.store import FeedState, Store, content_hash
from monitor.timeutil import utcnow

log = logging.getLogger("monitor.pipeline")

MAX_DELIVERY_ATTEMPTS = 8
DELIVERY_BACKOFF_BASE = timedelta(seconds=30)
DELIVERY_BACKOFF_CAP = timedelta(hours=1)
FEED_BACKOFF_CAP = timedelta(hours=6)
# A publisher's Cache-Control max-age is honoured up to this long.
MAX_AGE_CAP = timedelta(days=1)
# The built-in rule id of feed-health alerts.
FEED_HEALTH = "feed-health"
# Feeds polled at once; the session's per-host limit keeps this polite per publisher.
POLL_CONCURRENCY = 20


@dataclass
class Runtime:
    config: Config
    store: Store
    rules: RuleSet
    session: aiohttp.ClientSession
    pool: Executor | None
    templates: ImmutableSandboxedEnvironment = field(init=False)

    def __post_init__(self) -> None:
        self.templates = make_environment(self.config.templates_dir)


@dataclass
class CycleReport:
    feeds_polled: int = 0
    feeds_failed: int = 0
    articles: int = 0
    alerts: int = 0
    digests: int = 0
    delivered: int = 0
    delivery_failures: int = 0


@asynccontextmanager
async def open_runtime(
    config: Config, *, extract_workers: int | None = 0
) -> AsyncIterator[Runtime]:
    """Everything a cycle needs; `extract_workers=None` sizes the process pool to the cores,
    0 extracts in this process (tests, one-shot runs)."""
    rules = load_rules(config.rule_paths)
    store = Store(config.database_url)
    store.sync_feeds([f.url for f in config.feeds])
    # a subscription receives alerts recorded from the moment it is first seen
    for sub in config.subscriptions:
        store.subscription_state(sub.name)
    # the rule set lives as long as the worker: keep the garbage collector from rescanning it
    gc.freeze()
    pool = None if extract_workers == 0 else extraction.make_pool(extract_workers)
    session = make_session(allow_private=config.allow_private_networks)
    try:
        yield Runtime(config, store, rules, session, pool)
    finally:
        await session.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        store.close()


async def run_cycle(
    rt: Runtime, *, poll_all: bool = False, now: datetime | None = None
) -> CycleReport:
    """Poll what is due (everything with `poll_all`), match, build due digests, deliver."""
    now = now or utcnow()
    report = CycleReport()
    await poll_feeds(rt, report, poll_all=poll_all, now=now)
    build_digests(rt, report, now=now)
    await deliver(rt, report, now=now)
    log.info(
        "cycle done: %d feeds polled (%d failed), %d new articles, %d alerts, %d digests, "
        "%d delivered",
        report.feeds_polled,
        report.feeds_failed,
        report.articles,
        report.alerts,
        report.digests,
        report.delivered,
    )
    return report


# -- poll -> fetch -> extract -> match -> record ----------------------------------------------


async def poll_feeds(rt: Runtime, report: CycleReport, *, poll_all: bool, now: datetime) -> None:
    feeds_by_url = {f.url: f for f in rt.config.feeds}
    due = [
        state
        for state in rt.store.feed_states()
        if state.url in feeds_by_url
        and (poll_all or state.next_poll_at is None or state.next_poll_at <= now)
    ]
    limit = asyncio.Semaphore(POLL_CONCURRENCY)

    async def one(state: FeedState) -> None:
        async with limit:
            await poll_one(rt, feeds_by_url[state.url], state, report, now)

    await asyncio.gather(*(one(state) for state in due))


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
    first_poll = state.last_polled_at is None
    new_items = 0
    if result.ok:
        if result.warning:
            log.warning("%s", result.warning, extra={"feed_url": feed.url})
        for entry in result.entries:
            try:
                new_items += await process_entry(
                    rt, feed, entry, report, first_poll=first_poll, now=now
                )
            except Exception:  # one bad entry must not cost the rest of the feed
                log.exception(
                    "entry failed: %s",
                    entry.url,
                    extra={"feed_url": feed.url, "article_url": entry.url},
                )
    else:
        report.feeds_failed += 1
        log.warning("%s", result.error, extra={"feed_url": feed.url})
    if result.final_url:
        log.info("feed moved permanently to %s", result.final_url, extra={"feed_url": feed.url})
    rt.store.record_poll(state.id, result, next_poll(feed, state, result, now), new_items, now)
    record_feed_health(rt, feed, state, result, now)


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


def record_feed_health(
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
        severity = "high"
    elif result.ok and state.consecutive_failures >= threshold:
        title = f"Feed recovered: {feed.url}"
        message = f"polled again after {state.consecutive_failures} failed polls"
        severity = "info"
    else:
        return
    notice = Article(url=feed.url, title=title, text=message, feed_url=feed.url, tags=feed.tags)
    article_id, _ = rt.store.add_article(
        f"{FEED_HEALTH}:{feed.url}:{now.isoformat()}", notice, alerted=True, now=now
    )
    match = Match(rule=FEED_HEALTH, title="Feed health", severity=severity, snippets=(message,))
    rt.store.add_alert(article_id, match, (FEED_HEALTH, *feed.tags), now=now)
    log.warning("%s: %s", title, message, extra={"feed_url": feed.url, "rule": FEED_HEALTH})


async def process_entry(
    rt: Runtime,
    feed: FeedConfig,
    entry: Entry,
    report: CycleReport,
    *,
    first_poll: bool,
    now: datetime,
) -> int:
    """Record one entry once; returns 1 if it was new. Alerts only when it is new enough."""
    identity = entry_identity(entry)
    if rt.store.has_article(identity):
        return 0
    too_old = (
        first_poll
        and entry.published is not None
        and now - entry.published > feed.first_poll_max_age
    )
    if too_old:  # remembered, so it is never alerted later, but not fetched
        summary_only = Article(
            url=entry.url or identity,
            title=entry.title,
            text=entry.summary,
            feed_url=feed.url,
            published=entry.published,
            partial=True,
        )
        rt.store.add_article(identity, summary_only, alerted=False, now=now)
        return 1
    article = await load_article(rt, feed, entry)
    report.articles += 1
    duplicate = not article.partial and rt.store.has_content(content_hash(article.text))
    article_id, story_id = rt.store.add_article(identity, article, alerted=not duplicate, now=now)
    if duplicate:
        log.info(
            "same text as a stored article, not alerted again", extra={"article_url": article.url}
        )
        return 1
    for match in match_article(article, rt.rules, now=now):
        report.alerts += record_alert(rt, article_id, story_id, article, match, now)
    return 1


async def load_article(rt: Runtime, feed: FeedConfig, entry: Entry) -> Article:
    """The entry's article: the feed's full text, else the extracted page, else its summary."""
    base = Article(
        url=entry.url or "",
        title=entry.title,
        text=entry.summary,
        summary=entry.summary,
        published=entry.published,
        feed_url=feed.url,
        tags=feed.tags,
        partial=True,
    )
    if entry.content:
        return replace(base, text=plain_text(entry.content), partial=False)
    if not entry.url:
        return base
    try:
        page = await fetch(rt.session, entry.url, allow_private=rt.config.allow_private_networks)
    except UnsafeURLError as exc:
        page = None
        log.warning("%s", exc, extra={"article_url": entry.url})
    if page is None or not page.ok:
        if page is not None:
            log.warning(
                "%s", page.error or f"fetch: status {page.status}", extra={"article_url": entry.url}
            )
        return base
    extracted = await extraction.extract(rt.pool, page.body, page.final_url)
    if isinstance(extracted, extraction.ExtractFailure):
        log.warning("%s", extracted.reason, extra={"article_url": entry.url})
        return base
    return replace(
        base,
        title=entry.title or extracted.title or "",
        text=extracted.text,
        # the feed's date wins: pages often show the first publication, feeds the update
        published=entry.published or extracted.published,
        site_name=extracted.site_name,
        language=extracted.language,
        partial=False,
    )


def record_alert(
    rt: Runtime, article_id: int, story_id: int, article: Article, match: Match, now: datetime
) -> int:
    """Store a match as an alert unless the rule's alert policy says it is not news."""
    rule = rt.rules.get(match.rule)
    policy = rule.spec.alert if rule else "every"
    tags = tuple(dict.fromkeys((*(rule.spec.tags if rule else ()), *article.tags)))
    extra = {"rule": match.rule, "article_url": article.url}
    if policy == "once-per-story" and rt.store.story_alerted(match.rule, story_id):
        log.info("story already alerted, not alerted again", extra=extra)
        return 0
    if policy != "new-figure":
        rt.store.add_alert(article_id, match, tags, now=now)
        return 1
    key_capture = rule.spec.key if rule else None
    key = (match.captures.get(key_capture) or ("",))[0] if key_capture else ""
    previous = rt.store.previous_figures(match.rule, key)
    known = {f.value for f in previous}
    if match.figures and all(f.value in known for f in match.figures):
        log.info("no new figure, not alerted", extra=extra)
        return 0
    rt.store.add_alert(article_id, match, tags, previous=tuple(previous), figure_key=key, now=now)
    return 1


# -- digests and delivery -------------------------------------------------------------------


def build_digests(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Each subscription whose schedule is due gets one digest of its new alerts in the outbox."""
    for sub in rt.config.subscriptions:
        cursor, since = rt.store.subscription_state(sub.name, now)
        if not sub.schedule.is_due(since, now):
            continue
        alerts = rt.store.alerts_after(cursor)
        wanted = tuple(a for a in alerts if sub.wants(a.match.rule, a.tags))
        if not wanted:
            rt.store.advance_subscription(sub.name, alerts[-1].id if alerts else cursor, now)
            continue
        digest = Digest(sub.name, wanted, now)
        try:
            message = render_digest(rt.templates, digest)
        except RenderError as exc:
            log.error("%s", exc, extra={"subscription": sub.name})
            continue  # the alerts stay pending: fixing the template sends them
        key = rt.store.enqueue_digest(sub.name, [a.id for a in wanted], alerts[-1].id, message, now)
        report.digests += 1
        log.info(
            "digest queued: %d alerts",
            len(wanted),
            extra={"subscription": sub.name, "delivery_id": key},
        )


def notifier_for(rt: Runtime, sub: SubscriptionConfig) -> Notifier:
    if sub.webhook is not None:
        return WebhookNotifier(
            sub.webhook.url, sub.webhook.format, sub.webhook.secret, session=rt.session
        )
    smtp = rt.config.smtp
    assert smtp is not None  # the config refuses email subscriptions without smtp
    settings = SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        starttls=smtp.starttls,
        use_tls=smtp.tls,
        username=smtp.username,
        password=smtp.password,
        sender=smtp.sender,
        timeout=smtp.timeout,
    )
    return EmailNotifier(settings, list(sub.email))


async def deliver(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Send every due outbox row; failures retry with backoff and jitter, or dead-letter."""
    subscriptions = {s.name: s for s in rt.config.subscriptions}
    for row in rt.store.due_deliveries(now):
        extra = {"subscription": row.subscription, "delivery_id": row.key}
        sub = subscriptions.get(row.subscription)
        if sub is None:
            rt.store.mark_failed(row.id, "subscription no longer configured", None)
            log.error("subscription no longer configured: digest dead-lettered", extra=extra)
            continue
        digest = Digest(row.subscription, tuple(rt.store.alerts_by_id(list(row.alert_ids))), now)
        result = await notifier_for(rt, sub).send(row.message, digest, idempotency_key=row.key)
        if result.ok:
            rt.store.mark_sent(row.id, now)
            report.delivered += 1
            log.info("delivered %s", result.detail, extra=extra)
            continue
        report.delivery_failures += 1
        attempts = row.attempts + 1
        if result.retryable and attempts < MAX_DELIVERY_ATTEMPTS:
            retry_at = now + retry_delay(attempts, result.retry_after)
            rt.store.mark_failed(row.id, result.detail, retry_at)
            log.warning(
                "delivery failed, retry at %s: %s", retry_at.isoformat(), result.detail, extra=extra
            )
        else:
            rt.store.mark_failed(row.id, result.detail, None)
            log.error("delivery failed for good: %s", result.detail, extra=extra)


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with full jitter, capped; a server's Retry-After is a floor."""
    ceiling = min(DELIVERY_BACKOFF_BASE * 2 ** (attempts - 1), DELIVERY_BACKOFF_CAP)
    delay: timedelta = ceiling * random.uniform(0.5, 1.0)
    return max(delay, timedelta(seconds=retry_after or 0))
