"""The whole of one delivered digest, `/digest/{token}`: where a chat message's "…and N more
stories" links to, since chat services take only so much.

The token signs the delivery's key (`web.tokens.digest_url`), so only those who received the
message can open the page. It shows the digest as planned, with the shipped HTML template.
"""

from __future__ import annotations

import asyncio
from datetime import UTC

from aiohttp import web

from monitor.digest.plan import DigestPlan, group_stories
from monitor.digest.render import make_environment, render_digest
from monitor.web.app import CONFIG, STORE
from monitor.web.tokens import DIGEST, verify

ROUTE = "/digest/{token}"


def mount(app: web.Application) -> None:
    app.router.add_get(ROUTE, show)


def _plan(request: web.Request) -> DigestPlan:
    config = request.app[CONFIG]
    secret = config.http.secret if config.http is not None else None
    fields = verify(secret, DIGEST, request.match_info["token"], 1) if secret else None
    store = request.app[STORE]
    row = store.delivery(fields[0]) if fields else None
    if row is None:
        raise web.HTTPNotFound(text="This digest link is not valid.")
    wanted = set(row.story_ids)
    stories = [s for s in group_stories(store.alerts_by_id(list(row.alert_ids))) if s.id in wanted]
    return DigestPlan(row.subscription, row.target, row.created_at, tuple(stories))


async def show(request: web.Request) -> web.Response:
    plan = await asyncio.to_thread(_plan, request)
    sub = next((s for s in request.app[CONFIG].subscriptions if s.name == plan.subscription), None)
    zone = sub.schedule.timezone if sub is not None else UTC
    message = await asyncio.to_thread(render_digest, make_environment(None), plan, zone=zone)
    return web.Response(text=message.html, content_type="text/html", charset="utf-8")
