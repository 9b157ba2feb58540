"""Alert policies end to end: `new-figure` (optionally keyed by a capture) and `once-per-story`."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from aiohttp import web

from monitor.config import load_config
from monitor.worker.pipeline import open_runtime, run_cycle
from tests.localhttp import local_server

RULES = """\
rules:
  - id: displaced
    match: {figure: {near: [displac*], within: 8, at_least: 100}}
    alert: new-figure
  - id: displaced-by-country
    match:
      all:
        - figure: {near: [displac*], within: 8, at_least: 100}
        - place: {in: [$countries], as: country}
    alert: new-figure
    key: country
  - id: ceasefire
    match: {any: [ceasefire*, truce*]}
    alert: once-per-story
"""


# Agency copy that outlets carry under their own headlines: what makes their items one story.
FLOOD_COPY = (
    "Rivers burst their banks across three eastern provinces overnight after a week of heavy "
    "rain, washing away roads and bridges and cutting off dozens of villages from the regional "
    "capital, local officials and aid workers told reporters on Tuesday."
)
TRUCE_COPY = (
    "Residents came out into the streets as the guns fell silent shortly after sunrise, the "
    "first quiet morning in weeks, while mediators said monitors would be deployed along the "
    "front line within days to watch over the agreement reached after long talks."
)


class Feed:
    """A feed whose items the test replaces between cycles; items carry their full text."""

    def __init__(self) -> None:
        self.items: list[tuple[str, ...]] = []  # (slug, title, text[, hours ago])

    async def handle(self, _request: web.Request) -> web.Response:
        def published(item: tuple[str, ...]) -> str:
            hours = float(item[3]) if len(item) > 3 else 0.0
            return format_datetime(datetime.now(UTC) - timedelta(hours=hours))

        items = "".join(
            f"<item><title>{escape(item[1])}</title><link>https://news.example/{item[0]}</link>"
            f"<guid>{item[0]}</guid><pubDate>{published(item)}</pubDate>"
            f"<content:encoded>{escape(f'<p>{item[2]}</p>')}</content:encoded></item>"
            for item in self.items
        )
        body = (
            '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Test</title><link>https://news.example/</link>{items}</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml")


@pytest.fixture
async def cycle(tmp_path):
    """Run one cycle after setting the feed's items; returns the rules alerted this cycle."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "test.yaml").write_text(RULES)
    feed = Feed()
    async with local_server() as server:
        server.routes["/feed.xml"] = feed.handle
        (tmp_path / "monitor.yaml").write_text(
            textwrap.dedent(f"""\
            rules: rules/
            allow_private_networks: true
            feeds: [{{url: "{server.url("/feed.xml")}"}}]
            """)
        )
        config = load_config(tmp_path / "monitor.yaml", {})
        async with open_runtime(config) as rt:
            seen = 0

            async def run(*items: tuple[str, str, str]) -> list[tuple[str, str]]:
                nonlocal seen
                feed.items = list(items)
                await run_cycle(rt, poll_all=True)
                new = rt.store.alerts_after(seen)
                seen = new[-1].id if new else seen
                return sorted((a.match.rule, a.article_url.rsplit("/", 1)[1]) for a in new)

            run.store = rt.store  # type: ignore[attr-defined]
            yield run


async def test_new_figure_alerts_only_when_the_figure_changes(cycle):
    assert await cycle(
        (
            "a",
            "Floods swamp Sudan villages",
            f"{FLOOD_COPY} Floods have displaced 40,000 people in Sudan.",
        )
    ) == [
        ("displaced", "a"),
        ("displaced-by-country", "a"),
    ]
    # the same figure again, from another outlet on the same story: no alert
    assert (
        await cycle(
            (
                "b",
                "Villages cut off as rivers rise",
                f"{FLOOD_COPY} The floods displaced 40,000 people in Sudan.",
            )
        )
        == []
    )
    # a new figure for Sudan alerts, and says what was reported before, with its qualifier
    assert await cycle(
        (
            "c",
            "Floods swamp Sudan villages",
            f"{FLOOD_COPY} Floods have now displaced at least 65,000 people in Sudan.",
        )
    ) == [
        ("displaced", "c"),
        ("displaced-by-country", "c"),
    ]
    [previous] = [
        a
        for a in cycle.store.alerts_after(0)
        if a.article_url.endswith("/c") and a.match.rule == "displaced-by-country"
    ]
    assert [f.value for f in previous.previous_figures] == [40000]
    assert previous.previous_figures[0].reported is not None
    # 40,000 again, but in another crisis: news for the story-keyed rule and for Chad
    assert await cycle(
        ("d", "Chad camps fill after clashes", "Fighting has displaced 40,000 people in Chad.")
    ) == [
        ("displaced", "d"),
        ("displaced-by-country", "d"),
    ]


async def test_entries_of_one_poll_are_recorded_oldest_first(cycle):
    # the feed lists the newest first; the older report alerts first, the newer says "up from"
    assert await cycle(
        (
            "new",
            "Floods swamp Sudan villages",
            "Floods have displaced 65,000 people in Sudan.",
            "1",
        ),
        (
            "old",
            "Floods swamp Sudan villages",
            "Floods have displaced 40,000 people in Sudan.",
            "5",
        ),
    ) == [
        ("displaced", "new"),
        ("displaced", "old"),
        ("displaced-by-country", "new"),
        ("displaced-by-country", "old"),
    ]
    by_url = {
        a.article_url.rsplit("/", 1)[1]: a
        for a in cycle.store.alerts_after(0)
        if a.match.rule == "displaced-by-country"
    }
    assert by_url["old"].id < by_url["new"].id
    assert [f.value for f in by_url["new"].previous_figures] == [40000]


async def test_new_figure_history_is_bounded_and_in_publication_order(tmp_path):
    from monitor.models import Article, Figure, Match
    from monitor.store import Store

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    now = datetime(2026, 10, 10, tzinfo=UTC)
    for day, value in [(3, 30000), (1, 10000), (2, 20000), (9, 90000)] + [
        (4 + i, 40000 + i) for i in range(4)
    ]:
        article_id, _, _ = store.add_article(
            f"https://news.example/{value}",
            Article(url=f"https://news.example/{value}", title=str(value), text=f"text {value}"),
            now=now,
        )
        match = Match(
            "displaced", "Displaced", "high", figures=(Figure(value, f"{value:,}", "some"),)
        )
        store.add_alert(
            article_id,
            match,
            (),
            figure_key="place:sudan",
            now=now,
            reported=now - timedelta(days=30) + timedelta(days=day),
        )
    history = store.previous_figures("displaced", "place:sudan", now=now, limit=5)
    # the five latest reports, oldest first, each with its qualifier and date
    assert [f.value for f in history] == [40000, 40001, 40002, 40003, 90000]
    assert all(f.qualifier == "some" and f.reported is not None for f in history)
    assert store.previous_figures("displaced", "place:sudan", now=now + timedelta(days=365)) == []
    store.close()


async def test_once_per_story_alerts_once_across_outlets(cycle):
    first = ("a", "Gaza ceasefire takes effect at dawn", f"A ceasefire took effect. {TRUCE_COPY}")
    same_story = (  # the same agency copy under another headline
        "b",
        "Guns fall silent as monitors prepare to deploy",
        f"The truce began at dawn, officials said. {TRUCE_COPY}",
    )
    other_story = (
        "c",
        "Sudan truce collapses in Darfur",
        "The truce in Darfur collapsed on Monday.",
    )
    assert await cycle(first) == [("ceasefire", "a")]
    assert await cycle(first, same_story, other_story) == [("ceasefire", "c")]
