"""The digest planner: stories, their order, subjects, parts, mutes and the cursor."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.plan import (
    MAX_DIGEST_STORIES,
    SUBJECT_MAX_CHARS,
    DigestPlan,
    Mutes,
    RuleMatch,
    figures_line,
    group_stories,
    plan_subscription,
    subject_line,
    without_headline,
)
from monitor.models import Alert, Figure, Hit, Match

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
DESK, DUTY = "desk@example.org", "duty@example.org"

SUMMARIES = {
    "displacement-figures": "at least 40,000 displaced in Syria",
    "envoy-travel": "envoy travel to Moscow",
    "ceasefire": "ceasefire mentioned",
}


def alert(
    id,
    rule="displacement-figures",
    *,
    story=0,
    severity="high",
    hours=0,
    published=True,
    title=None,
    url=None,
    site="Middle East Eye",
    summary=None,
    figures=(),
    previous=(),
    captures=None,
    snippets=(),
    hits=(),
    tags=(),
):
    """An alert as the store returns it; `hours` after T0 it was published (and recorded)."""
    when = T0 + timedelta(hours=hours)
    match = Match(
        rule=rule,
        title=rule.replace("-", " ").capitalize(),
        severity=severity,
        figures=figures,
        captures=captures or {},
        snippets=snippets,
        hits=hits,
        summary=SUMMARIES.get(rule, "") if summary is None else summary,
    )
    return Alert(
        id=id,
        article_url=url or f"https://example.org/news/{id}",
        article_title=title or f"Headline {id}",
        published=when if published else None,
        site_name=site,
        match=match,
        tags=tags,
        previous_figures=previous,
        story_id=story,
        created_at=when,
    )


def everything(rule, tags):
    return True


def plan(alerts, targets=(DESK,), *, wants=everything, cursor=0, mutes=None):
    return plan_subscription("humanitarian-desk", targets, wants, alerts, cursor, NOW, mutes)


def digests_for(subscription_plan, target):
    return [d for d in subscription_plan.digests if d.target == target]


# --- stories -----------------------------------------------------------------------------


def test_a_story_appears_once_with_all_its_rules_and_outlets():
    alerts = [
        alert(
            1,
            "envoy-travel",
            story=7,
            severity="medium",
            hours=2,
            url="https://www.middleeasteye.net/news/envoy",
            title="UN Syria peace envoy travels to Moscow",
            captures={"place": ("Moscow",)},
        ),
        alert(
            2,
            "displacement-figures",
            story=7,
            hours=2,
            url="https://www.middleeasteye.net/news/envoy",
            title="UN Syria peace envoy travels to Moscow",
            figures=(Figure(40000, "40,000", "at least"),),
        ),
        alert(
            3,
            "envoy-travel",
            story=7,
            severity="medium",
            hours=3,
            url="https://wire.example.com/envoy-moscow",
            site=None,
            title="Envoy heads to Moscow",
            captures={"place": ("Moscow", "Washington")},
        ),
        alert(
            4,
            "displacement-figures",
            story=7,
            hours=3,
            url="https://wire.example.com/envoy-moscow",
            site=None,
            title="Envoy heads to Moscow",
            figures=(Figure(40000, "40,000"), Figure(120000, "120,000")),
        ),
    ]
    [story] = group_stories(alerts)

    assert story.id == 7
    assert story.rules == ("displacement-figures", "envoy-travel")  # most severe first
    assert story.severity == "high"
    assert story.alert_ids == (1, 2, 3, 4)
    # the first article leads; every outlet once, named by its site or else its host
    assert story.headline == "UN Syria peace envoy travels to Moscow"
    assert story.url == "https://www.middleeasteye.net/news/envoy"
    assert story.published == T0 + timedelta(hours=2)
    assert [(o.name, o.url, o.title) for o in story.outlets] == [
        (
            "Middle East Eye",
            "https://www.middleeasteye.net/news/envoy",
            "UN Syria peace envoy travels to Moscow",
        ),
        ("wire.example.com", "https://wire.example.com/envoy-moscow", "Envoy heads to Moscow"),
    ]
    # each rule once, with the figures and captures of every article (the lead's first)
    figures, envoy = story.matches
    assert [f.text for f in figures.figures] == ["40,000", "120,000"]
    assert figures.figures[0].qualifier == "at least"
    assert envoy.captures == {"place": ("Moscow", "Washington")}
    assert story.summary == "at least 40,000 displaced in Syria; envoy travel to Moscow"


def test_the_lead_article_is_the_first_published_not_the_first_stored():
    alerts = [
        alert(1, story=3, hours=5, title="Later copy", url="https://b.example/x"),
        alert(2, story=3, hours=1, title="First report", url="https://a.example/x"),
    ]
    [story] = group_stories(alerts)
    assert (story.headline, story.url) == ("First report", "https://a.example/x")
    assert story.published == T0 + timedelta(hours=1)
    assert [o.url for o in story.outlets] == ["https://b.example/x", "https://a.example/x"]


def test_an_article_without_a_date_is_dated_by_its_alert():
    [story] = group_stories([alert(1, hours=4, published=False)])
    assert story.published == T0 + timedelta(hours=4)


def test_dated_naive_and_undated_articles_of_one_story_still_find_their_lead():
    from dataclasses import replace

    dated = alert(1, story=5, hours=3)
    naive = replace(
        alert(2, story=5, hours=1), published=(T0 + timedelta(hours=1)).replace(tzinfo=None)
    )
    undated = replace(alert(3, story=5), published=None, created_at=None)
    [story] = group_stories([dated, undated, naive])
    assert story.url == naive.article_url  # the first published leads


def test_alerts_without_a_story_are_stories_of_their_own():
    stories = group_stories([alert(1), alert(2), alert(3, story=9), alert(4, "ceasefire", story=9)])
    assert sorted(s.id for s in stories) == [-2, -1, 9]
    assert {s.id: s.alert_ids for s in stories} == {-1: (1,), -2: (2,), 9: (3, 4)}


def test_a_rule_matching_one_story_twice_says_its_summary_once():
    [story] = group_stories(
        [
            alert(1, "ceasefire", story=4, url="https://a.example/1"),
            alert(2, "ceasefire", story=4, url="https://b.example/2"),
        ]
    )
    assert story.rules == ("ceasefire",)
    assert story.summary == "ceasefire mentioned"


def test_previous_figures_leave_out_the_figures_reported_now():
    earlier = (Figure(25000, "25,000"), Figure(40000, "40,000"))
    [story] = group_stories(
        [alert(1, figures=(Figure(40000, "40,000", "at least"),), previous=earlier)]
    )
    [match] = story.matches
    assert [f.value for f in match.previous_figures] == [25000]


# --- order -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stories, expected",
    [
        ([("high", 1), ("high", 3), ("high", 2)], [2, 3, 1]),
        ([("low", 9), ("critical", 0), ("medium", 5), ("high", 1)], [2, 4, 3, 1]),
        ([("info", 4), ("low", 3), ("medium", 2), ("high", 1), ("critical", 0)], [5, 4, 3, 2, 1]),
        # a severity the planner does not know comes after every known one
        ([("urgent", 9), ("info", 0)], [2, 1]),
        # an article with no time at all sorts as the oldest of its severity
        ([("high", None), ("high", 0), ("medium", 8)], [2, 1, 3]),
    ],
    ids=["newest-first", "severity-first", "every-severity", "unknown-severity", "undated"],
)
def test_stories_are_ordered_by_severity_then_newest_first(stories, expected):
    alerts = []
    for i, (severity, hours) in enumerate(stories, start=1):
        if hours is None:
            undated = alert(i, severity=severity, published=False)
            alerts.append(replace(undated, created_at=None))
        else:
            alerts.append(alert(i, severity=severity, hours=hours))
    assert [s.alert_ids[0] for s in group_stories(alerts)] == expected


def test_a_story_ranks_by_its_most_severe_rule():
    alerts = [
        alert(1, "ceasefire", story=1, severity="low", hours=9),
        alert(2, "envoy-travel", story=2, severity="medium", hours=1),
        alert(3, "displacement-figures", story=2, severity="critical", hours=1),
    ]
    first, second = group_stories(alerts)
    assert (first.id, first.severity, first.rules) == (
        2,
        "critical",
        ("displacement-figures", "envoy-travel"),
    )
    assert (second.id, second.severity) == (1, "low")


def test_the_digest_keeps_the_planned_order():
    alerts = [alert(1, severity="low", hours=5), alert(2, hours=1), alert(3, hours=2)]
    [digest] = plan(alerts).digests
    assert [s.alert_ids for s in digest.stories] == [(3,), (2,), (1,)]


# --- the headline is not repeated as a snippet ---------------------------------------------

HEADLINE = "UN Syria peace envoy travels to Moscow"


@pytest.mark.parametrize(
    "snippets, hits, kept, kept_hits",
    [
        (
            ("UN Syria peace envoy travels to Moscow", "The envoy will meet officials in Moscow."),
            (Hit("envoy", "envoy", 0, 15, 20), Hit("envoy", "envoy", 1, 4, 9)),
            ("The envoy will meet officials in Moscow.",),
            (Hit("envoy", "envoy", 0, 4, 9),),
        ),
        # case, punctuation and spacing do not make the headline news
        (
            ("UN  Syria: peace envoy travels to MOSCOW!",),
            (Hit("envoy", "envoy", 0, 15, 20),),
            (),
            (),
        ),
        # part of the headline says nothing the headline does not
        (("peace envoy travels",), (Hit("envoy", "envoy", 0, 6, 11),), (), ()),
        # more than the headline is kept, and so are its hits
        (
            ("UN Syria peace envoy travels to Moscow for talks on a ceasefire",),
            (Hit("ceasefire", "ceasefire", 0, 54, 63),),
            ("UN Syria peace envoy travels to Moscow for talks on a ceasefire",),
            (Hit("ceasefire", "ceasefire", 0, 54, 63),),
        ),
        (("",), (), (), ()),
    ],
    ids=["first-dropped-hits-renumbered", "folded", "part-of-headline", "says-more", "empty"],
)
def test_without_headline(snippets, hits, kept, kept_hits):
    assert without_headline(snippets, hits, HEADLINE) == (kept, kept_hits)


def test_a_story_never_shows_its_headline_as_a_snippet():
    snippets = (HEADLINE, "Strikes have displaced 40,000 people.")
    hits = (Hit("displac*", "displaced", 1, 13, 22),)
    [story] = group_stories([alert(1, title=HEADLINE, snippets=snippets, hits=hits)])
    [match] = story.matches
    assert match.snippets == ("Strikes have displaced 40,000 people.",)
    assert match.hits == (Hit("displac*", "displaced", 0, 13, 22),)


def test_snippets_are_judged_against_the_lead_headline():
    # the later article's own headline is not the one the digest shows
    lead = alert(1, story=2, hours=0, title=HEADLINE, url="https://a.example/1")
    copy = alert(
        2,
        "ceasefire",
        story=2,
        hours=1,
        title="Ceasefire agreed in the north",
        url="https://b.example/2",
        snippets=("Ceasefire agreed in the north", HEADLINE),
    )
    [story] = group_stories([lead, copy])
    ceasefire = next(m for m in story.matches if m.rule == "ceasefire")
    assert ceasefire.snippets == ("Ceasefire agreed in the north",)


# --- subjects ----------------------------------------------------------------------------


def stories_of(*alerts):
    return tuple(group_stories(alerts))


def test_the_subject_says_the_rule_summaries_of_each_story():
    stories = stories_of(
        alert(1, "displacement-figures", story=1, hours=2),
        alert(2, "envoy-travel", story=1, severity="medium", hours=2),
        alert(3, "ceasefire", story=2, severity="medium", hours=1),
    )
    assert subject_line(stories) == (
        "2 stories: at least 40,000 displaced in Syria; envoy travel to Moscow; ceasefire mentioned"
    )
    assert subject_line(stories[1:]) == "1 story: ceasefire mentioned"
    assert subject_line(()) == "0 stories"


@pytest.mark.parametrize(
    "match, expected",
    [
        (
            {"figures": (Figure(40000, "40,000", "at least"), Figure(12000, "12,000"))},
            "1 story: Displacement figures (at least 40,000, 12,000)",
        ),
        (
            {"captures": {"place": ("Moscow", "Washington"), "who": ()}},
            "1 story: Displacement figures (Moscow, Washington)",
        ),
        ({}, "1 story: Displacement figures"),
    ],
    ids=["figures", "captures", "title-alone"],
)
def test_a_rule_without_summary_is_said_by_its_title_and_figures(match, expected):
    stories = stories_of(alert(1, summary="", **match))
    assert subject_line(stories) == expected


def test_the_subject_names_the_part_of_a_digest_in_parts():
    stories = stories_of(alert(1))
    assert subject_line(stories, 2, 3) == (
        "1 story (part 2 of 3): at least 40,000 displaced in Syria"
    )


def test_stories_the_subject_has_no_room_for_are_counted():
    summaries = [f"at least {n},000 displaced in district {n}" for n in range(10, 40)]
    stories = stories_of(*(alert(i, summary=s, hours=-i) for i, s in enumerate(summaries, start=1)))
    subject = subject_line(stories)
    assert len(subject) <= SUBJECT_MAX_CHARS
    said, rest = re.fullmatch(r"30 stories: (.*), and (\d+) more", subject).groups()
    # whole summaries, in story order, and the count of the others
    assert said.split("; ") == summaries[: len(said.split("; "))]
    assert len(said.split("; ")) + int(rest) == 30


def figure_list(count, spaced):
    """ "12 000, 13 000, ..." (as French reports write thousands) or "12,000, 13,000, ..." """
    sep = " " if spaced else ","
    return [f"{12 + i}{sep}000" for i in range(count)]


@pytest.mark.parametrize("spaced", [True, False], ids=["12 000", "12,000"])
@pytest.mark.parametrize("title", ["Déplacés", "Personnes déplacées dans la province d'Idlib"])
@pytest.mark.parametrize(
    "others, part, parts", [(0, 1, 1), (1, 1, 1), (1, 12, 12)], ids=["alone", "and-1", "part"]
)
def test_a_long_list_of_figures_is_never_cut_in_half(spaced, title, others, part, parts):
    """A rule without summary says its title and every figure of its story. Growing the list
    past SUBJECT_MAX_CHARS, the subject says whole figures only, from the start of the list,
    and stays within SUBJECT_MAX_CHARS."""
    for count in range(1, 40):
        texts = figure_list(count, spaced)
        figures = tuple(Figure(int(t.replace(" ", "").replace(",", "")), t) for t in texts)
        long = alert(1, summary="", figures=figures, hours=1)
        long = replace(long, match=replace(long.match, title=title))
        stories = stories_of(long, *(alert(2 + i, hours=0) for i in range(others)))
        subject = subject_line(stories, part, parts)
        body = subject.split(": ", 1)[1]
        assert body.startswith(f"{title} ("), subject
        listed = body.removeprefix(f"{title} (").split(")")[0].removesuffix(" …")
        items = listed.split(", ")
        assert items == texts[: len(items)], subject
        assert len(subject) <= SUBJECT_MAX_CHARS, subject


def test_a_long_summary_of_several_rules_is_cut_between_them():
    places = "Moscow, Washington, Geneva, Riyadh, Tehran, Ankara, Beirut, Amman, Doha, Cairo, Paris, London"
    first, second = f"envoy travel to {places}", "at least 1.2 million displaced in Idlib"
    stories = stories_of(
        alert(1, "envoy-travel", story=1, summary=first),
        alert(2, "displacement-figures", story=1, severity="medium", summary=second),
    )
    # together too long for the subject: the first rule's whole summary, not "at least 1.2 …"
    assert subject_line(stories) == f"1 story: {first} …"


def test_a_summary_without_spaces_is_clipped_not_dropped():
    stories = stories_of(alert(1, summary="x" * 300))
    subject = subject_line(stories)
    assert len(subject) <= SUBJECT_MAX_CHARS
    assert subject.startswith("1 story: xxxx") and subject.endswith("…")


def test_the_digest_subject_is_its_stories_subject_line():
    [digest] = plan([alert(1), alert(2, "ceasefire", severity="medium")]).digests
    assert digest.subject == subject_line(digest.stories, 1, 1)
    assert digest.subject == "2 stories: at least 40,000 displaced in Syria; ceasefire mentioned"


def figures_rule(figures=(), previous=()):
    return RuleMatch(
        "displacement-figures", "Displacement", "high", "", figures, previous_figures=previous
    )


@pytest.mark.parametrize(
    "match, expected",
    [
        (figures_rule(), ""),
        (figures_rule((Figure(40000, "40,000", "at least"),)), "at least 40,000"),
        (
            figures_rule(
                (Figure(40000, "40,000", "at least"),),
                (
                    Figure(5000, "5,000", reported=datetime(2026, 9, 20, tzinfo=UTC)),
                    Figure(12000, "12,000", "some", reported=datetime(2026, 9, 28, tzinfo=UTC)),
                    Figure(25000, "25,000", reported=datetime(2026, 10, 2, tzinfo=UTC)),
                    Figure(30000, "30,000"),
                ),
            ),
            "at least 40,000 (up from 30,000, 25,000 on 2 Oct, some 12,000 on 28 Sep)",
        ),
        # history alone says nothing: it is what the figures went up from
        (figures_rule((), (Figure(25000, "25,000"),)), ""),
    ],
    ids=["none", "one", "history-latest-three", "history-without-figures"],
)
def test_figures_line(match, expected):
    assert figures_line(match) == expected


# --- parts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count, sizes",
    [
        (1, [1]),
        (MAX_DIGEST_STORIES, [MAX_DIGEST_STORIES]),
        (MAX_DIGEST_STORIES + 1, [MAX_DIGEST_STORIES, 1]),
        (2 * MAX_DIGEST_STORIES + 20, [MAX_DIGEST_STORIES, MAX_DIGEST_STORIES, 20]),
    ],
    ids=["one", "exactly-max", "one-over", "two-and-a-bit"],
)
def test_a_busy_day_goes_out_in_parts_of_at_most_max_stories(count, sizes):
    alerts = [alert(i, hours=i % 24, severity=("high", "low")[i % 2]) for i in range(1, count + 1)]
    digests = plan(alerts).digests
    assert [len(d.stories) for d in digests] == sizes
    assert [(d.part, d.parts) for d in digests] == [
        (i, len(sizes)) for i in range(1, len(sizes) + 1)
    ]
    # the parts together are the whole ordered list, each story once
    together = [s for d in digests for s in d.stories]
    assert [s.id for s in together] == [s.id for s in group_stories(alerts)]
    assert sorted(i for d in digests for i in d.alert_ids) == list(range(1, count + 1))
    if len(sizes) > 1:
        assert digests[0].subject.startswith(
            f"{MAX_DIGEST_STORIES} stories (part 1 of {len(sizes)}):"
        )
        assert digests[-1].subject.startswith(f"{sizes[-1]} ")


def test_parts_are_counted_per_target():
    alerts = [alert(i, story=i) for i in range(1, MAX_DIGEST_STORIES + 6)]
    muted = Mutes(stories=frozenset(range(1, 7)))
    result = plan(alerts, (DESK, DUTY), mutes={DUTY: muted})
    assert [(d.part, d.parts, len(d.stories)) for d in digests_for(result, DESK)] == [
        (1, 2, MAX_DIGEST_STORIES),
        (2, 2, 5),
    ]
    assert [(d.part, d.parts, len(d.stories)) for d in digests_for(result, DUTY)] == [
        (1, 1, MAX_DIGEST_STORIES - 1)
    ]


# --- mutes -------------------------------------------------------------------------------


def story_with_two_rules():
    return [
        alert(1, "displacement-figures", story=5, severity="high", hours=1),
        alert(2, "envoy-travel", story=5, severity="medium", hours=1),
        alert(3, "ceasefire", story=6, severity="low", hours=2),
    ]


@pytest.mark.parametrize(
    "mutes, expected",
    [
        (
            Mutes(),
            [
                (5, ("displacement-figures", "envoy-travel"), "high", (1, 2)),
                (6, ("ceasefire",), "low", (3,)),
            ],
        ),
        (Mutes(everything=True), []),
        (
            Mutes(rules=frozenset({"displacement-figures"})),
            [(5, ("envoy-travel",), "medium", (2,)), (6, ("ceasefire",), "low", (3,))],
        ),
        (
            Mutes(rules=frozenset({"ceasefire"})),
            [(5, ("displacement-figures", "envoy-travel"), "high", (1, 2))],
        ),
        (Mutes(rules=frozenset({"displacement-figures", "envoy-travel", "ceasefire"})), []),
        (Mutes(stories=frozenset({5})), [(6, ("ceasefire",), "low", (3,))]),
        (
            Mutes(rules=frozenset({"no-such-rule"}), stories=frozenset({99})),
            [
                (5, ("displacement-figures", "envoy-travel"), "high", (1, 2)),
                (6, ("ceasefire",), "low", (3,)),
            ],
        ),
    ],
    ids=[
        "nothing",
        "everything",
        "one-rule-of-a-story",
        "a-story-s-only-rule",
        "every-rule",
        "story",
        "unknown",
    ],
)
def test_mutes_of_one_target(mutes, expected):
    result = plan(story_with_two_rules(), (DESK, DUTY), mutes={DESK: mutes})
    desk = digests_for(result, DESK)
    said = [(s.id, s.rules, s.severity, s.alert_ids) for d in desk for s in d.stories]
    assert said == expected
    assert [d.alert_ids for d in desk] == (
        [tuple(i for *_, ids in expected for i in ids)] if expected else []
    )
    # the other address gets everything, and the cursor passes every alert either way
    [duty] = digests_for(result, DUTY)
    assert duty.alert_ids == (1, 2, 3)
    assert (result.cursor, result.alert_ids) == (3, (1, 2, 3))


def test_a_muted_rule_leaves_the_story_summary_and_subject():
    mutes = {DESK: Mutes(rules=frozenset({"displacement-figures"}))}
    result = plan(story_with_two_rules(), (DESK, DUTY), mutes=mutes)
    [desk] = digests_for(result, DESK)
    [duty] = digests_for(result, DUTY)
    assert desk.subject == "2 stories: envoy travel to Moscow; ceasefire mentioned"
    assert duty.subject.startswith("2 stories: at least 40,000 displaced in Syria; envoy")


def test_keeps_returns_the_story_itself_when_nothing_of_it_is_muted():
    [story] = group_stories([alert(1, story=5)])
    assert Mutes(rules=frozenset({"ceasefire"})).keeps(story) is story
    assert Mutes(stories=frozenset({5})).keeps(story) is None
    assert Mutes(everything=True).keeps(story) is None


def test_mutes_of_an_address_not_in_the_subscription_change_nothing():
    result = plan(story_with_two_rules(), (DESK,), mutes={DUTY: Mutes(everything=True)})
    [desk] = result.digests
    assert desk.alert_ids == (1, 2, 3)


# --- cursor, alert ids, and nothing due ------------------------------------------------------


def test_the_cursor_passes_alerts_nobody_here_wants():
    alerts = [
        alert(11, "displacement-figures", tags=("humanitarian",)),
        alert(12, "envoy-travel", tags=("diplomacy",)),
        alert(14, "ceasefire", tags=("humanitarian", "conflict")),
        alert(15, "feed-health"),
    ]
    seen = []

    def humanitarian(rule, tags):
        seen.append((rule, tags))
        return "humanitarian" in tags

    result = plan(alerts, wants=humanitarian, cursor=10)
    assert result.subscription == "humanitarian-desk"
    assert result.cursor == 15
    assert result.alert_ids == (11, 14)
    [digest] = result.digests
    assert sorted(digest.alert_ids) == [11, 14]
    assert (digest.subscription, digest.target, digest.created_at) == (
        "humanitarian-desk",
        DESK,
        NOW,
    )
    assert seen == [(a.match.rule, a.tags) for a in alerts]


@pytest.mark.parametrize(
    "alerts, wants, mutes, cursor",
    [
        ([], everything, None, 42),
        (
            [alert(43, "feed-health"), alert(44, "envoy-travel")],
            lambda rule, tags: rule == "ceasefire",
            None,
            44,
        ),
        (
            [alert(43), alert(44)],
            everything,
            {DESK: Mutes(everything=True), DUTY: Mutes(everything=True)},
            44,
        ),
    ],
    ids=["no-alerts", "none-wanted", "all-muted"],
)
def test_nothing_due_is_no_digest(alerts, wants, mutes, cursor):
    result = plan(alerts, (DESK, DUTY), wants=wants, cursor=42, mutes=mutes)
    assert result.digests == ()
    assert result.cursor == cursor


def test_no_targets_is_no_digest_but_the_cursor_moves():
    result = plan([alert(1), alert(2)], ())
    assert (result.digests, result.cursor, result.alert_ids) == ((), 2, (1, 2))


def test_every_target_gets_its_own_copy():
    result = plan([alert(1), alert(2, "ceasefire")], (DESK, DUTY))
    assert [d.target for d in result.digests] == [DESK, DUTY]
    desk, duty = result.digests
    assert isinstance(desk, DigestPlan) and desk.stories == duty.stories
