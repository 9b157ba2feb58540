"""Slack: Block Kit sections in mrkdwn, untrusted text made inert by Slack's own escaping."""

from __future__ import annotations

import pytest

from monitor.channels import slack
from monitor.channels.base import Envelope
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import HOSTILE, SEED_URL, body_json, make_alert, plan_of

ZWSP = "\u200b"


def blocks(plan: DigestPlan, **envelope: str) -> list[dict]:
    return body_json(slack.render(plan, Envelope("k", **envelope)).body)["blocks"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a & b", "a &amp; b"),
        ("<!here> <@U1>", "&lt;!here&gt; &lt;@U1&gt;"),
        ("&lt;already&gt;", "&amp;lt;already&amp;gt;"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
        ("*bold* _it_", "*bold* _it_"),
    ],
    ids=["ampersand", "mentions", "entities-stay-literal", "link", "formatting-untouched"],
)
def test_escape(text: str, expected: str) -> None:
    assert slack.escape(text) == expected


def test_the_seed_digest(seed: DigestPlan) -> None:
    body = body_json(slack.render(seed, Envelope("k")).body)
    assert body["text"] == seed.subject  # the notification's fallback
    header, story = body["blocks"]
    assert header == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"*{seed.subject}*", "verbatim": True},
    }
    assert story["type"] == "section"
    assert story["text"]["verbatim"] is True
    assert story["text"]["text"].split("\n") == [
        f"*<{SEED_URL}|UN Syria peace envoy travels to Moscow>* (Middle East Eye, Reuters)",
        "*New displacement figures* · high",
        "Figures: at least 40,000 (up from 25,000 on 2 Oct)",
        ">According to the UN, Russian strikes have displaced 40,000 people since they began on 30 September.",
        "*Envoy travel* · medium",
        "destination: Moscow, Washington",
        '>The Italian-Swedish diplomat said he would travel on to Washington, which has also been carrying out airstrikes in Syria, "immediately after" his Moscow visit.',
        "*Ceasefire mentioned* · medium",
        ">Several local ceasefires were in place at the time Russia began its military strikes.",
    ]


def test_hostile_text_is_shown_inert() -> None:
    alert = make_alert(1, headline=HOSTILE, site="@here & co", snippets=("Quote: " + HOSTILE,))
    story = blocks(plan_of([alert]))[1]["text"]["text"]
    assert f"&lt;!here&gt; @{ZWSP}everyone &lt;@{ZWSP}123&gt;" in story
    assert "&lt;!channel&gt; &lt;#C024BE7LR&gt;" in story
    assert "&lt;https://evil.example|click&gt;" in story
    assert "&lt;script&gt;" in story
    assert "&amp;amp; &amp;" in story
    assert f"(@{ZWSP}here &amp; co)" in story
    assert "\r" not in story and "Bcc" in story


def test_link_targets_cannot_break_out_of_the_link() -> None:
    alert = make_alert(1, url="https://news.example/a?x=1|2>3&y=<4>")
    story = blocks(plan_of([alert]))[1]["text"]["text"]
    assert story.startswith(
        "*<https://news.example/a?x=1%7C2&gt;3&amp;y=&lt;4&gt;|UN Syria peace envoy travels to Moscow>*"
    )


def test_a_story_without_a_safe_link_is_shown_unlinked() -> None:
    story = blocks(plan_of([make_alert(1, url="javascript:alert(1)", headline="<b>Hi</b>")]))
    assert story[1]["text"]["text"].startswith("*&lt;b&gt;Hi&lt;/b&gt;* (Middle East Eye)")


def test_a_long_story_is_clipped_to_one_text_object() -> None:
    alert = make_alert(
        1,
        headline="&" * 300,
        captures={f"k{i}": ("&" * 300,) for i in range(10)},
        snippets=("&" * 500,),
    )
    text = blocks(plan_of([alert]))[1]["text"]["text"]
    assert len(text) == slack.TEXT_LIMIT and text.endswith("…")
