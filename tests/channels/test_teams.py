"""Microsoft Teams: one Adaptive Card, untrusted text only in text runs (never markdown)."""

from __future__ import annotations

from typing import Any

from monitor.channels import teams
from monitor.channels.base import Envelope
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import HOSTILE, SEED_URL, body_json, make_alert, plan_of, tiny_plan

ZWSP = "\u200b"


def card(plan: DigestPlan, **envelope: str) -> dict[str, Any]:
    message = body_json(teams.render(plan, Envelope("k", **envelope)).body)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    return attachment["content"]


def element_types(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["type"]} if isinstance(value.get("type"), str) else set()
        return found.union(*(element_types(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(element_types(v) for v in value))
    return set()


def runs(block: dict[str, Any]) -> list[str]:
    return [run["text"] for run in block["inlines"]]


def test_the_seed_digest(seed: DigestPlan) -> None:
    content = card(seed)
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert content["msteams"] == {"width": "Full"}
    assert "actions" not in content
    header, story = content["body"]
    assert runs(header) == [seed.subject]
    assert story["type"] == "Container" and story["separator"] is True
    headline = story["items"][0]["inlines"][0]
    assert headline["text"] == "UN Syria peace envoy travels to Moscow"
    assert headline["selectAction"] == {"type": "Action.OpenUrl", "url": SEED_URL}
    assert [runs(item) for item in story["items"]] == [
        ["UN Syria peace envoy travels to Moscow", "  (Middle East Eye, Reuters)"],
        ["New displacement figures", "  high"],
        ["Figures: ", "at least 40,000 (up from 25,000 on 2 Oct)"],
        [
            "According to the UN, Russian strikes have displaced 40,000 people since they began on 30 September."
        ],
        ["Envoy travel", "  medium"],
        ["destination: ", "Moscow, Washington"],
        [
            'The Italian-Swedish diplomat said he would travel on to Washington, which has also been carrying out airstrikes in Syria, "immediately after" his Moscow visit.'
        ],
        ["Ceasefire mentioned", "  medium"],
        ["Several local ceasefires were in place at the time Russia began its military strikes."],
    ]
    assert story["items"][1]["inlines"][1]["color"] == "Warning"


def test_only_text_runs_carry_text() -> None:
    # TextBlock would parse markdown; text runs never do
    plan = plan_of([make_alert(1, headline=HOSTILE, snippets=(HOSTILE,))])
    assert element_types(card(plan)) == {
        "AdaptiveCard",
        "RichTextBlock",
        "TextRun",
        "Container",
        "Action.OpenUrl",
    }


def test_hostile_text_keeps_no_tags() -> None:
    alert = make_alert(
        1, headline=HOSTILE, site=HOSTILE, title=HOSTILE, snippets=("Quote: " + HOSTILE,)
    )
    story = card(plan_of([alert]))["body"][1]
    headline = story["items"][0]["inlines"][0]["text"]
    assert headline.startswith(f"@{ZWSP}channel ‹!here› @{ZWSP}everyone ‹@{ZWSP}123›")
    snippet = runs(story["items"][-1])[0]
    assert "‹at›Alice‹/at›" in snippet and "‹script›alert(1)‹/script›" in snippet
    assert "**bold**" in snippet  # text runs show markdown as it is written


def test_inert() -> None:
    assert teams.inert("<at>x</at> a<b") == "‹at›x‹/at› a‹b"


def test_a_story_without_a_safe_link_has_no_action() -> None:
    story = card(plan_of([make_alert(1, url="ftp://ex.org/a")]))["body"][1]
    assert "selectAction" not in story["items"][0]["inlines"][0]


def test_the_more_note_and_its_action() -> None:
    plan = tiny_plan(50)
    plain_card = card(plan)
    assert "actions" not in plain_card
    note = plain_card["body"][-1]
    assert runs(note)[0].startswith("…and ") and runs(note)[0].endswith(" more stories")
    linked = card(plan, more_url="https://mon.example/d/1")
    assert linked["actions"] == [
        {"type": "Action.OpenUrl", "title": "Whole digest", "url": "https://mon.example/d/1"}
    ]
    assert linked["body"] == plain_card["body"]
