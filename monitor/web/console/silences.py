"""The console's silences: those in force and those ended (who, why, until when), a form to
add one that first shows what it would have hidden over the last week, and "end now".

    GET  /console/silences                 the lists, and the form (prefilled from
                                           ?scope=rule&value=ceasefire&subscription=desk)
    POST /console/silences                 preview=1: what it would have hidden, and a
                                           button to save it; confirm=1: save it
    POST /console/silences/{id}/expire     end it now

Changing anything takes the operator's login; every form carries the CSRF token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.digest.silences import (
    PREVIEW_WINDOW,
    SCOPES,
    InvalidSilence,
    Known,
    Silence,
    ends_at,
    normalized,
    wanted_by,
)
from monitor.errors import LocatedError
from monitor.models import Alert
from monitor.rules.load import load_rules, rule_files
from monitor.timeutil import utcnow
from monitor.web.app import CONFIG, STORE
from monitor.web.console.auth import operator, viewer
from monitor.web.console.layout import render

PATH = "/console/silences"
EXPIRED_SHOWN = 50
# the preview lists this many of the alerts it counts
PREVIEW_SHOWN = 100
# what the config and rules provide, read once (`known`)
KNOWN = web.AppKey("console_silences_known", dict)


@dataclass(frozen=True)
class Draft:
    """The form's fields, as typed."""

    scope: str = "rule"
    value: str = ""
    subscription: str = ""
    for_text: str = "2h"
    until_text: str = ""
    comment: str = ""
    author: str = ""

    @classmethod
    def of(cls, form: Mapping[str, Any]) -> Draft:
        given = {f.name: str(form[f.name]) for f in fields(cls) if f.name in form}
        return cls(**given)


@viewer
async def silences_page(request: web.Request) -> web.Response:
    prefilled = ("scope", "value", "subscription")  # links from other pages
    draft = Draft.of({k: v for k, v in request.query.items() if k in prefilled})
    note = None
    for key, said in (("saved", "saved"), ("ended", "ended")):
        if request.query.get(key, "").isdigit():
            note = f"Silence {int(request.query[key])} {said}."
    return await _page(request, draft, note=note)


@operator
async def add_silence(request: web.Request) -> web.Response:
    form = await request.post()
    draft = Draft.of(form)
    try:
        silence = await asyncio.to_thread(_checked, request, draft)
    except InvalidSilence as exc:
        return await _page(request, draft, problem=str(exc), code=400)
    store = request.app[STORE]
    if form.get("confirm"):
        saved = await asyncio.to_thread(
            store.add_silence,
            silence.scope,
            silence.value,
            ends_at=silence.ends_at,
            comment=silence.comment,
            author=silence.author,
            subscription=silence.subscription,
            now=silence.created_at,
        )
        raise web.HTTPSeeOther(f"{PATH}?saved={saved.id}")
    config = request.app[CONFIG]
    audience = [s for s in config.subscriptions if silence.subscription in (None, s.name)]
    hidden = await asyncio.to_thread(
        store.silence_preview, silence, now=silence.created_at, wants=wanted_by(audience)
    )
    return await _page(request, draft, preview=silence, hidden=hidden)


@operator
async def expire_silence(request: web.Request) -> web.Response:
    silence_id = int(request.match_info["id"])
    store = request.app[STORE]
    ended = await asyncio.to_thread(store.expire_silence, silence_id)
    if ended is None:
        known = await asyncio.to_thread(store.silence, silence_id)
        problem = (
            f"There is no silence {silence_id}."
            if known is None
            else f"Silence {silence_id} had ended already."
        )
        return await _page(request, Draft(), problem=problem, code=404 if known is None else 409)
    raise web.HTTPSeeOther(f"{PATH}?ended={silence_id}")


def _checked(request: web.Request, draft: Draft) -> Silence:
    """The silence the form describes, as it would be saved now; InvalidSilence if not."""
    now = utcnow()
    # the form has a duration filled in: a time typed in "until" wins over it
    for_text = "" if draft.until_text.strip() else draft.for_text
    ends = ends_at(for_text, draft.until_text, now)
    scope, value, comment, author, subscription = normalized(
        draft.scope,
        draft.value,
        starts_at=now,
        ends_at=ends,
        comment=draft.comment,
        author=draft.author,
        subscription=draft.subscription or None,
    )
    problem = known(request.app).problem(scope, value, subscription)
    if problem:
        raise InvalidSilence(f"silence: {problem}")
    return Silence(0, subscription, scope, value, now, ends, comment, author, now)


def known(app: web.Application) -> Known:
    """What the config and its rules provide (off the event loop): the rules are read again
    only when a rule file changed (the Rules page saves edits into them)."""
    cache = app[KNOWN]
    config = app[CONFIG]
    version = _version(config.rule_paths)
    if cache.get("version") != version:
        try:
            rules = load_rules(config.rule_paths)
        except LocatedError:
            rules = None  # `monitor check` says why; rule ids and tags go unchecked
        cache.update(version=version, known=Known.of(config, rules))
    found: Known = cache["known"]
    return found


def _version(paths: Iterable[Path]) -> tuple[tuple[str, int], ...]:
    """Each rule file with when it last changed."""
    stamps = []
    for path in rule_files(paths):
        try:
            stamps.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            stamps.append((str(path), -1))
    return tuple(stamps)


async def _page(
    request: web.Request,
    draft: Draft,
    *,
    code: int = 200,
    note: str | None = None,
    problem: str | None = None,
    preview: Silence | None = None,
    hidden: list[Alert] | None = None,
) -> web.Response:
    lists = await asyncio.to_thread(_lists, request)
    return render(
        request,
        "console/silences.html.j2",
        title="Silences",
        code=code,
        now=lists[0],
        active=lists[1],
        expired=lists[2],
        known=lists[3],
        scopes=SCOPES,
        subscriptions=[s.name for s in request.app[CONFIG].subscriptions],
        draft=draft,
        note=note,
        problem=problem,
        preview=preview,
        hidden=(hidden or [])[:PREVIEW_SHOWN],
        hidden_count=len(hidden or []),
        preview_days=PREVIEW_WINDOW.days,
    )


def _lists(request: web.Request) -> tuple[datetime, list[Silence], list[Silence], Known]:
    store, now = request.app[STORE], utcnow()
    active = store.silences("active", now=now)
    expired = store.silences("expired", now=now, limit=EXPIRED_SHOWN)
    return now, active, expired, known(request.app)


def routes(app: web.Application) -> None:
    app[KNOWN] = {}
    app.router.add_get(PATH, silences_page)
    app.router.add_post(PATH, add_silence)
    app.router.add_post(PATH + r"/{id:\d+}/expire", expire_silence)
