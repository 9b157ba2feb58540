"""Silences, pure: what each scope matches, when one is in force, the preview, the checks."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.silences import (
    InvalidSilence,
    Known,
    Silence,
    ends_at,
    hidden_text,
    normalized,
    silenced,
    split_silenced,
    story_of,
    wanted_by,
    would_hide,
)
from monitor.models import Alert, Match

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
FEED = "https://www.middleeasteye.net/rss"


def alert(id, rule="ceasefire", *, story=0, feed=FEED, tags=("mideast", "diplomacy")):
    return Alert(
        id=id,
        article_url=f"https://example.org/news/{id}",
        article_title=f"Headline {id}",
        published=NOW,
        site_name="Example",
        match=Match(rule=rule, title=rule, severity="medium"),
        tags=tags,
        story_id=story,
        created_at=NOW,
        feed_url=feed,
    )


def silence(scope, value, *, subscription=None, starts=NOW, hours=2, id=1):
    return Silence(
        id, subscription, scope, value, starts, starts + timedelta(hours=hours), "why", "ana", NOW
    )


@pytest.mark.parametrize(
    ("scope", "value", "the_alert", "expected"),
    [
        ("rule", "ceasefire", alert(1), True),
        ("rule", "ceasefire", alert(1, "envoy-travel"), False),
        ("rule", "cease", alert(1), False),
        ("story", "42", alert(1, story=42), True),
        ("story", "42", alert(1, story=43), False),
        # an article alone in its story: the digest's story id is minus the alert id
        ("story", "-7", alert(7), True),
        ("story", "-7", alert(8), False),
        ("story", "7", alert(7), False),
        ("feed", FEED, alert(1), True),
        ("feed", FEED, alert(1, feed="https://other.example/rss"), False),
        ("feed", FEED, alert(1, feed=None), False),
        ("feed", FEED + "/", alert(1), False),
        ("tag", "diplomacy", alert(1), True),
        ("tag", "diplo", alert(1), False),
        ("tag", "diplomacy", alert(1, tags=()), False),
        ("nonsense", "ceasefire", alert(1), False),
    ],
    ids=[
        "rule",
        "other rule",
        "rule prefix",
        "story",
        "other story",
        "lone article's story",
        "other lone article",
        "positive id of a lone article",
        "feed",
        "other feed",
        "no feed",
        "feed with a slash more",
        "tag",
        "tag prefix",
        "no tags",
        "unknown scope",
    ],
)
def test_what_a_silence_matches(scope, value, the_alert, expected):
    assert silence(scope, value).matches(the_alert) is expected
    assert silenced(the_alert, [silence(scope, value)], NOW + timedelta(minutes=1)) is expected


@pytest.mark.parametrize(
    ("at", "in_force", "state"),
    [
        (NOW - timedelta(seconds=1), False, "pending"),
        (NOW, True, "active"),
        (NOW + timedelta(hours=1, minutes=59), True, "active"),
        (NOW + timedelta(hours=2), False, "expired"),
        (NOW + timedelta(days=3), False, "expired"),
    ],
    ids=["before it starts", "as it starts", "just before it ends", "as it ends", "long after"],
)
def test_a_silence_is_in_force_from_its_start_until_its_end(at, in_force, state):
    s = silence("rule", "ceasefire")
    assert s.active(at) is in_force and s.state(at) == state
    assert silenced(alert(1), [s], at) is in_force


def test_any_silence_in_force_silences():
    silences = [silence("rule", "envoy-travel"), silence("tag", "mideast", id=2)]
    assert silenced(alert(1), silences, NOW)
    assert not silenced(alert(1, tags=()), silences, NOW)
    assert not silenced(alert(1), [], NOW)


def test_the_subscription_it_covers():
    assert (
        silence("rule", "x").covers("desk") and silence("rule", "x").audience == "all subscriptions"
    )
    mine = silence("rule", "x", subscription="desk")
    assert mine.covers("desk") and not mine.covers("cases") and mine.audience == "desk"


def test_split_keeps_order_and_reports_only_what_the_subscription_wanted():
    alerts = [alert(1), alert(2, "envoy-travel"), alert(3), alert(4, "displacement-figures")]
    silences = [silence("rule", "ceasefire"), silence("rule", "displacement-figures", id=2)]
    kept, hidden = split_silenced(
        alerts, silences, NOW, lambda rule, tags: rule != "displacement-figures"
    )
    assert [a.id for a in kept] == [2]
    assert [a.id for a in hidden] == [1, 3]  # 4 is silenced too, but the desk never wanted it
    later, _ = split_silenced(alerts, silences, NOW + timedelta(hours=3), lambda r, t: True)
    assert later == alerts  # ended: nothing hidden
    assert hidden_text(hidden) == "2 alerts (ids 1, 3)"
    assert hidden_text([alert(i) for i in range(1, 13)], most=3) == "12 alerts (ids 1, 2, 3, …)"


def test_would_hide_ignores_time_and_narrows_to_what_is_wanted():
    alerts = [alert(1), alert(2, "envoy-travel"), alert(3, tags=("humanitarian",))]
    later = silence("rule", "ceasefire", starts=NOW + timedelta(days=30))
    assert [a.id for a in would_hide(later, alerts)] == [1, 3]
    wants = wanted_by([_Sub(rules=("ceasefire",), tags=("nothing",)), _Sub(rules=(), tags=("x",))])
    assert [a.id for a in would_hide(later, alerts, wants)] == [1, 3]
    diplomacy = wanted_by([_Sub(rules=(), tags=("diplomacy",))])
    assert [a.id for a in would_hide(later, alerts, diplomacy)] == [1]
    assert would_hide(later, alerts, wanted_by([])) == []


class _Sub:
    def __init__(self, rules, tags):
        self.rules, self.tags = rules, tags

    def wants(self, rule, tags):
        return rule in self.rules or bool(set(self.tags) & set(tags))


def test_story_of_is_the_digest_story_id():
    assert story_of(alert(5, story=3)) == 3 and story_of(alert(5)) == -5


def checked(scope="rule", value="ceasefire", *, hours=2.0, comment="noisy", author="ana", **kw):
    return normalized(
        scope,
        value,
        starts_at=NOW,
        ends_at=NOW + timedelta(hours=hours),
        comment=comment,
        author=author,
        **kw,
    )


def test_a_valid_silence_comes_back_trimmed():
    assert checked(
        value="  ceasefire ", comment=" truce talks\n", author=" ana\r\n", subscription=" "
    ) == (
        "rule",
        "ceasefire",
        "truce talks",
        "ana",
        None,
    )
    assert checked("story", "-12")[1] == "-12"
    assert checked("feed", FEED, subscription="desk")[4] == "desk"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "everything"}, "scope must be one of rule, story, feed, tag"),
        ({"value": "  "}, "say which rule to silence"),
        ({"value": "a\r\nBcc: x"}, "must be one line"),
        ({"value": "x" * 2049}, "at most 2048 characters"),
        ({"scope": "story", "value": "twelve"}, "a story is its id"),
        ({"scope": "story", "value": "0"}, "a story is its id"),
        ({"scope": "feed", "value": "javascript:alert(1)"}, "a feed is its configured URL"),
        ({"hours": 0}, "at least a minute"),
        ({"hours": -1}, "at least a minute"),
        ({"hours": 24 * 366}, "at most 365 days"),
        ({"comment": " \n "}, "a comment is required"),
        ({"comment": "x" * 2001}, "longer than 2000"),
        ({"author": ""}, "an author is required"),
        ({"author": "x" * 129}, "author is longer than 128"),
        ({"subscription": "x" * 129}, "no subscription has so long a name"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_silence_that_cannot_be_saved_says_why(kwargs, message):
    with pytest.raises(InvalidSilence, match=message):
        checked(**kwargs)


def test_times_need_a_zone():
    with pytest.raises(InvalidSilence, match="time zone"):
        normalized(
            "rule", "x", starts_at=NOW.replace(tzinfo=None), ends_at=NOW, comment="c", author="a"
        )


@pytest.mark.parametrize(
    ("for_text", "until_text", "expected"),
    [
        ("2h", None, NOW + timedelta(hours=2)),
        (" 30m ", "", NOW + timedelta(minutes=30)),
        (None, "2026-11-28T18:00Z", datetime(2026, 11, 28, 18, 0, tzinfo=UTC)),
        (None, "2026-11-28 18:00", datetime(2026, 11, 28, 18, 0, tzinfo=UTC)),
        (None, "2026-11-28T19:00+01:00", datetime(2026, 11, 28, 18, 0, tzinfo=UTC)),
    ],
    ids=["for", "for, spaced", "until, Z", "until, no zone is UTC", "until, offset"],
)
def test_when_it_ends(for_text, until_text, expected):
    assert ends_at(for_text, until_text, NOW) == expected


@pytest.mark.parametrize(
    ("for_text", "until_text", "message"),
    [
        (None, None, "say how long"),
        ("2h", "2026-11-28T18:00Z", "say how long"),
        ("2 hours", None, "invalid duration '2 hours'"),
        (None, "tomorrow", "invalid time 'tomorrow'"),
        (None, "2026-11-28T07:00Z", "already past"),
    ],
    ids=["neither", "both", "bad duration", "bad time", "past"],
)
def test_when_it_ends_refused(for_text, until_text, message):
    with pytest.raises(InvalidSilence, match=message):
        ends_at(for_text, until_text, NOW)


def test_known_refuses_what_does_not_exist(shipped_rules):
    feeds = [type("F", (), {"url": FEED, "tags": ("mideast",)})()]
    config = type("C", (), {"feeds": feeds, "subscriptions": [type("S", (), {"name": "desk"})()]})()
    known = Known.of(config, shipped_rules)
    assert known.problem("rule", "ceasefire", None) is None
    assert known.problem("rule", "feed-health", "desk") is None
    assert known.problem("tag", "mideast", None) is None  # a feed's tag
    assert known.problem("tag", "humanitarian", None) is None  # a rule's tag
    assert known.problem("feed", FEED, None) is None
    assert known.problem("story", "12", None) is None
    assert "no rule 'ceasfire' (rules: " in known.problem("rule", "ceasfire", None)
    assert "no rule and no feed has the tag 'mid-east'" in known.problem("tag", "mid-east", None)
    assert "no feed 'https://x.example/rss' in the config (1 feeds" in known.problem(
        "feed", "https://x.example/rss", None
    )
    assert (
        known.problem("rule", "ceasefire", "cases")
        == "no subscription 'cases' (subscriptions: desk)"
    )
    # rules that do not load: rules and tags go unchecked, feeds still are
    blind = Known.of(config, None)
    assert blind.problem("rule", "ceasfire", None) is None
    assert blind.problem("tag", "mid-east", None) is None
    assert blind.problem("feed", "https://x.example/rss", None) is not None
