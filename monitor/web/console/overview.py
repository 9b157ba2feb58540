"""The console's first page: is everything running? Workers and their last cycle, feeds by
health (failing first), the outbox, each subscription's last and next digest, and alerts per
hour over the last three days."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import func, select

from monitor.status import Status, gather
from monitor.store import Store
from monitor.store.schema import alerts
from monitor.timeutil import as_utc, utcnow
from monitor.web.app import CONFIG, STORE
from monitor.web.console.auth import viewer
from monitor.web.console.layout import render

CHART_HOURS = 72
# feeds listed by name: those that need a look (failing, never polled), at most this many
FEEDS_LISTED = 100


@dataclass(frozen=True)
class HourlyChart:
    """Alerts per hour, oldest first, with the SVG bars already placed."""

    counts: tuple[int, ...]
    start: datetime
    width: int = 720
    height: int = 120

    @property
    def most(self) -> int:
        return max(self.counts, default=0)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def bars(self) -> list[tuple[float, float, float, int, datetime]]:
        """(x, y, height, count, hour) of each bar."""
        step = self.width / max(len(self.counts), 1)
        top = self.most or 1
        placed = []
        for i, count in enumerate(self.counts):
            h = (self.height - 16) * count / top
            placed.append((i * step, self.height - h, h, count, self.start + timedelta(hours=i)))
        return placed


def alerts_per_hour(store: Store, now: datetime, hours: int = CHART_HOURS) -> HourlyChart:
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    if store.engine.dialect.name == "sqlite":
        hour = func.strftime("%Y-%m-%d %H", alerts.c.created_at)
    else:
        hour = func.to_char(func.date_trunc("hour", alerts.c.created_at), "YYYY-MM-DD HH24")
    query = select(hour, func.count()).where(alerts.c.created_at >= start).group_by(hour)
    with store.engine.connect() as conn:
        found = {str(h): n for h, n in conn.execute(query)}
    counts = tuple(
        found.get((start + timedelta(hours=i)).strftime("%Y-%m-%d %H"), 0) for i in range(hours)
    )
    return HourlyChart(counts, start)


def _overview(request: web.Request) -> tuple[Status, HourlyChart]:
    config, store, now = request.app[CONFIG], request.app[STORE], utcnow()
    return gather(config, store, now), alerts_per_hour(store, now)


@viewer
async def overview(request: web.Request) -> web.Response:
    status, chart = await asyncio.to_thread(_overview, request)
    failing = [f for f in status.feeds if f.health == "failing"]
    # healthy feeds are counted, not listed: a page of 5,000 rows helps nobody
    attention = [f for f in status.feeds if f.health != "ok"]
    return render(
        request,
        "console/overview.html.j2",
        title="Overview",
        status=status,
        failing=failing,
        listed=attention[:FEEDS_LISTED],
        unlisted=len(attention) - min(len(attention), FEEDS_LISTED),
        healthy=len(status.feeds) - len(attention),
        chart=chart,
        oldest_pending=as_utc(status.oldest_pending_at),
    )


def routes(app: web.Application) -> None:
    app.router.add_get("/console/", overview)
