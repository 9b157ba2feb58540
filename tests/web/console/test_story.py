"""A story's page: its outlets, the rules that matched, and the figure history as an SVG
chart with words for those who cannot see it; every title escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import Article, Figure, Hit, Match
from monitor.store.search import FigureSeries
from monitor.web.console.story import _nice_top, figure_chart

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
WIRE = "The agency said 40,000 people were displaced from the city after the strikes. " * 4
HOSTILE = '<script>alert("title")</script>\r\nX-Injected: yes'


def add(store, n, *, title, text=WIRE, site="Outlet", when=None, match=None, key=None):
    when = when or NOW + timedelta(hours=n)
    article = Article(
        url=f"https://news{n}.example/a",
        title=title,
        text=text,
        published=when,
        site_name=f"{site} {n}",
        feed_url=f"https://news{n}.example/rss",
    )
    article_id, story_id, _ = store.add_article(article.url, article, now=when)
    if match is not None:
        store.add_alert(article_id, match, (), figure_key=key, now=when, reported=when)
    return article_id, story_id


def displacement(value, text, qualifier=None):
    snippet = f"{text} people were displaced"
    return Match(
        "displacement",
        "New displacement figures",
        "critical",
        figures=(Figure(value, text, qualifier),),
        snippets=(snippet,),
        hits=(Hit("displac*", "displaced", 0, len(snippet) - 9, len(snippet)),),
        summary=f"{text} displaced",
    )


@pytest.fixture
def story(console):
    """An older figure for the same place, then a story carried by three outlets, matched
    by a figure rule and a plain one."""
    store = console.store
    add(
        store,
        0,
        title="Earlier",
        text="Unrelated earlier report. " * 10,
        when=NOW - timedelta(days=5),
        match=displacement(12000, "12,000"),
        key="place:aleppo",
    )
    first, story_id = add(
        store, 1, title=HOSTILE, match=displacement(40000, "40,000", "at least"), key="place:aleppo"
    )
    ceasefire = Match(
        "ceasefire",
        "Ceasefire",
        "medium",
        snippets=("the ceasefire held",),
        hits=(Hit("ceasefire", "ceasefire", 0, 4, 13),),
    )
    add(store, 2, title="Second outlet", match=ceasefire)
    add(store, 3, title="Third outlet")
    add(store, 4, title="Elsewhere", text="A different story altogether, about the harvest. " * 4)
    return story_id


async def test_a_story_shows_its_outlets_rules_and_figure_chart(console, story):
    await console.login()
    status, html = await console.page(f"/console/stories/{story}")
    assert status == 200
    outlets = re.findall(r"<td>(Outlet \d)</td>", html)
    assert outlets == ["Outlet 1", "Outlet 2", "Outlet 3"]
    assert "Elsewhere" not in html and "Earlier" not in html
    assert "3 articles from 3 outlets; 2 rules matched." in html
    assert '<span class="pill sev-critical">critical</span>' in html
    assert 'href="/console/alerts?rule=displacement"' in html
    assert "40,000 people were <mark>displaced</mark>" in html
    assert "Figure history: displacement, place:aleppo" in html
    title = re.search(r'<title id="chart-1-title">([^<]*)</title>', html).group(1)
    assert title == (
        "displacement, aleppo: 2 figures from 12,000 (2026-11-23 07:30:00Z) "
        "to at least 40,000 (2026-11-28 08:30:00Z)"
    )
    assert html.count("<circle") == 2 and "<polyline" in html
    assert 'aria-labelledby="chart-1-title"' in html and 'role="img"' in html
    assert "<td>at least 40,000</td>" in html


async def test_the_story_escapes_its_titles(console, story):
    await console.login()
    _, html = await console.page(f"/console/stories/{story}")
    escaped = "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; X-Injected: yes"
    assert f"<title>Story: {escaped} · news-monitor</title>" in html
    assert f"<h1>Story: {escaped}</h1>" in html
    assert "<script>" not in html and "\r" not in html


@pytest.mark.parametrize("path", ["/console/stories/999999", "/console/stories/abc"])
async def test_an_unknown_story_is_not_found(console, path):
    await console.login()
    status, _ = await console.page(path)
    assert status == 404


async def test_a_story_without_alerts_says_so(console):
    _, story_id = add(console.store, 1, title="Quiet")
    await console.login()
    status, html = await console.page(f"/console/stories/{story_id}")
    assert status == 200 and "No rule matched an article of this story." in html
    assert "<svg" not in html.split("</header>", 1)[1]


def test_the_chart_places_values_against_time_from_zero():
    figures = (
        Figure(10, "10", reported=NOW),
        Figure(30, "30", reported=NOW + timedelta(days=1)),
        Figure(40, "40", "about", reported=NOW + timedelta(days=2)),
    )
    chart = figure_chart(FigureSeries("r", "place:x", figures), width=264, height=140)
    # the plot spans x 64..248 and y 12..112; the axis tops at 50
    assert [(round(p.x, 6), round(p.y, 6)) for p in chart.points] == [
        (64, 92),
        (156, 52),
        (248, 32),
    ]
    assert [t.label for t in chart.y_ticks] == ["0", "25", "50"]
    assert [t.label for t in chart.x_ticks] == ["2026-11-28", "2026-11-30"]
    assert chart.points[2].label == "2026-11-30 07:30:00Z: about 40"


def test_one_figure_sits_in_the_middle():
    chart = figure_chart(FigureSeries("r", "story:7", (Figure(5, "5", reported=NOW),)))
    [point] = chart.points
    assert point.x == 64 + (640 - 64 - 16) / 2
    assert (
        chart.summary == "r, 7: 1 figure from 5 (2026-11-28 07:30:00Z) to 5 (2026-11-28 07:30:00Z)"
    )


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (12000, 20000), (40000, 50000), (50001, 100000)]
)
def test_the_axis_tops_at_a_round_number(value, top):
    assert _nice_top(value) == top
