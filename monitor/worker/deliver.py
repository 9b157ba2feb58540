"""Deliver: plan the digests that are due, render each target's copy into the outbox, then
send what the outbox holds.

Three steps: the planner (digest.plan, pure) says what each digest holds; each channel
renders it into the exact bytes its service takes, written to the outbox, one row per target,
in the transaction that moves the subscription's cursor; sending reads those bytes and
nothing else, so a retry is byte-identical. A send that fails is retried with exponential
backoff and jitter, or dead-lettered, per target: one failing address never holds up the
others, and an address that got its copy never gets it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from monitor.channels import email as email_channel
from monitor.channels.base import Envelope
from monitor.channels.http import post
from monitor.channels.registry import WEBHOOK_FORMATS
from monitor.channels.smtp import send_batch
from monitor.config import Config, SubscriptionConfig
from monitor.digest.plan import DigestPlan, Mutes, SubscriptionPlan, plan_subscription
from monitor.digest.render import BoundedEnvironment, RenderError, make_environment, render_digest
from monitor.digest.silences import hidden_text, split_silenced
from monitor.intake.fetch import MAX_RETRY_AFTER
from monitor.models import Alert, DeliveryResult, Message
from monitor.store import NewDelivery, OutboxRow, Store
from monitor.timeutil import utcnow
from monitor.web.tokens import digest_url, unsubscribe_url
from monitor.worker.runtime import CycleReport, Runtime

log = logging.getLogger("monitor.worker.deliver")

MAX_DELIVERY_ATTEMPTS = 8
# Deliveries sent at once in one pass, and at once to one target (a webhook host, the SMTP
# server: one connection each, carrying up to SMTP_BATCH messages).
DELIVERY_CONCURRENCY = 20
DELIVERY_PER_TARGET = 4
SMTP_BATCH = 20
DELIVERY_BACKOFF_BASE = timedelta(seconds=30)
DELIVERY_BACKOFF_CAP = timedelta(hours=1)
WEBHOOK_TARGET = "webhook"


def targets(sub: SubscriptionConfig) -> tuple[str, ...]:
    """Where a subscription's digests go: each email address, or its one webhook."""
    return sub.email if sub.webhook is None else (WEBHOOK_TARGET,)


def plan_pending(
    store: Store, sub: SubscriptionConfig, cursor: int, now: datetime
) -> tuple[SubscriptionPlan, list[Alert]]:
    """The digests of the subscription's alerts after `cursor` as the worker plans them:
    silenced alerts left out (the cursor moves past them all the same), mutes applied per
    target. Also the alerts silenced. The worker, `digest preview` and the console share it."""
    alerts = store.alerts_after(cursor)
    kept, hidden = split_silenced(alerts, store.active_silences(sub.name, now), now, sub.wants)
    plan = plan_subscription(
        sub.name, targets(sub), sub.wants, kept, cursor, now, store.mutes(sub.name)
    )
    return replace(plan, cursor=max((a.id for a in alerts), default=plan.cursor)), hidden


def plan_due(
    rt: Runtime, sub: SubscriptionConfig, cursor: int, since: datetime | None, now: datetime
) -> SubscriptionPlan | None:
    """The subscription's digests if its schedule is due (None if not, or nothing to write).
    `since` is the last digest's time (None: no digest yet, so due whenever anything is)."""
    if since is not None and not sub.schedule.is_due(since, now):
        return None
    plan, hidden = plan_pending(rt.store, sub, cursor, now)
    if plan.cursor == cursor and not plan.digests and sub.schedule.immediate:
        return None  # nothing new and no clock to restart: no write
    if hidden:
        log.info("silenced: %s", hidden_text(hidden), extra={"subscription": sub.name})
    return plan


