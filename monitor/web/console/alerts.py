"""The Alerts page: what fired, newest first, filtered by rule, feed, subscription, severity
and date, searched over titles and snippets (store/search.py), in keyset pages.

The filters are one GET form, so a filtered page is a link to share and works without
JavaScript; the page links carry the filters and `before=`/`after=` (an alert id).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import get_args
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from multidict import MultiMapping

from monitor.config import Config
from monitor.rules.schema import Severity
from monitor.store import Store
from monitor.store.search import AlertFilter, AlertPage, Wanted
from monitor.web.app import CONFIG, STORE
from monitor.web.console.auth import viewer
from monitor.web.console.layout import render

# the severities, gravest first
SEVERITIES: tuple[str, ...] = tuple(reversed(get_args(Severity)))
# the form's fields (besides the page keys `before` and `after`)
FIELDS = ("q", "rule", "feed", "subscription", "severity", "since", "until")


@dataclass(frozen=True)
class Asked:
    """The form as sent (to fill it in again), what it asks the store for, and what in it
    could not be read."""

    values: dict[str, str]
    where: AlertFilter
    before: int | None
    after: int | None
    problems: tuple[str, ...]

    def link(self, **page: int) -> str:
        """This page's URL with its filters, at another page (`before=` or `after=`)."""
        query = {k: v for k, v in self.values.items() if v}
        query.update({k: str(v) for k, v in page.items()})
        return "/console/alerts" + (f"?{urlencode(query)}" if query else "")


def read_form(query: MultiMapping[str], config: Config) -> Asked:
    values = {name: query.get(name, "").strip() for name in FIELDS}
    problems: list[str] = []

    def day(name: str, label: str) -> date | None:
        if not values[name]:
            return None
        try:
            return date.fromisoformat(values[name])
        except ValueError:
            problems.append(f"{label}: not a date (say YYYY-MM-DD)")
            return None

    def key(name: str) -> int | None:
        text = query.get(name, "")
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) < 19:
            return int(text)
        problems.append(f"{name}: not an alert id")
        return None

    wanted = None
    if values["subscription"]:
        subscription = next(
            (s for s in config.subscriptions if s.name == values["subscription"]), None
        )
        if subscription is None:
            problems.append(f"subscription: no subscription is called {values['subscription']}")
        else:
            wanted = Wanted(subscription.rules, subscription.tags)
    if values["severity"] and values["severity"] not in SEVERITIES:
        problems.append(f"severity: say one of {', '.join(SEVERITIES)}")
    since, until = day("since", "from"), day("until", "to")
    where = AlertFilter(
        rule=values["rule"] or None,
        feed=values["feed"] or None,
        wanted=wanted,
        severity=values["severity"] or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        # "to" is a whole day: alerts before the next one
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
        text=values["q"],
    )
    return Asked(values, where, key("before"), key("after"), tuple(problems))


def web_link(url: str | None) -> str | None:
    """An article's URL as a link, when it is one a browser may follow (http or https)."""
    if url and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def _read(store: Store, asked: Asked) -> tuple[AlertPage, list[str]]:
    if asked.problems:
        page = AlertPage((), None, None)
    else:
        page = store.alert_history(asked.where, before=asked.before, after=asked.after)
    return page, store.alert_rules()


@viewer
async def alerts_page(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    asked = read_form(request.query, config)
    page, rules = await asyncio.to_thread(_read, request.app[STORE], asked)
    if asked.values["rule"] and asked.values["rule"] not in rules:
        rules.append(asked.values["rule"])  # keep the form as it was sent
    return render(
        request,
        "console/alerts.html.j2",
        title="Alerts",
        code=400 if asked.problems else 200,
        asked=asked,
        page=page,
        rules=rules,
        severities=SEVERITIES,
        subscriptions=[s.name for s in config.subscriptions],
        web_link=web_link,
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/console/alerts", alerts_page)
