"""Subscriptions in the console: where each goes, its schedule and next digest, who left or
muted what, the next digest as it would be queued, and "send a test message".

The preview is the planner and channels of the worker (`worker.deliver.render_plan`), writing
nothing. A test message is one fixed test story, rendered by the subscription's own channel
and sent at once to every target, outside the outbox: it says whether the way to the
subscriber works, not what the next digest holds.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from aiohttp import web

from monitor.channels import email as email_channel
from monitor.channels.base import Envelope
from monitor.channels.http import post
from monitor.channels.registry import WEBHOOK_FORMATS
from monitor.channels.smtp import send_batch
from monitor.config import Config, SubscriptionConfig
from monitor.digest.plan import DigestPlan, group_stories
from monitor.digest.render import make_environment, render_digest
from monitor.intake.netguard import make_session
from monitor.models import Alert, DeliveryResult, Match
from monitor.status import SubscriptionStatus, gather
from monitor.store import NewDelivery, Store, Unsubscribe
from monitor.timeutil import utcnow
from monitor.web.app import CONFIG, STORE
from monitor.web.console.auth import operator, viewer
from monitor.web.console.layout import render
from monitor.worker.deliver import plan_pending, render_plan


@dataclass(frozen=True)
class Preview:
    deliveries: list[NewDelivery]
    # the first delivery as a reader sees it: (subject, text) of an email, or the JSON body
    subject: str
    text: str
    html: str | None


def _find(config: Config, name: str) -> SubscriptionConfig:
    sub = next((s for s in config.subscriptions if s.name == name), None)
    if sub is None:
        raise web.HTTPNotFound(text=f"no subscription {name!r} in the config")
    return sub


def where_to(sub: SubscriptionConfig) -> str:
    """The targets as the page shows them: addresses, or the webhook's format and host (a
    chat webhook's URL is a secret)."""
    if sub.webhook is None:
        return ", ".join(sub.email)
    from urllib.parse import urlsplit

    return f"{sub.webhook.format} webhook at {urlsplit(sub.webhook.url).hostname}"


def preview(config: Config, store: Store, sub: SubscriptionConfig) -> Preview | None:
    """The subscription's next digest, planned and rendered as the worker would; None when
    nothing is pending."""
    cursor, _ = store.peek_subscription(sub.name)
    plan, _ = plan_pending(store, sub, cursor, utcnow())
    if not plan.digests:
        return None
    deliveries = render_plan(config, make_environment(config.templates_dir), sub, plan)
    if not deliveries:
        return None
    return _shown(deliveries)


def _shown(deliveries: list[NewDelivery]) -> Preview:
    first = deliveries[0]
    if first.channel != "email":
        body = json.dumps(json.loads(first.body), indent=2, ensure_ascii=False)
        return Preview(deliveries, first.subject, body, None)
    message = BytesParser(policy=policy.default).parsebytes(first.body)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return Preview(
        deliveries,
        str(message["Subject"]),
        text.get_content() if text is not None else "",
        html.get_content() if html is not None else None,
    )


def test_plan(sub: SubscriptionConfig, target: str) -> DigestPlan:
    match = Match(
        rule="test",
        title="Test message",
        severity="info",
        snippets=("If you can read this, news-monitor can reach this subscription.",),
        summary="test message",
    )
    now = utcnow()
    alert = Alert(0, "https://example.org/", "Test message from news-monitor", now, None, match)
    return DigestPlan(sub.name, target, now, tuple(group_stories([alert])))


async def send_test(config: Config, sub: SubscriptionConfig) -> list[tuple[str, DeliveryResult]]:
    """The test story, sent now to every target of `sub`."""
    if sub.webhook is not None:
        plan = test_plan(sub, "webhook")
        key = f"test_{uuid.uuid4().hex}"
        payload = WEBHOOK_FORMATS[sub.webhook.format](plan, Envelope(key))
        async with make_session(allow_private=config.allow_private_networks) as session:
            result = await post(
                session,
                sub.webhook.url,
                payload.body,
                idempotency_key=key,
                secret=sub.webhook.secret,
                content_type=payload.content_type,
            )
        return [(where_to(sub), result)]
    assert config.smtp is not None  # the config refuses email without smtp
    messages = []
    env = make_environment(config.templates_dir)
    for address in sub.email:
        plan = test_plan(sub, address)
        envelope = Envelope(f"test_{uuid.uuid4().hex}")
        message = await asyncio.to_thread(render_digest, env, plan)
        payload = email_channel.compose(
            plan, envelope, message, settings=config.smtp, recipient=address
        )
        messages.append((address, payload.body))
    results = await send_batch(config.smtp, messages)
    return list(zip(sub.email, results, strict=True))


def _listing(config: Config, store: Store) -> tuple[list[SubscriptionStatus], list[Unsubscribe]]:
    return gather(config, store).subscriptions, store.unsubscribes()


@viewer
async def subscriptions(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    statuses, choices = await asyncio.to_thread(_listing, config, request.app[STORE])
    rows = [
        (sub, where_to(sub), status, [c for c in choices if c.subscription == sub.name])
        for sub, status in zip(config.subscriptions, statuses, strict=True)
    ]
    return render(request, "console/subscriptions.html.j2", title="Subscriptions", rows=rows)


async def _page(request: web.Request) -> web.Response:
    """One subscription's page: its next digest, and (after a POST) what the test message
    just did."""
    config = request.app[CONFIG]
    sub = _find(config, request.match_info["name"])
    results = await send_test(config, sub) if request.method == "POST" else None
    shown = await asyncio.to_thread(preview, config, request.app[STORE], sub)
    return render(
        request,
        "console/subscription.html.j2",
        title=f"Subscription {sub.name}",
        sub=sub,
        where=where_to(sub),
        preview=shown,
        results=results,
    )


@viewer
async def subscription(request: web.Request) -> web.Response:
    return await _page(request)


@viewer
async def preview_html(request: web.Request) -> web.Response:
    """The next email's HTML part alone, sandboxed: no script, no form, nothing loaded."""
    config = request.app[CONFIG]
    sub = _find(config, request.match_info["name"])
    shown = await asyncio.to_thread(preview, config, request.app[STORE], sub)
    if shown is None or shown.html is None:
        raise web.HTTPNotFound(text="no email digest is pending for this subscription")
    response = web.Response(text=shown.html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response


@operator
async def test(request: web.Request) -> web.Response:
    return await _page(request)


def routes(app: web.Application) -> None:
    app.router.add_get("/console/subscriptions", subscriptions)
    app.router.add_get("/console/subscriptions/{name}", subscription)
    app.router.add_get("/console/subscriptions/{name}/preview.html", preview_html)
    app.router.add_post("/console/subscriptions/{name}/test", test)