async def build_digests(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Each due subscription gets its new stories in the outbox, one row per target (in parts
    after a busy day). Rendering runs off the event loop: an operator's template may take
    its whole time budget."""
    for sub in rt.config.subscriptions:
        cursor, since = await rt.db(rt.store.subscription_state, sub.name, now)
        plan = await rt.db(plan_due, rt, sub, cursor, since, now)
        if plan is None:
            continue
        deliveries = await asyncio.to_thread(render_plan, rt.config, rt.templates, sub, plan)
        if deliveries is None:
            continue  # the alerts stay pending: fixing the template sends them
        extra = {"subscription": sub.name}
        queued = await rt.db(
            rt.store.enqueue_digests, sub.name, deliveries, plan.cursor, now, expected=cursor
        )
        if not queued:
            log.info("another worker queued this digest", extra=extra)
            continue
        digests = len({d.digest for d in deliveries})
        report.digests += digests
        if deliveries:
            log.info(
                "queued %d digest(s) of %d stories for %d target(s)",
                digests,
                len({s for d in deliveries for s in d.story_ids}),
                len({d.target for d in deliveries}),
                extra=extra,
            )


def render_plan(
    config: Config, templates: BoundedEnvironment, sub: SubscriptionConfig, plan: SubscriptionPlan
) -> list[NewDelivery] | None:
    """Every target's copy of every digest, as the bytes to send; None when even the
    shipped templates fail (nothing is queued, the alerts stay pending)."""
    deliveries: list[NewDelivery] = []
    digest_keys: dict[tuple[int, int], str] = {}
    for digest in plan.digests:
        # the copies of one digest (its part) share a digest key; each has its own id
        digest_key = digest_keys.setdefault((digest.part, digest.parts), f"dig_{uuid.uuid4().hex}")
        key = f"msg_{uuid.uuid4().hex}"
        envelope = _envelope(config, sub, digest, key, digest_key)
        if sub.webhook is not None:
            channel = sub.webhook.format
            payload = WEBHOOK_FORMATS[channel](digest, envelope)
        else:
            channel = "email"
            message = _render_email(config, templates, sub, digest, envelope)
            if message is None:
                return None
            assert config.smtp is not None  # the config refuses email without smtp
            payload = email_channel.compose(
                digest, envelope, message, settings=config.smtp, recipient=digest.target
            )
        deliveries.append(
            NewDelivery(
                key=key,
                digest=digest_key,
                channel=channel,
                target=digest.target,
                subject=payload.subject,
                body=payload.body,
                content_type=payload.content_type,
                alert_ids=digest.alert_ids,
                story_ids=tuple(s.id for s in digest.stories),
            )
        )
    return deliveries


def _envelope(
    config: Config, sub: SubscriptionConfig, digest: DigestPlan, key: str, digest_key: str
) -> Envelope:
    """The links of one delivery, where the worker's web endpoint can serve them: a chat
    message's "…and N more" opens the whole digest; an email unsubscribes its recipient."""
    http, smtp = config.http, config.smtp
    site = (http.public_url, http.secret) if http and http.public_url and http.secret else None
    if sub.webhook is not None:
        return Envelope(key, more_url=digest_url(*site, key) if site else None)
    url = unsubscribe_url(*site, sub.name, digest.target, digest_key) if site else None
    mailto = None
    if smtp is not None and smtp.unsubscribe_mailto:
        subject = quote(f"unsubscribe {sub.name} {digest.target}")
        mailto = f"mailto:{smtp.unsubscribe_mailto}?subject={subject}"
    return Envelope(key, unsubscribe_url=url, unsubscribe_mailto=mailto)


def _render_email(
    config: Config,
    templates: BoundedEnvironment,
    sub: SubscriptionConfig,
    digest: DigestPlan,
    envelope: Envelope,
) -> Message | None:
    """Render with the operator's templates; if they fail, with the shipped ones, so that a
    template mistake delays no alert. None only if even the shipped templates fail."""
    zone = sub.schedule.timezone
    environments = [templates]
    if config.templates_dir is not None:
        environments.append(make_environment(None))
    for env in environments:
        try:
            return render_digest(env, digest, zone=zone, unsubscribe_url=envelope.unsubscribe_url)
        except RenderError as exc:
            log.error("%s", exc, extra={"subscription": sub.name})
    return None


async def deliver(rt: Runtime, report: CycleReport, *, now: datetime) -> None:
    """Send every due outbox row, concurrently: a few connections at a time per target (the
    SMTP server, a webhook host) and `DELIVERY_CONCURRENCY` rows in all, so one slow or
    failing target delays nobody else; rows are claimed as there is room for them. Email
    rows go out in batches over one SMTP connection."""
    everyone = asyncio.Semaphore(DELIVERY_CONCURRENCY)
    per_target: dict[str, asyncio.Semaphore] = {}

    async def bounded(target: str, rows: list[OutboxRow]) -> None:
        one_target = per_target.setdefault(target, asyncio.Semaphore(DELIVERY_PER_TARGET))
        # the target's own slot first: rows waiting for a busy host hold no place of others
        async with one_target, everyone:
            try:
                await _send_rows(rt, report, rows, now)
            except Exception:  # e.g. the store failed: the rows' leases run out, they retry
                log.exception("delivery failed", extra={"delivery_id": rows[0].key})
                # else the heartbeat would renew them for as long as this worker runs
                with contextlib.suppress(Exception):
                    await rt.db(rt.store.let_leases_lapse, [row.id for row in rows])

    # claim only as many rows as there is room to send: the rest stay free for other workers
    sending: set[asyncio.Task[None]] = set()
    try:
        while True:
            room = DELIVERY_CONCURRENCY - len(sending)
            claimed = (
                await rt.db(rt.store.due_deliveries, now, limit=room * SMTP_BATCH) if room else []
            )
            for target, rows in _batches(rt, claimed):
                sending.add(asyncio.create_task(bounded(target, rows)))
            if not sending:
                return
            _, sending = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # the worker is stopping: its sends stop now, not after the runtime closed under
        # them (a failed attempt counted, and backed off); their rows stay leased, and
        # retiring the worker frees them for the next one at once
        for task in sending:
            task.cancel()
        if sending:
            await asyncio.wait(sending)
        raise


def _batches(rt: Runtime, rows: list[OutboxRow]) -> list[tuple[str, list[OutboxRow]]]:
    """Email rows in batches of SMTP_BATCH (one connection each); a webhook row alone."""
    subscriptions = {s.name: s for s in rt.config.subscriptions}
    emails = [r for r in rows if r.channel == "email"]
    batches = [("smtp", emails[i : i + SMTP_BATCH]) for i in range(0, len(emails), SMTP_BATCH)]
    for row in rows:
        if row.channel != "email":
            sub = subscriptions.get(row.subscription)
            url = sub.webhook.url if sub is not None and sub.webhook is not None else ""
            batches.append(("webhook:" + (urlsplit(url).hostname or ""), [row]))
    return batches


async def _send_rows(
    rt: Runtime, report: CycleReport, rows: list[OutboxRow], now: datetime
) -> None:
    mutes: dict[str, dict[str, Mutes]] = {}  # read once per subscription for the batch
    sendable = [row for row in rows if await _still_wanted(rt, row, mutes)]
    if not sendable:
        return
    try:
        results = await _send(rt, sendable)
    except Exception as exc:  # a bug in one channel must not stop the others' deliveries
        log.exception("channel failed", extra={"delivery_id": sendable[0].key})
        failed = DeliveryResult(False, f"send: {type(exc).__name__}: {exc}", retryable=True)
        results = [failed] * len(sendable)
    for row, result in zip(sendable, results, strict=True):
        await _record(rt, report, row, result, now)


async def _send(rt: Runtime, rows: list[OutboxRow]) -> list[DeliveryResult]:
    """Send stored bytes: a batch of emails over one connection, or one webhook POST."""
    if rows[0].channel == "email":
        assert rt.config.smtp is not None
        return await send_batch(rt.config.smtp, [(r.target, r.body) for r in rows])
    (row,) = rows
    sub = next(s for s in rt.config.subscriptions if s.name == row.subscription)
    assert sub.webhook is not None
    result = await post(
        rt.webhook_session,
        sub.webhook.url,
        row.body,
        idempotency_key=row.key,
        secret=sub.webhook.secret,
        content_type=row.content_type,
    )
    return [result]


async def _still_wanted(rt: Runtime, row: OutboxRow, mutes: dict[str, dict[str, Mutes]]) -> bool:
    """Whether a claimed row is still to be sent from here; if not, it is settled now."""
    extra = {"subscription": row.subscription, "delivery_id": row.key}
    sub = next((s for s in rt.config.subscriptions if s.name == row.subscription), None)
    if sub is None or (row.channel == "email") != (sub.webhook is None):
        await rt.db(rt.store.mark_failed, row.id, "subscription no longer configured", None)
        rt.metrics.deliveries.labels(row.channel, "dead").inc()
        log.error("subscription no longer configured: delivery dead-lettered", extra=extra)
        return False
    if not await rt.db(
        rt.store.holds, row.id
    ):  # stalled past its lease: another worker has the row now
        log.warning("lease ran out before sending: left to the worker that holds it", extra=extra)
        return False
    if row.channel == "email":
        if row.subscription not in mutes:
            mutes[row.subscription] = await rt.db(rt.store.mutes, row.subscription)
        muted = mutes[row.subscription].get(row.target)
        if row.target not in sub.email or (muted is not None and muted.everything):
            reason = f"{row.target} unsubscribed or left the subscription"
            await rt.db(rt.store.mark_skipped, row.id, reason)
            rt.metrics.deliveries.labels(row.channel, "skipped").inc()
            log.info("not sent: %s unsubscribed", row.target, extra=extra)
            return False
    return True


async def _record(
    rt: Runtime, report: CycleReport, row: OutboxRow, result: DeliveryResult, now: datetime
) -> None:
    extra = {"subscription": row.subscription, "delivery_id": row.key}
    # retries count from the failed attempt, not from the start of the pass: a slow
    # target earlier in the pass must not bring the next attempt forward
    attempted_at = max(now, utcnow())
    counted = rt.metrics.deliveries
    if result.ok:
        await rt.db(rt.store.mark_sent, row.id, attempted_at)
        counted.labels(row.channel, "sent").inc()
        report.delivered += 1
        log.info("delivered %s", result.detail, extra=extra)
        return
    report.delivery_failures += 1
    attempts = row.attempts + 1
    if result.retryable and attempts < MAX_DELIVERY_ATTEMPTS:
        retry_at = attempted_at + retry_delay(attempts, result.retry_after)
        await rt.db(rt.store.mark_failed, row.id, result.detail, retry_at)
        counted.labels(row.channel, "retry").inc()
        log.warning(
            "delivery failed, retry at %s: %s", retry_at.isoformat(), result.detail, extra=extra
        )
    else:
        await rt.db(rt.store.mark_failed, row.id, result.detail, None)
        counted.labels(row.channel, "dead").inc()
        report.dead_lettered += 1
        log.error("delivery failed for good: %s", result.detail, extra=extra)


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff, capped, waiting 50-100% of it (jitter spreads retries of many
    rows); a server's Retry-After is a floor, up to a week."""
    ceiling = min(DELIVERY_BACKOFF_BASE * 2 ** (attempts - 1), DELIVERY_BACKOFF_CAP)
    delay: timedelta = ceiling * random.uniform(0.5, 1.0)
    return max(delay, timedelta(seconds=min(retry_after or 0, MAX_RETRY_AFTER)))
