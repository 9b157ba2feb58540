"""Mattermost: one markdown post, every untrusted character escaped."""

from __future__ import annotations

import re

from monitor.channels import mattermost
from monitor.channels.base import Envelope
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import HOSTILE, SEED_URL, body_json, make_alert, plan_of, tiny_plan

ZWSP = "\u200b"


def text(plan: DigestPlan, **envelope: str) -> str:
    body = body_json(mattermost.render(plan, Envelope("k", **envelope)).body)
    assert set(body) == {"text"}
    return body["text"]


def test_the_seed_digest(seed: DigestPlan) -> None:
    assert text(seed) == "\n".join(
        [
            f"#### {seed.subject}",
            "",
            f"**[UN Syria peace envoy travels to Moscow]({SEED_URL})** (Middle East Eye, Reuters)  ",
            "**New displacement figures** · high  ",
            "Figures: at least 40,000 (up from 25,000 on 2 Oct)  ",
            "> According to the UN, Russian strikes have displaced 40,000 people since they began on 30 September.",
            "",
            "**Envoy travel** · medium  ",
            "destination: Moscow, Washington  ",
            '> The Italian-Swedish diplomat said he would travel on to Washington, which has also been carrying out airstrikes in Syria, "immediately after" his Moscow visit.',
            "",
            "**Ceasefire mentioned** · medium  ",
            "> Several local ceasefires were in place at the time Russia began its military strikes.",
        ]
    )


def test_a_quote_ends_before_the_next_line() -> None:
    # markdown continues a quote into the lines right after it ("lazy" continuation)
    lines = text(plan_of([make_alert(1, snippets=("Quoted.",)), make_alert(2, rule="r2")])).split(
        "\n"
    )
    for line, after in zip(lines, lines[1:], strict=False):
        if line.startswith("> "):
            assert after == ""


def test_hostile_text_is_escaped_and_inert() -> None:
    alert = make_alert(
        1, headline=HOSTILE, site=HOSTILE, title=HOSTILE, snippets=("Quote: " + HOSTILE,)
    )
    post = text(plan_of([alert]))
    assert not re.search(r"@(?=\w)", post)
    assert rf"[@{ZWSP}channel \<!here\> @{ZWSP}everyone" in post
    assert r"\[click\](https://evil.example) !\[img\](https://evil.example/x.png)" in post
    assert r"\~\~gone\~\~ \|\|spoiler\|\| \`code\` \# Heading" in post
    assert "\r" not in post


def test_link_targets_are_encoded_and_unsafe_links_dropped() -> None:
    linked = text(plan_of([make_alert(1, url="https://ex.org/a_(b) c")]))
    assert (
        "**UN Syria peace envoy travels to Moscow** (Middle East Eye)" in linked
    )  # space: no link
    linked = text(plan_of([make_alert(1, url="https://ex.org/a_(b)<c>")]))
    assert "**[UN Syria peace envoy travels to Moscow](https://ex.org/a_%28b%29%3Cc%3E)**" in linked


def test_the_more_note_is_italic_and_linked_when_it_can_be() -> None:
    plan = plan_of(
        [
            make_alert(
                i, story_id=i, url=f"https://ex.org/{i}", headline="x" * 240, snippets=("y" * 380,)
            )
            for i in range(1, 51)
        ]
    )
    assert re.search(r"\n\n_…and \d+ more stories_$", text(plan))
    assert re.search(
        r"\n\n_\[…and \d+ more stories\]\(https://mon\.example/d/1\)_$",
        text(plan, more_url="https://mon.example/d/1"),
    )
    assert "more stor" not in text(tiny_plan(5))
