"""The console's reads, on SQLite and PostgreSQL: alert history with its filters, full text
and keyset pages; stories with their outlets, rules and figure history."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from monitor.models import Article, Figure, Hit, Match
from monitor.store import Store
from monitor.store.schema import alerts, articles
from monitor.store.search import (
    _COLUMNS,
    AlertFilter,
    Term,
    Wanted,
    fts5_query,
    search_terms,
    tsquery,
)

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)


@pytest.fixture
def store(database_url):
    store = Store(database_url, settle=timedelta(0))
    yield store
    store.close()


def add(
    store,
    n,
    *,
    title="Routine report",
    snippet="Nothing much happened.",
    rule="ceasefire",
    severity="medium",
    feed="https://a.example/rss",
    tags=("middle-east",),
    text=None,
    when=None,
    figures=(),
    figure_key=None,
):
    """Article `n` and its alert; returns (article id, story id, alert id)."""
    when = when or NOW + timedelta(minutes=n)
    article = Article(
        url=f"https://news.example/{n}",
        title=title,
        text=text or f"Article number {n} says something of its own, word {n} of many.",
        published=when,
        site_name=f"Outlet {n}",
        feed_url=feed,
    )
    article_id, story_id, _ = store.add_article(article.url, article, now=when)
    match = Match(
        rule=rule,
        title=rule.title(),
        severity=severity,
        figures=figures,
        snippets=(snippet,),
        hits=(Hit("x", snippet.split()[0], 0, 0, len(snippet.split()[0])),),
    )
    alert_id = store.add_alert(
        article_id, match, tags, now=when, figure_key=figure_key, reported=when
    )
    return article_id, story_id, alert_id


def ids(page):
    return [found.alert.id for found in page.alerts]


def test_history_is_newest_first_in_keyset_pages_both_ways(store):
    made = [add(store, n)[2] for n in range(7)]
    first = store.alert_history(limit=3)
    assert ids(first) == made[::-1][:3] and first.newer is None
    second = store.alert_history(before=first.older, limit=3)
    third = store.alert_history(before=second.older, limit=3)
    assert ids(second) == made[::-1][3:6]
    assert ids(third) == made[:1] and third.older is None
    back = store.alert_history(after=third.newer, limit=3)
    assert ids(back) == ids(second) and back.older == second.older
    top = store.alert_history(after=back.newer, limit=3)
    assert ids(top) == ids(first) and top.newer is None


def test_each_filter_narrows_the_history(store):
    a = add(store, 1, rule="ceasefire", severity="high", feed="https://a.example/rss")[2]
    b = add(store, 2, rule="displacement", severity="low", tags=("refugees",))[2]
    c = add(store, 3, rule="ceasefire", severity="low", feed="https://b.example/rss")[2]
    d = add(store, 4, rule="floods", severity="high", tags=("weather", "refugees"))[2]
    cases = {
        AlertFilter(rule="ceasefire"): [c, a],
        AlertFilter(feed="https://b.example/rss"): [c],
        AlertFilter(severity="high"): [d, a],
        AlertFilter(since=NOW + timedelta(minutes=2), until=NOW + timedelta(minutes=4)): [c, b],
        AlertFilter(wanted=Wanted(rules=("floods",))): [d],
        AlertFilter(wanted=Wanted(tags=("refugees",))): [d, b],
        AlertFilter(wanted=Wanted(rules=("ceasefire",), tags=("weather",))): [d, c, a],
        AlertFilter(wanted=Wanted()): [],
        AlertFilter(rule="ceasefire", severity="low"): [c],
        AlertFilter(rule="nothing-like-it"): [],
    }
    for where, expected in cases.items():
        assert ids(store.alert_history(where)) == expected, where


def test_full_text_finds_words_of_titles_and_snippets(store):
    a = add(store, 1, title="Flooding in Kharkiv", snippet="Thousands fled the river.")[2]
    b = add(store, 2, title="Talks resume", snippet="At least 40,000 people displaced.")[2]
    c = add(store, 3, title="Café talks in Zürich", snippet="The envoy flew to Geneva.")[2]
    cases = {
        "kharkiv": [a],
        "KHARKIV river": [a],  # one word in the title, one in the snippet
        "talks": [c, b],
        '"40,000 people"': [b],
        '"people 40,000"': [],
        "displac*": [b],
        "displac": [],
        "flood* fled": [a],
        "zürich": [c],
        "talks -geneva": [c],  # no operators: "-" is not NOT, geneva is a word to find
    }
    for query, expected in cases.items():
        assert ids(store.alert_history(AlertFilter(text=query))) == expected, query


@pytest.mark.parametrize(
    "query",
    ['"', "AND (", "*", "' OR 1=1 --", ":*", "NEAR(a b)", "a & | !b", "title:x", "\x00"],
    ids=["quote", "and", "star", "sql", "tsquery", "near", "operators", "column", "nul"],
)
def test_no_query_reaches_either_engines_syntax(store, query):
    add(store, 1, title="a b x title", snippet="OR AND NEAR")
    page = store.alert_history(AlertFilter(text=query))  # never an error
    assert len(page.alerts) <= 1


def test_markup_in_a_title_hides_nothing_from_search(store):
    hostile = 'Breaking <script>alert("x")</script>\r\nInjected: header & more'
    alert = add(store, 1, title=hostile, snippet="<b>Shelling</b> continued overnight.")[2]
    for query in ("breaking", "injected header", "shelling overnight", "script"):
        assert ids(store.alert_history(AlertFilter(text=query))) == [alert], query


def test_search_pages_and_filters_together(store):
    made = [
        add(store, n, snippet=f"Shelling hit district {n}.", rule=("a", "b")[n % 2])[2]
        for n in range(8)
    ]
    add(store, 9, snippet="Quiet day.", rule="a")
    wanted = made[::2][::-1]  # rule a, newest first
    where = AlertFilter(text="shelling", rule="a")
    first = store.alert_history(where, limit=3)
    second = store.alert_history(where, before=first.older, limit=3)
    assert ids(first) + ids(second) == wanted
    assert second.older is None and second.newer == wanted[3]
    assert ids(store.alert_history(where, after=second.newer, limit=3)) == ids(first)


def test_search_reads_alerts_stored_before_migration_0010(database_url):
    """The migration fills the index from the alerts already there."""
    from alembic import command
    from sqlalchemy import create_engine

    from monitor.store.base import MIGRATIONS, AlembicConfig

    engine = create_engine(database_url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")
        conn.execute(
            text(
                "INSERT INTO articles (id, identity, url, title, partial, alerted, "
                "headline_size, created_at) VALUES (1, 'a', 'https://a.example/1', "
                "'Old alert about floods', false, true, 0, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO alerts (id, article_id, rule, tags, match, previous_figures, "
                "created_at) VALUES (1, 1, 'floods', '[]', :match, '[]', :now)"
            ),
            {"now": NOW, "match": '{"severity": "low", "snippets": ["The river rose \\u00e9"]}'},
        )
    engine.dispose()
    store = Store(database_url)  # migrates to the head
    try:
        with store.engine.connect() as conn:
            query, _ = store._matching(
                AlertFilter(text="floods river"), search_terms("floods river")
            )
            assert conn.execute(query).scalars().all() == [1]
    finally:
        store.close()


def test_the_rules_that_alerted_are_listed_once_each(store):
    for n, rule in enumerate(["floods", "ceasefire", "floods", "displacement", "ceasefire"]):
        add(store, n, rule=rule)
    assert store.alert_rules() == ["ceasefire", "displacement", "floods"]


def test_a_story_has_its_outlets_rules_and_figure_history(store):
    wire = "The agency reported that 40,000 people were displaced from the city overnight. " * 4
    earlier = Match("displacement", "Displacement", "high", figures=(Figure(12000, "12,000"),))
    older_article = Article("https://old.example/1", "Older", "Different text " * 20, "")
    old_id, _, _ = store.add_article(older_article.url, older_article, now=NOW - timedelta(days=3))
    store.add_alert(
        old_id,
        earlier,
        (),
        figure_key="place:kyiv",
        now=NOW - timedelta(days=3),
        reported=NOW - timedelta(days=3),
    )
    first, story, _ = add(
        store,
        1,
        title="First outlet",
        text=wire,
        rule="displacement",
        severity="high",
        figures=(Figure(40000, "40,000", "at least"),),
        figure_key="place:kyiv",
    )
    second, story2, _ = add(store, 2, title="Second outlet", text=wire, rule="ceasefire")
    add(store, 3, title="Other story", text="Nothing in common with the wire copy at all. " * 4)
    assert story == story2 == first

    found = store.story(story)
    assert [a.id for a in found.articles] == [first, second]
    assert [a.site_name for a in found.articles] == ["Outlet 1", "Outlet 2"]
    assert list(found.rules) == ["displacement", "ceasefire"]
    [series] = found.figures
    assert (series.rule, series.key) == ("displacement", "place:kyiv")
    assert [(f.value, f.reported) for f in series.figures] == [
        (12000, NOW - timedelta(days=3)),
        (40000, NOW + timedelta(minutes=1)),
    ]
    assert store.story(10_000) is None


def test_an_article_elsewhere_in_a_story_is_not_a_story_of_its_own(store):
    wire = "Identical wire copy about the envoy and the talks in Geneva this week. " * 4
    first, story, _ = add(store, 1, text=wire)
    second, _, _ = add(store, 2, text=wire)
    assert [a.id for a in store.story(story).articles] == [first, second]
    assert store.story(second) is None


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("floods", (Term(("floods",)),)),
        ("Flood* kyiv", (Term(("Flood",), prefix=True), Term(("kyiv",)))),
        ('"40,000 people" fled', (Term(("40", "000", "people")), Term(("fled",)))),
        ('"unclosed phrase', (Term(("unclosed", "phrase")),)),
        ("snake_case", (Term(("snake", "case")),)),
        ("-- ' ; *", ()),
    ],
    ids=["word", "prefix", "phrase", "unclosed", "underscore", "punctuation"],
)
def test_search_terms(query, terms):
    assert search_terms(query) == terms


def test_terms_become_each_engines_query():
    terms = search_terms('"40,000 people" displac*')
    assert fts5_query(terms) == '"40 000 people" AND "displac" *'
    assert tsquery(terms) == "(40 <-> 000 <-> people) & (displac:*)"


def test_sqlite_reads_pages_from_indexes(tmp_path):
    """A page's ids come from an index, sorted only when few (a date range, a set of
    rules: ids alone, from a covering index); rows and articles are read for 51 ids."""
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    try:
        add(store, 1)
        cases = {
            AlertFilter(): "SCAN alerts",
            AlertFilter(text="routine"): "SCAN alert_search VIRTUAL TABLE",
            AlertFilter(rule="ceasefire"): "INDEX ix_alerts_rule (rule=?)",
            AlertFilter(severity="critical"): "INDEX ix_alerts_severity (severity=?)",
            AlertFilter(text="routine", severity="high"): "SCAN alert_search VIRTUAL TABLE",
            AlertFilter(since=NOW, until=NOW + timedelta(days=1)): "INDEX ix_alerts_created_at",
            AlertFilter(wanted=Wanted(rules=("a", "b"))): "COVERING INDEX ix_alerts_rule",
            AlertFilter(feed="https://a.example/rss"): "INDEX ix_articles_feed_url",
        }
        with store.engine.connect() as conn:
            for where, expected in cases.items():
                page = store._page_ids(where, search_terms(where.text), None, None, 51)
                query = (
                    select(*_COLUMNS)
                    .join(articles, articles.c.id == alerts.c.article_id)
                    .where(alerts.c.id.in_(page))
                )
                compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
                plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
                assert any(expected in step for step in plan), (where, plan)
                assert not any(step.startswith("SCAN articles") for step in plan), (where, plan)
    finally:
        store.close()
