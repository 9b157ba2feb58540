"""The unsubscribe link of every email: `/unsubscribe/{token}?d={digest}`.

The signed token names one address of one subscription (`web.tokens`), so no login is
needed. GET only shows a confirmation page, which link scanners may fetch harmlessly; POST
acts: a mail client's one-click request (RFC 8058, body `List-Unsubscribe=One-Click`)
unsubscribes from everything, and the page's buttons unsubscribe, mute one rule or one story
of the digest `d`, or take that back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from monitor.digest.plan import Mutes
from monitor.web.app import CONFIG, STORE, page
from monitor.web.tokens import read_token

ROUTE = "/unsubscribe/{token}"
ONE_CLICK = "One-Click"
# the stories of one digest the page offers to mute, at most
MAX_STORIES_SHOWN = 20


@dataclass(frozen=True)
class Choice:
    """One thing the page lets the reader turn off: a rule or a story of the digest."""

    scope: str  # "rule" or "story"
    value: str
    label: str
    muted: bool


def mount(app: web.Application) -> None:
    app.router.add_get(ROUTE, show)
    app.router.add_post(ROUTE, act)


def _reader(request: web.Request) -> tuple[str, str]:
    """(subscription, address) of the link's token; 404 for anything not genuinely ours."""
    http = request.app[CONFIG].http
    secret = http.secret if http is not None else None
    found = read_token(secret, request.match_info["token"]) if secret else None
    if found is None:
        raise web.HTTPNotFound(text="This unsubscribe link is not valid.")
    return found


def _choices(request: web.Request, subscription: str, address: str, mutes: Mutes) -> list[Choice]:
    """The rules and stories of the digest the link came in (`?d=`), as sent to this address."""
    digest = request.query.get("d", "")
    store = request.app[STORE]
    ids = store.received_alerts(subscription, address, digest) if digest else []
    rules: dict[str, str] = {}
    stories: dict[int, str] = {}
    for alert in store.alerts_by_id(ids):
        rules.setdefault(alert.match.rule, alert.match.title)
        stories.setdefault(alert.story_id or -alert.id, alert.article_title or alert.article_url)
    return [
        *(Choice("rule", rule, title, rule in mutes.rules) for rule, title in rules.items()),
        *(
            Choice("story", str(story), headline, story in mutes.stories)
            for story, headline in list(stories.items())[:MAX_STORIES_SHOWN]
        ),
    ]


def _render(
    request: web.Request, subscription: str, address: str, done: str = "", status: int = 200
) -> web.Response:
    mutes = request.app[STORE].mutes(subscription).get(address, Mutes())
    configured = any(s.name == subscription for s in request.app[CONFIG].subscriptions)
    return page(
        request,
        "unsubscribe.html.j2",
        status=status,
        subscription=subscription,
        address=address,
        configured=configured,
        unsubscribed=mutes.everything,
        choices=_choices(request, subscription, address, mutes),
        action=request.path_qs,
        done=done,
    )


async def show(request: web.Request) -> web.Response:
    subscription, address = _reader(request)
    return await asyncio.to_thread(_render, request, subscription, address)


async def act(request: web.Request) -> web.Response:
    subscription, address = _reader(request)
    form = await request.post()
    # the store in a thread, as everywhere in the worker: a slow database stalls no one else
    return await asyncio.to_thread(_act, request, subscription, address, form)


def _act(
    request: web.Request, subscription: str, address: str, form: Mapping[str, object]
) -> web.Response:
    store = request.app[STORE]
    if form.get("List-Unsubscribe") == ONE_CLICK:
        store.unsubscribe(subscription, address)
        return web.Response(text=f"{address} is unsubscribed from {subscription}.\n")
    scope, value = str(form.get("scope", "")), str(form.get("value", ""))
    if scope == "all":
        value = ""
    elif scope in ("rule", "story"):
        offered = _choices(request, subscription, address, Mutes())
        if not any(c.scope == scope and c.value == value for c in offered):
            raise web.HTTPBadRequest(text=f"this digest has no {scope} {value!r} to mute")
    else:
        raise web.HTTPBadRequest(text="say what to unsubscribe from: scope all, rule or story")
    if form.get("undo"):
        store.resubscribe(subscription, address, scope, value)
        done = "undone"
    else:
        store.unsubscribe(subscription, address, scope, value)
        done = scope
    return _render(request, subscription, address, done=done)
