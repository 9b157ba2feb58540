"""What every channel shares: inert text, markdown escaping, the story view, small helpers."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.channels.base import (
    Envelope,
    Payload,
    isoformat_utc,
    json_payload,
    md_escape,
    md_link,
    more_note,
    outlets_text,
    plain,
    rule_lines,
    story_view,
)
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import (
    HOSTILE,
    SEED_TITLE,
    SEED_URL,
    make_alert,
    plan_of,
    tiny_plan,
)

ZWSP = "\u200b"


# --- plain -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@everyone look", f"@{ZWSP}everyone look"),
        ("@here @channel @all", f"@{ZWSP}here @{ZWSP}channel @{ZWSP}all"),
        ("ping <@123> and <@U0ABC>", f"ping <@{ZWSP}123> and <@{ZWSP}U0ABC>"),
        ("mail desk@example.org", f"mail desk@{ZWSP}example.org"),
        ("@Ünïcode", f"@{ZWSP}Ünïcode"),
        ("a @ b, 5@ and @", "a @ b, 5@ and @"),
        ("Breaking\r\nBcc: x\u2028y\u2029z\x85w", "Breaking Bcc: x y z w"),
        ("tab\tand\x00nul", "tab and nul"),
        ("  spaced   out  ", "spaced out"),
        ("evil\u202etxt.exe\u2066", "eviltxt.exe"),
    ],
    ids=[
        "everyone",
        "here-channel-all",
        "user-ids",
        "email-address",
        "unicode-name",
        "lone-at-signs",
        "line-breaks",
        "controls",
        "whitespace",
        "bidi-overrides",
    ],
)
def test_plain_neutralises_mentions_and_line_breaks(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_plain_clips_to_its_limit_with_an_ellipsis() -> None:
    assert plain("x" * 50, 10) == "x" * 9 + "…"
    assert len(plain("@a " * 200, 50)) <= 50
    assert plain("short", 10) == "short"


@pytest.mark.parametrize("limit", range(2, 40))
def test_plain_never_leaves_a_mention_at_any_cut(limit: int) -> None:
    text = plain("@everyone @here " * 5, limit)
    assert len(text) <= limit
    assert not re.search(r"@(?=\w)", text)


def test_plain_of_hostile_text_is_one_inert_line() -> None:
    text = plain(HOSTILE, 2000)
    assert not re.search(r"@(?=\w)", text)
    assert not any(ch in text for ch in "\r\n\u2028\u202e")
    # the rest is left for each format to escape its own way
    assert "<!here>" in text and "**bold**" in text


# --- markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("**bold** __u__", r"\*\*bold\*\* \_\_u\_\_"),
        ("[click](https://evil.example)", r"\[click\](https://evil.example)"),
        ("<@123> <#1> <t:1>", r"\<@123\> \<\#1\> \<t:1\>"),
        ("||spoiler|| ~~s~~ `c`", r"\|\|spoiler\|\| \~\~s\~\~ \`c\`"),
        ("# heading > quote", r"\# heading \> quote"),
        (r"back\slash", r"back\\slash"),
        ("(parens) stay", "(parens) stay"),
    ],
    ids=[
        "plain",
        "emphasis",
        "link",
        "angle",
        "spoiler-strike-code",
        "heading-quote",
        "backslash",
        "parens",
    ],
)
def test_md_escape(text: str, expected: str) -> None:
    assert md_escape(text) == expected


@pytest.mark.parametrize(
    ("url", "label", "expected"),
    [
        ("https://ex.org/a", "Title", "[Title](https://ex.org/a)"),
        ("https://ex.org/a_(b)", "T", "[T](https://ex.org/a_%28b%29)"),
        ("https://ex.org/a<b>c", "T", "[T](https://ex.org/a%3Cb%3Ec)"),
        ("https://ex.org/a\\b", "T", "[T](https://ex.org/a%5Cb)"),
        (
            "https://ex.org/a",
            "[x](https://evil.example)",
            r"[\[x\](https://evil.example)](https://ex.org/a)",
        ),
        (None, "**no link**", r"\*\*no link\*\*"),
    ],
    ids=[
        "simple",
        "parens-encoded",
        "angles-encoded",
        "backslash-encoded",
        "label-escaped",
        "no-url",
    ],
)
def test_md_link(url: str | None, label: str, expected: str) -> None:
    assert md_link(url, label) == expected


def test_md_link_target_cannot_close_the_link_early() -> None:
    link = md_link("https://ex.org/x) [evil](https://evil.example", "ok")
    target = link[link.index("](") + 2 : -1]
    assert ")" not in target and " " not in target


# --- story view ------------------------------------------------------------------------------


def test_story_view_of_the_seed(seed: DigestPlan) -> None:
    view = story_view(seed.stories[0])
    assert view.headline == SEED_TITLE
    assert view.url == SEED_URL
    assert view.severity == "high"
    assert view.outlets == "Middle East Eye, Reuters"
    assert [r.title for r in view.rules] == [
        "New displacement figures",
        "Envoy travel",
        "Ceasefire mentioned",
    ]
    displacement, envoy, ceasefire = view.rules
    assert displacement.figures == "at least 40,000 (up from 25,000 on 2 Oct)"
    assert displacement.snippet.startswith("According to the UN, Russian strikes")
    assert envoy.captures == (("destination", "Moscow, Washington"),)
    assert envoy.figures == ""
    assert ceasefire.captures == ()


def test_story_view_neutralises_every_field() -> None:
    alert = make_alert(
        1,
        title=HOSTILE,
        severity="high",
        headline=HOSTILE,
        site=HOSTILE,
        captures={HOSTILE: (HOSTILE, "@here")},
        snippets=(HOSTILE,),
    )
    view = story_view(plan_of([alert]).stories[0])
    texts = [view.headline, view.severity, view.outlets]
    for rule in view.rules:
        texts += [rule.title, rule.severity, rule.figures, rule.snippet]
        texts += [part for capture in rule.captures for part in capture]
    for text in texts:
        assert not re.search(r"@(?=\w)", text), text
        assert "\r" not in text and "\n" not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ex.org/a?b=1", "https://ex.org/a?b=1"),
        ("http://ex.org/", "http://ex.org/"),
        ("javascript:alert(1)", None),
        ("https://ex.org/a b", None),
        ("https://ex.org/a\r\nX: y", None),
        ("/relative/path", None),
        ("", None),
    ],
    ids=["https", "http", "javascript", "space", "crlf", "relative", "empty"],
)
def test_story_view_links_only_http_urls(url: str, expected: str | None) -> None:
    view = story_view(plan_of([make_alert(1, url=url)]).stories[0])
    assert view.url == expected


def test_story_view_of_an_untitled_story() -> None:
    view = story_view(plan_of([make_alert(1, headline=" \r\n ")]).stories[0])
    assert view.headline == "(untitled)"


def test_outlets_text_names_three_then_counts() -> None:
    alerts = [
        make_alert(i, url=f"https://ex{i}.org/a", site=name)
        for i, name in enumerate(["A", "B", "A", "C", "D", "E"], 1)
    ]
    story = plan_of(alerts).stories[0]
    assert outlets_text(story) == "A, B, C and 2 more"
    assert outlets_text(story, shown=10) == "A, B, C, D, E"


def test_outlets_fall_back_to_the_host() -> None:
    story = plan_of([make_alert(1, url="https://www.example.net/x", site=None)]).stories[0]
    assert outlets_text(story) == "www.example.net"


def test_rule_lines_use_the_formats_markup(seed: DigestPlan) -> None:
    lines = rule_lines(story_view(seed.stories[0]), str.upper, "**", "> ")
    assert lines[:3] == [
        "**NEW DISPLACEMENT FIGURES** · HIGH",
        "Figures: AT LEAST 40,000 (UP FROM 25,000 ON 2 OCT)",
        "> ACCORDING TO THE UN, RUSSIAN STRIKES HAVE DISPLACED 40,000 PEOPLE SINCE THEY BEGAN ON 30 SEPTEMBER.",
    ]
    assert "DESTINATION: MOSCOW, WASHINGTON" in lines


# --- small helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stories", "shown", "expected"),
    [(5, 4, "…and 1 more story"), (5, 2, "…and 3 more stories"), (50, 0, "…and 50 more stories")],
    ids=["one", "some", "all"],
)
def test_more_note(stories: int, shown: int, expected: str) -> None:
    assert more_note(tiny_plan(stories), shown) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2015, 10, 20, 7, 30, tzinfo=UTC), "2015-10-20T07:30:00Z"),
        (datetime(2015, 10, 20, 7, 30), "2015-10-20T07:30:00Z"),
        (
            datetime(2015, 10, 20, 9, 30, tzinfo=timezone(timedelta(hours=2))),
            "2015-10-20T07:30:00Z",
        ),
        (None, None),
    ],
    ids=["utc", "naive-is-utc", "offset", "none"],
)
def test_isoformat_utc(value: datetime | None, expected: str | None) -> None:
    assert isoformat_utc(value) == expected


def test_json_payload_is_compact_utf8() -> None:
    payload = json_payload("Sujet é", {"text": "Ünïcode ‹›", "n": [1, 2]})
    assert payload == Payload(
        "Sujet é", '{"text":"Ünïcode ‹›","n":[1,2]}'.encode(), "application/json"
    )


def test_envelope_and_payload_are_frozen() -> None:
    envelope = Envelope("msg_1")
    assert (envelope.more_url, envelope.unsubscribe_url, envelope.unsubscribe_mailto) == (None,) * 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        envelope.key = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        json_payload("s", {}).body = b""  # type: ignore[misc]
