"""Discord: one embed per story, markdown-escaped, with mentions switched off."""

from __future__ import annotations

import pytest

from monitor.channels import discord
from monitor.channels.base import Envelope
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import HOSTILE, SEED_URL, body_json, make_alert, plan_of

ZWSP = "\u200b"


def body(plan: DigestPlan, **envelope: str) -> dict:
    return body_json(discord.render(plan, Envelope("k", **envelope)).body)


def test_the_seed_digest(seed: DigestPlan) -> None:
    message = body(seed)
    assert message["content"] == seed.subject
    assert message["allowed_mentions"] == {"parse": []}
    [embed] = message["embeds"]
    assert embed["title"] == "UN Syria peace envoy travels to Moscow"
    assert embed["url"] == SEED_URL
    assert embed["color"] == discord.SEVERITY_COLORS["high"]
    assert embed["footer"] == {"text": "Middle East Eye, Reuters"}
    assert embed["description"].split("\n") == [
        "**New displacement figures** · high",
        "Figures: at least 40,000 (up from 25,000 on 2 Oct)",
        "> According to the UN, Russian strikes have displaced 40,000 people since they began on 30 September.",
        "**Envoy travel** · medium",
        "destination: Moscow, Washington",
        '> The Italian-Swedish diplomat said he would travel on to Washington, which has also been carrying out airstrikes in Syria, "immediately after" his Moscow visit.',
        "**Ceasefire mentioned** · medium",
        "> Several local ceasefires were in place at the time Russia began its military strikes.",
    ]


@pytest.mark.parametrize(
    ("severity", "color"),
    [
        ("critical", 0xC62828),
        ("high", 0xEF6C00),
        ("medium", 0xF9A825),
        ("low", 0x1E88E5),
        ("info", 0x78909C),
        ("odd", 0xF9A825),
    ],
)
def test_embed_colour_follows_severity(severity: str, color: int) -> None:
    [embed] = body(plan_of([make_alert(1, severity=severity)]))["embeds"]
    assert embed["color"] == color


def test_hostile_text_is_escaped_and_inert() -> None:
    alert = make_alert(
        1, headline=HOSTILE, site=HOSTILE, title=HOSTILE, snippets=("Quote: " + HOSTILE,)
    )
    [embed] = body(plan_of([alert]))["embeds"]
    assert embed["title"].startswith(
        rf"@{ZWSP}channel \<!here\> @{ZWSP}everyone \<@{ZWSP}123\> \<@{ZWSP}U0123ABC\>"
    )
    assert r"\[click\](https://evil.example)" in embed["description"]
    assert r"\|\|spoiler\|\| \`code\` \# Heading \> quote" in embed["description"]
    assert r"\<at\>Alice\</at\> \<script\>" in embed["description"]
    assert embed["footer"]["text"].startswith(rf"@{ZWSP}channel \<!here\>")


def test_a_story_without_a_safe_link_has_no_url() -> None:
    [embed] = body(plan_of([make_alert(1, url="https://ex.org/a b")]))["embeds"]
    assert "url" not in embed


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 5, "abcd…"),
        (r"abc\*def", 5, "abc…"),  # the cut would end on the escape's backslash
        ("ab\\\\cdef", 5, "ab\\\\…"),  # an escaped backslash is kept whole
    ],
    ids=["fits", "cut", "no-dangling-escape", "escaped-backslash"],
)
def test_md_clip(text: str, limit: int, expected: str) -> None:
    assert discord.md_clip(text, limit) == expected
    assert len(discord.md_clip(text, limit)) <= limit


def test_the_more_note_is_escaped_content_linked_to_the_digest() -> None:
    from tests.channels.conftest import tiny_plan

    plan = tiny_plan(12)
    assert body(plan)["content"].endswith("…and 2 more stories")
    linked = body(plan, more_url="https://mon.example/d/(1)")["content"]
    assert linked.endswith("[…and 2 more stories](https://mon.example/d/%281%29)")
