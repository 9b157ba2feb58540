"""Deliver: put due digests in the outbox, then send what the outbox holds.

A digest's row is written (and its subscription's cursor moved) before anything is sent; a
send that fails is retried with exponential backoff and jitter, or dead-lettered. Each row's
key is its idempotency key (Message-ID, webhook-id), so receivers can drop a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from monitor.channels import EmailNotifier, Notifier, WebhookNotifier
from monitor.config import SubscriptionConfig
from monitor.digest.render import RenderError, make_environment, render_digest
from monitor.intake.fetch import MAX_RETRY_AFTER
from monitor.models import DeliveryResult, Digest, Message
from monitor.store import OutboxRow
from monitor.timeutil import utcnow
from monitor.worker.runtime import CycleReport, Runtime

log = logging.getLogger("monitor.worker.deliver")

MAX_DELIVERY_ATTEMPTS = 8
# A digest holds at most this many alerts; more go out as several digests in the same cycle.
MAX_DIGEST_ALERTS = 100
# Digests sent at once in one pass, and at once to one target (a webhook host, the SMTP server).
DELIVERY_CONCURRENCY = 20
DELIVERY_PER_TARGET = 4
DELIVERY_BACKOFF_BASE = timedelta(seconds=30)
DELIVERY_BACKOFF_CAP = timedelta(hours=1)


async def build_digests(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Each subscription whose schedule is due gets its new alerts in the outbox: one digest,
    or several of at most MAX_DIGEST_ALERTS after a busy day or a long outage. Digests render
    off the event loop (an operator's template may take its whole time budget)."""
    for sub in rt.config.subscriptions:
        cursor, since = rt.store.subscription_state(sub.name, now)
        if not sub.schedule.is_due(since, now):
            continue
        alerts = rt.store.alerts_after(cursor)
        if not alerts and sub.schedule.immediate:
            continue  # nothing new and no clock to restart: no write
        wanted = [a for a in alerts if sub.wants(a.match.rule, a.tags)]
        if not wanted:
            last = alerts[-1].id if alerts else cursor
            rt.store.advance_subscription(sub.name, last, now, expected=cursor)
            continue
        for start in range(0, len(wanted), MAX_DIGEST_ALERTS):
            chunk = wanted[start : start + MAX_DIGEST_ALERTS]
            final = start + MAX_DIGEST_ALERTS >= len(wanted)
            # the final digest also moves the cursor past the alerts nobody here wants
            moved_to = alerts[-1].id if final else chunk[-1].id
            message = await asyncio.to_thread(_render, rt, Digest(sub.name, tuple(chunk), now))
            if message is None:
                break  # the alerts stay pending: fixing the template sends them
            key = rt.store.enqueue_digest(
                sub.name, [a.id for a in chunk], moved_to, message, now, expected=cursor
            )
            extra = {"subscription": sub.name, "delivery_id": key}
            if key is None:
                log.info("another worker queued this digest", extra=extra)
                break
            cursor = moved_to
            report.digests += 1
            log.info("digest queued: %d alerts", len(chunk), extra=extra)


def _render(rt: Runtime, digest: Digest) -> Message | None:
    """Render with the operator's templates; if they fail, with the shipped ones, so that a
    template mistake delays no alert. None only if even the shipped templates fail."""
    try:
        return render_digest(rt.templates, digest)
    except RenderError as exc:
        log.error("%s", exc, extra={"subscription": digest.subscription})
    if rt.config.templates_dir is None:
        return None
    try:
        return render_digest(make_environment(None), digest)
    except RenderError as exc:
        log.error("%s", exc, extra={"subscription": digest.subscription})
        return None


def notifier_for(rt: Runtime, sub: SubscriptionConfig) -> Notifier:
    if sub.webhook is not None:
        return WebhookNotifier(
            sub.webhook.url, sub.webhook.format, sub.webhook.secret, session=rt.webhook_session
        )
    assert rt.config.smtp is not None  # the config refuses email subscriptions without smtp
    return EmailNotifier(rt.config.smtp, list(sub.email))


