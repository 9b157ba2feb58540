"""The Alerts page as a desk uses it: newest first with highlighted hits, a GET form of
filters and a search box, pages of 50, and every piece of article text escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from monitor.models import Article, Hit, Match
from tests.web.console.conftest import VIEWER_PASSWORD

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
HOSTILE = '<script>alert("title")</script>\r\nX-Injected: yes'


def add(
    store,
    n,
    *,
    title=None,
    snippet="Shelling resumed near the ceasefire line overnight.",
    rule="ceasefire",
    severity="high",
    feed="https://a.example/rss",
    url=None,
    when=None,
):
    when = when or NOW + timedelta(minutes=n)
    article = Article(
        url=url or f"https://news.example/{n}",
        title=title or f"Report number {n}",
        text=f"Article {n} has words of its own, {n} of them.",
        published=when,
        site_name=f"Outlet {n}",
        feed_url=feed,
    )
    article_id, story_id, _ = store.add_article(f"id-{n}", article, now=when)
    start = snippet.find("ceasefire")
    hits = (Hit("ceasefire", "ceasefire", 0, start, start + 9),) if start >= 0 else ()
    match = Match(rule, rule.title(), severity, snippets=(snippet,), hits=hits)
    return store.add_alert(article_id, match, ("middle-east",), now=when), story_id


def shown(html):
    """The alert ids on a page, in order."""
    return [int(i) for i in re.findall(r'<li id="alert-(\d+)">', html)]


async def test_the_page_needs_a_login(console):
    async with console.http.get(console.base + "/console/alerts", allow_redirects=False) as r:
        assert r.status == 303 and r.headers["Location"].startswith("/console/login")


async def test_alerts_come_newest_first_with_highlights_pills_and_story_links(console):
    first, story = add(console.store, 1)
    second, _ = add(console.store, 2, severity="low")
    await console.login()
    status, html = await console.page("/console/alerts")
    assert status == 200 and shown(html) == [second, first]
    assert "near the <mark>ceasefire</mark> line" in html
    assert '<span class="pill sev-high">high</span>' in html
    assert f'<a href="/console/stories/{story}">story</a>' in html
    assert '<a href="https://news.example/1" rel="noopener noreferrer">Report number 1</a>' in html


async def test_a_viewer_reads_the_alerts_too(console):
    add(console.store, 1)
    await console.login(VIEWER_PASSWORD)
    status, html = await console.page("/console/alerts")
    assert status == 200 and len(shown(html)) == 1


async def test_article_text_is_escaped_everywhere(console):
    add(
        console.store,
        1,
        title=HOSTILE,
        snippet='<img src=x onerror="alert(1)"> the ceasefire & "more"',
        url="javascript:alert(document.cookie)",
        feed='https://a.example/rss?"><script>alert(2)</script>',
    )
    await console.login()
    query = urlencode({"q": '"><script>alert(3)</script>'})
    for path in ("/console/alerts", f"/console/alerts?{query}"):
        status, html = await console.page(path)
        assert "<script>" not in html.split("</title>", 1)[1], path
        assert "<img" not in html and "javascript:" not in html and "\r" not in html
    _, html = await console.page("/console/alerts")
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; X-Injected: yes" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; the <mark>ceasefire</mark> &amp;" in html
    _, html = await console.page(f"/console/alerts?{query}")
    assert 'value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"rule": "displacement"}, [3]),
        ({"severity": "low"}, [4, 2]),
        ({"subscription": "desk"}, [4, 2, 1]),  # desk takes the ceasefire rule
        ({"feed": "https://b.example/rss"}, [4]),
        ({"since": "2026-11-29", "until": "2026-11-30"}, [3, 2]),
        ({"until": "2026-11-28"}, [1]),
        ({"q": "flooding"}, [3]),
        ({"q": "report*", "severity": "low"}, [4, 2]),
        ({"q": '"shelling resumed"', "rule": "ceasefire"}, [4, 2, 1]),
        ({"q": "nothing-like-it"}, []),
    ],
    ids=[
        "rule", "severity", "subscription", "feed", "dates", "until-inclusive",
        "search", "search-and-filter", "phrase", "no-match",
    ],
)  # fmt: skip
async def test_the_form_filters_and_searches(console, query, expected):
    ids = [
        add(console.store, 1)[0],
        add(console.store, 2, severity="low", when=NOW + timedelta(days=1))[0],
        add(
            console.store,
            3,
            rule="displacement",
            snippet="Flooding displaced thousands.",
            when=NOW + timedelta(days=2),
        )[0],
        add(
            console.store,
            4,
            severity="low",
            feed="https://b.example/rss",
            when=NOW + timedelta(days=3),
        )[0],
    ]
    await console.login()
    status, html = await console.page(f"/console/alerts?{urlencode(query)}")
    assert status == 200
    assert shown(html) == [ids[n - 1] for n in expected]
    for name, value in query.items():  # the form says what it shows
        if name in ("q", "feed", "since", "until"):
            assert f'name="{name}" value="{value.replace(chr(34), "&#34;")}"' in html
        else:
            assert f"<option selected>{value}</option>" in html


async def test_pages_of_fifty_link_older_and_newer(console):
    made = [add(console.store, n)[0] for n in range(60)]
    await console.login()
    _, html = await console.page("/console/alerts?severity=high")
    assert shown(html) == made[::-1][:50]
    older = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert older == f"/console/alerts?severity=high&before={made[10]}"
    assert 'rel="prev"' not in html
    _, html = await console.page(older)
    assert shown(html) == made[::-1][50:] and 'rel="next"' not in html
    newer = re.search(r'<a href="([^"]+)" rel="prev">', html).group(1).replace("&amp;", "&")
    _, html = await console.page(newer)
    assert shown(html) == made[::-1][:50]


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"since": "yesterday"}, "from: not a date (say YYYY-MM-DD)"),
        ({"before": "12; DROP TABLE alerts"}, "before: not an alert id"),
        ({"severity": "urgent"}, "severity: say one of critical, high, medium, low, info"),
        ({"subscription": "nobody"}, "subscription: no subscription is called nobody"),
    ],
    ids=["date", "page-key", "severity", "subscription"],
)
async def test_what_cannot_be_read_is_said_not_guessed(console, query, problem):
    add(console.store, 1)
    await console.login()
    status, html = await console.page(f"/console/alerts?{urlencode(query)}")
    assert status == 400 and problem in html and shown(html) == []


async def test_an_empty_store_says_so(console):
    await console.login()
    status, html = await console.page("/console/alerts")
    assert status == 200 and "No alert yet." in html
