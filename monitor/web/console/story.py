"""A story's page: every outlet that carried it, every rule that matched it, and for figure
rules the history of the figure for that place (or key) as a chart drawn here, in SVG."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from monitor.models import Figure
from monitor.status import utc_text
from monitor.store.search import FigureSeries
from monitor.web.app import STORE
from monitor.web.console.alerts import web_link
from monitor.web.console.auth import viewer
from monitor.web.console.layout import render


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # what its tooltip says: "2026-11-28 07:30:00Z: at least 40,000"


@dataclass(frozen=True)
class Tick:
    at: float  # x or y
    label: str
    anchor: str = "middle"  # its text's text-anchor, so the last date ends inside the chart


@dataclass(frozen=True)
class FigureChart:
    """One figure series placed on a `width` x `height` canvas: the values against when
    they were reported, the axis from zero to just above the largest value."""

    series: FigureSeries
    points: tuple[Point, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    width: int
    height: int
    left: int
    bottom: int

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        """The chart in words, for its <title>."""
        s, figures = self.series, self.series.figures
        place = s.key.partition(":")[2] or s.key
        if not figures:
            return f"{s.rule}, {place}: no figures"
        first, last = figures[0], figures[-1]
        return (
            f"{s.rule}, {place}: {len(figures)} figure{'s' * (len(figures) != 1)} from "
            f"{_figure(first)} ({utc_text(first.reported)}) to {_figure(last)} "
            f"({utc_text(last.reported)})"
        )


def _figure(f: Figure) -> str:
    return f"{f.qualifier} {f.text}" if f.qualifier else f.text


def _nice_top(value: int) -> int:
    """A round number at or above `value` for the top of the axis: 1, 2 or 5 times 10^n."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def figure_chart(series: FigureSeries, width: int = 640, height: int = 220) -> FigureChart:
    left, right, top_pad, bottom = 64, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    figures = [f for f in series.figures if f.reported is not None]
    times = [f.reported.timestamp() for f in figures if f.reported is not None]
    start, end = (min(times), max(times)) if times else (0.0, 0.0)
    top = _nice_top(max((f.value for f in figures), default=1))

    def x(t: float) -> float:
        return left + (plot_w / 2 if end == start else plot_w * (t - start) / (end - start))

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / top)

    points = tuple(
        Point(x(t), y(f.value), f"{utc_text(f.reported)}: {_figure(f)}")
        for f, t in zip(figures, times, strict=True)
    )
    x_ticks: tuple[Tick, ...] = ()
    if times:
        dates = [(start, "start"), (end, "end")] if end > start else [(start, "middle")]
        x_ticks = tuple(
            Tick(x(t), f"{datetime.fromtimestamp(t, UTC):%Y-%m-%d}", anchor) for t, anchor in dates
        )
    y_ticks = tuple(Tick(y(v), f"{v:,}") for v in (0, top // 2, top))
    return FigureChart(series, points, x_ticks, y_ticks, width, height, left, height - bottom)


@viewer
async def story_page(request: web.Request) -> web.Response:
    story_id = int(request.match_info["story_id"])
    story = await asyncio.to_thread(request.app[STORE].story, story_id)
    if story is None:
        raise web.HTTPNotFound(text=f"story {story_id}: no such story")
    headline = " ".join(story.articles[0].title.split()) or f"Story {story_id}"
    return render(
        request,
        "console/story.html.j2",
        title=f"Story: {headline}",
        story=story,
        charts=[figure_chart(s) for s in story.figures],
        web_link=web_link,
    )


def routes(app: web.Application) -> None:
    app.router.add_get(r"/console/stories/{story_id:\d{1,18}}", story_page)
