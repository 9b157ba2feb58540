"""Silences in the store, one contract on SQLite and PostgreSQL: saved checked, listed by
state, ended early, in force per subscription, and the preview's alerts."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.silences import InvalidSilence
from monitor.models import Article, Match
from monitor.store import Store

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
FEED = "https://www.middleeasteye.net/rss"


@pytest.fixture
def store(database_url):
    store = Store(database_url, settle=timedelta(0))
    yield store
    store.close()


def add(store, scope="rule", value="ceasefire", *, hours=2, starts=NOW, **kw):
    kw.setdefault("comment", "truce talks: too noisy")
    kw.setdefault("author", "ana")
    return store.add_silence(
        scope, value, ends_at=starts + timedelta(hours=hours), starts_at=starts, now=NOW, **kw
    )


def add_alert(store, n, rule="ceasefire", *, feed=FEED, tags=("mideast",), days=0, text=None):
    when = NOW - timedelta(days=days)
    article = Article(
        url=f"https://example.org/news/{n}",
        title=f"Headline {n} <script>alert(1)</script>\r\nBcc: x",
        text=text or f"Story number {n}, told at its own length " * 5 + str(n),
        published=when,
        site_name="Example",
        feed_url=feed,
    )
    article_id, story, _ = store.add_article(article.url, article, now=when)
    store.add_alert(article_id, Match(rule, rule, "medium"), tags, now=when)
    return story


def test_a_silence_is_saved_as_given_and_read_back(store):
    saved = add(store, subscription="desk", comment="  truce talks\nuntil Friday ", author=" ana ")
    assert saved.id > 0
    assert store.silence(saved.id) == saved
    assert (saved.scope, saved.value, saved.subscription) == ("rule", "ceasefire", "desk")
    assert saved.comment == "truce talks\nuntil Friday" and saved.author == "ana"
    assert saved.starts_at == NOW and saved.ends_at == NOW + timedelta(hours=2)
    assert saved.created_at == NOW and saved.ends_at.tzinfo is not None
    assert store.silence(saved.id + 100) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "everything"}, "scope must be one of"),
        ({"value": ""}, "say which rule"),
        ({"scope": "story", "value": "abc"}, "a story is its id"),
        ({"hours": 0}, "at least a minute"),
        ({"hours": 24 * 400}, "at most 365 days"),
        ({"comment": ""}, "a comment is required"),
        ({"author": "  "}, "an author is required"),
    ],
    ids=["scope", "value", "story id", "too short", "too long", "no comment", "no author"],
)
def test_a_silence_that_cannot_be_saved_is_not(store, kwargs, message):
    with pytest.raises(InvalidSilence, match=message):
        add(store, **kwargs)
    assert store.silences("all", now=NOW) == []


def test_lists_by_state(store):
    soon = add(store, hours=1)
    later = add(store, "tag", "mideast", hours=5)
    ended = add(store, "feed", FEED, starts=NOW - timedelta(hours=3), hours=1)
    long_ago = add(store, "story", "12", starts=NOW - timedelta(days=3), hours=1)
    pending = add(store, "rule", "envoy-travel", starts=NOW + timedelta(hours=2), hours=1)
    ids = lambda silences: [s.id for s in silences]  # noqa: E731
    assert ids(store.silences("active", now=NOW)) == [soon.id, pending.id, later.id]
    assert ids(store.silences("expired", now=NOW)) == [ended.id, long_ago.id]
    assert ids(store.silences("expired", now=NOW, limit=1)) == [ended.id]
    assert ids(store.silences("all", now=NOW)) == [
        pending.id,
        long_ago.id,
        ended.id,
        later.id,
        soon.id,
    ]
    assert ids(store.silences("active", now=NOW + timedelta(hours=10))) == []


def test_in_force_for_a_subscription_are_its_own_and_those_for_all(store):
    everyone = add(store)
    desk = add(store, "tag", "mideast", subscription="desk")
    add(store, "tag", "mideast", subscription="cases")
    add(store, starts=NOW - timedelta(hours=3), hours=1)  # ended
    add(store, starts=NOW + timedelta(minutes=5))  # not yet
    assert [s.id for s in store.active_silences("desk", NOW)] == [everyone.id, desk.id]
    assert [s.id for s in store.active_silences("nobody", NOW)] == [everyone.id]
    assert len(store.active_silences("desk", NOW + timedelta(minutes=6))) == 3


def test_a_silence_ends_early_once(store):
    silence = add(store)
    later = NOW + timedelta(minutes=20)
    ended = store.expire_silence(silence.id, later)
    assert ended is not None and ended.ends_at == later and ended.starts_at == NOW
    assert store.active_silences("desk", later) == []
    assert [s.id for s in store.silences("expired", now=later)] == [silence.id]
    # ending it again, or one that does not exist, changes nothing
    assert store.expire_silence(silence.id, later + timedelta(minutes=1)) is None
    assert store.silence(silence.id).ends_at == later
    assert store.expire_silence(silence.id + 1, later) is None


def test_ending_one_that_has_not_started_ends_it_before_it_starts(store):
    pending = add(store, starts=NOW + timedelta(hours=1))
    ended = store.expire_silence(pending.id, NOW)
    assert ended.starts_at == ended.ends_at == NOW
    assert ended.state(NOW) == "expired"


def test_alerts_carry_their_feed(store):
    add_alert(store, 1)
    add_alert(store, 2, feed=None)
    assert [a.feed_url for a in store.alerts_after(0)] == [FEED, None]


def test_the_preview_is_last_week_s_alerts_of_its_scope(store):
    add_alert(store, 1)
    add_alert(store, 2, "envoy-travel", tags=("diplomacy", "mideast_x"))
    add_alert(store, 3, days=6)
    add_alert(store, 4, days=8)  # older than a week
    add_alert(store, 5, feed="https://other.example/rss", tags=("mideast", "humanitarian"))
    add_alert(store, 6, tags=('say "hi"', "100%"))
    draft = lambda scope, value: add(store, scope, value)  # noqa: E731

    def preview(silence, **kw):
        return [
            a.article_url.rsplit("/", 1)[1] for a in store.silence_preview(silence, now=NOW, **kw)
        ]

    assert preview(draft("rule", "ceasefire")) == ["6", "5", "3", "1"]  # newest first
    assert preview(draft("rule", "envoy-travel")) == ["2"]
    assert preview(draft("feed", FEED)) == ["6", "3", "2", "1"]
    assert preview(draft("tag", "mideast")) == ["5", "3", "1"]  # not mideast_x
    assert preview(draft("tag", "mideast_")) == []  # LIKE's _ is no wildcard
    assert preview(draft("tag", "100%")) == ["6"]
    assert preview(draft("tag", 'say "hi"')) == ["6"]
    assert preview(draft("tag", "100")) == []
    assert preview(draft("rule", "ceasefire"), within=timedelta(days=10)) == [
        "6",
        "5",
        "4",
        "3",
        "1",
    ]
    assert preview(draft("rule", "ceasefire"), limit=2) == ["6", "5"]
    only_humanitarian = lambda rule, tags: "humanitarian" in tags  # noqa: E731
    assert preview(draft("rule", "ceasefire"), wants=only_humanitarian) == ["5"]
    assert preview(draft("rule", "nothing-like-it")) == []


def test_the_preview_of_a_story(store):
    text = "The same wire copy about the envoy's travel, told at length and then some more. " * 8
    story = add_alert(store, 1, text=text)
    add_alert(store, 2, text=text)  # the same copy from another outlet: the same story
    add_alert(store, 3)
    [a1, a2, a3] = store.alerts_after(0)
    assert a1.story_id == a2.story_id == story
    lone = str(a3.story_id or -a3.id)

    def preview(value):
        silence = add(store, "story", value)
        return [a.id for a in store.silence_preview(silence, now=NOW)]

    assert preview(str(story)) == [a2.id, a1.id]
    assert preview(lone) == [a3.id]
    assert preview("999") == []