async def deliver(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Send every due outbox row, concurrently: a few at a time per target (host) and
    `DELIVERY_CONCURRENCY` in all, so one slow or failing target delays nobody else; rows are
    claimed as there is room for them. Failures retry with backoff and jitter, or
    dead-letter."""
    subscriptions = {s.name: s for s in rt.config.subscriptions}
    everyone = asyncio.Semaphore(DELIVERY_CONCURRENCY)
    per_target: dict[str, asyncio.Semaphore] = {}

    async def bounded(row: OutboxRow) -> None:
        sub = subscriptions.get(row.subscription)
        target = _target(sub) if sub is not None else ""
        one_target = per_target.setdefault(target, asyncio.Semaphore(DELIVERY_PER_TARGET))
        async with everyone, one_target:
            try:
                await _deliver_one(rt, report, row, sub, now)
            except Exception:  # e.g. the store failed: the row's lease runs out, it is retried
                log.exception("delivery failed", extra={"delivery_id": row.key})

    # claim only as many rows as there is room to send: the rest stay free for other workers
    sending: set[asyncio.Task[None]] = set()
    while True:
        room = DELIVERY_CONCURRENCY - len(sending)
        for row in rt.store.due_deliveries(now, limit=room) if room else []:
            sending.add(asyncio.create_task(bounded(row)))
        if not sending:
            return
        _, sending = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)


def _target(sub: SubscriptionConfig) -> str:
    """Where a subscription's digests go: a webhook's host, or the SMTP server."""
    if sub.webhook is not None:
        return "webhook:" + (urlsplit(sub.webhook.url).hostname or "")
    return "smtp"


async def _deliver_one(
    rt: Runtime,
    report: CycleReport,
    row: OutboxRow,
    sub: SubscriptionConfig | None,
    now: datetime,
) -> None:
    extra = {"subscription": row.subscription, "delivery_id": row.key}
    if sub is None:
        rt.store.mark_failed(row.id, "subscription no longer configured", None)
        log.error("subscription no longer configured: digest dead-lettered", extra=extra)
        return
    if not rt.store.holds(row.id):  # stalled past its lease: another worker has the row now
        log.warning("lease ran out before sending: left to the worker that holds it", extra=extra)
        return
    # the digest as it was queued: a retry is the same message (Date, created_at)
    alerts = tuple(rt.store.alerts_by_id(list(row.alert_ids)))
    digest = Digest(row.subscription, alerts, row.created_at)
    try:
        result = await notifier_for(rt, sub).send(row.message, digest, idempotency_key=row.key)
    except Exception as exc:  # a bug in one notifier must not stop the others' deliveries
        log.exception("notifier failed", extra=extra)
        result = DeliveryResult(False, f"notify: {type(exc).__name__}: {exc}", retryable=True)
    # retries count from the failed attempt, not from the start of the pass: a slow
    # target earlier in the pass must not bring the next attempt forward
    attempted_at = max(now, utcnow())
    if result.ok:
        rt.store.mark_sent(row.id, attempted_at)
        report.delivered += 1
        log.info("delivered %s", result.detail, extra=extra)
        return
    report.delivery_failures += 1
    attempts = row.attempts + 1
    if result.retryable and attempts < MAX_DELIVERY_ATTEMPTS:
        retry_at = attempted_at + retry_delay(attempts, result.retry_after)
        rt.store.mark_failed(row.id, result.detail, retry_at)
        log.warning(
            "delivery failed, retry at %s: %s", retry_at.isoformat(), result.detail, extra=extra
        )
    else:
        rt.store.mark_failed(row.id, result.detail, None)
        log.error("delivery failed for good: %s", result.detail, extra=extra)


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff, capped, waiting 50-100% of it (jitter spreads retries of many
    rows); a server's Retry-After is a floor, up to a week."""
    ceiling = min(DELIVERY_BACKOFF_BASE * 2 ** (attempts - 1), DELIVERY_BACKOFF_CAP)
    delay: timedelta = ceiling * random.uniform(0.5, 1.0)
    return max(delay, timedelta(seconds=min(retry_after or 0, MAX_RETRY_AFTER)))
