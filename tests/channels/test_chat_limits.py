"""Every chat format against every limit its service enforces, on busy and hostile digests.

Limits (a message past them is refused outright, so nothing arrives at all):
- Slack Block Kit: 50 blocks, 3,000 characters per text object, about 12,000 in all;
- Discord: 10 embeds, 6,000 characters across them, 4,096 per description, 256 per title,
  2,048 per footer, 2,000 of content;
- Teams: one Adaptive Card of at most 20 KB of JSON;
- Mattermost: 16,383 characters of text (7,900 per attachment: none are used).
Past a limit a renderer shows the top stories and "…and N more stories", linked only when the
envelope has a `more_url`. Whatever the stories say, no mention survives in any format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from monitor.channels.base import Envelope
from monitor.channels.registry import WEBHOOK_FORMATS
from monitor.digest.plan import DigestPlan
from tests.channels.conftest import (
    HOSTILE,
    body_json,
    hostile_plan,
    make_alert,
    plan_of,
    strings,
    tiny_plan,
)

MORE_URL = "https://monitor.example.org/digests/dig_0123456789abcdef"
NOTE = re.compile(r"…and (\d+) more (stor(?:y|ies))")
MARKER = re.compile(r"Story(\d\d)x")
BARE_MENTION = re.compile(r"@(?=\w)")
# markdown an untrusted title could use to link, format, spoil, quote or ping
MARKDOWN_TRICKS = (
    "[click]",
    "](https://evil",
    "![img]",
    "**bold**",
    "__under__",
    "~~gone~~",
    "||spoiler||",
    "`code`",
    "# Heading",
    "<@",
    "<!",
    "<#",
    "<at>",
    "<script>",
    "<https://evil",
)


def unescaped(text: str) -> str:
    """Markdown as a parser sees it: each backslash-escaped character is inert (here NUL)."""
    return re.sub(r"\\.", "\0", text, flags=re.DOTALL)


@dataclass(frozen=True)
class Shown:
    """What a rendered message shows: its visible texts, the note, and where the note links."""

    texts: list[str]
    note: str | None
    note_url: str | None


# --- per format: limits, visible texts, the note ----------------------------------------------


def slack(body: dict[str, Any]) -> Shown:
    blocks = body["blocks"]
    assert set(body) == {"text", "blocks"}
    assert len(blocks) <= 50
    objects = [b["text"] for b in blocks if "text" in b]
    objects += [e for b in blocks for e in b.get("elements", [])]
    assert all(o["type"] == "mrkdwn" and o["verbatim"] is True for o in objects)
    texts = [body["text"], *(o["text"] for o in objects)]
    assert all(len(t) <= 3000 for t in texts)
    assert sum(len(t) for t in texts) <= 12_000
    for text in texts:
        assert not re.search(r"<[@!#]", text), text
        # every `<` opens one of our links; untrusted `<`, `>` and `&` are entities
        bare = re.sub(r"<https://[^<>|\s]+\|[^<>]*>|^>", "", text, flags=re.MULTILINE)
        assert "<" not in bare and ">" not in bare, text
        assert not any("evil" in url for url in re.findall(r"<([^|>]*)\|", text)), text
    note, url = None, None
    if blocks[-1]["type"] == "context":
        [element] = blocks[-1]["elements"]
        linked = re.fullmatch(r"<([^|]+)\|(.+)>", element["text"])
        note, url = (linked.group(2), linked.group(1)) if linked else (element["text"], None)
    return Shown(texts, note, url)


def discord(body: dict[str, Any]) -> Shown:
    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}  # nothing pings, even if an escape failed
    embeds = body["embeds"]
    assert len(embeds) <= 10
    assert len(body["content"]) <= 2000
    total = 0
    texts = [body["content"]]
    for embed in embeds:
        footer = embed.get("footer", {}).get("text", "")
        assert len(embed["title"]) <= 256
        assert 0 < len(embed["description"]) <= 4096
        assert len(footer) <= 2048
        total += len(embed["title"]) + len(embed["description"]) + len(footer)
        texts += [embed["title"], embed["description"], footer]
    assert total <= 6000
    match = re.search(
        r"(\[(…and [^\]]+)\]\(([^)]+)\)|…and \d+ more stor(?:y|ies))$", body["content"]
    )
    note, url = None, None
    if match:
        note, url = (match.group(2), match.group(3)) if match.group(2) else (match.group(0), None)
    return Shown(texts, note, url)


def teams(body: dict[str, Any]) -> Shown:
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    runs = [v for k, v in _items(card["body"]) if k == "text"]
    for text in runs:
        assert "<" not in text and ">" not in text, text
    last = card["body"][-1]
    note, url = None, None
    if last["type"] == "RichTextBlock" and NOTE.fullmatch(last["inlines"][0]["text"]):
        note = last["inlines"][0]["text"]
        actions = card.get("actions", [])
        if actions:
            [action] = actions
            assert action["type"] == "Action.OpenUrl" and action["title"] == "Whole digest"
            url = action["url"]
    else:
        assert "actions" not in card
    return Shown(runs, note, url)


def _items(value: Any) -> list[tuple[str, str]]:
    """(key, string) pairs anywhere in a JSON value."""
    if isinstance(value, dict):
        pairs = [(k, v) for k, v in value.items() if isinstance(v, str)]
        return pairs + [p for v in value.values() for p in _items(v)]
    if isinstance(value, list):
        return [p for v in value for p in _items(v)]
    return []


def mattermost(body: dict[str, Any]) -> Shown:
    assert set(body) == {"text"}
    text = body["text"]
    assert len(text) <= 16_383
    last = text.rsplit("\n\n", 1)[-1]
    note, url = None, None
    linked = re.fullmatch(r"_\[(.+)\]\((.+)\)_", last)
    if linked:
        note, url = linked.group(1), linked.group(2)
    elif re.fullmatch(r"_…and \d+ more stor(?:y|ies)_", last):
        note = last.strip("_")
    return Shown([text], note, url)


CHAT: dict[str, Callable[[dict[str, Any]], Shown]] = {
    "slack": slack,
    "discord": discord,
    "teams": teams,
    "mattermost": mattermost,
}
SIZE_LIMITS = {"teams": 20_000}  # bytes of JSON


def render(fmt: str, plan: DigestPlan, more_url: str | None = None) -> Shown:
    payload = WEBHOOK_FORMATS[fmt](plan, Envelope("msg_1", more_url=more_url))
    assert payload.content_type == "application/json"
    assert len(payload.body) <= SIZE_LIMITS.get(fmt, 10**9)
    return CHAT[fmt](body_json(payload.body))


def shown_stories(shown: Shown) -> list[int]:
    """The story markers a message shows, in order of appearance."""
    found = [int(m) for text in shown.texts for m in MARKER.findall(text)]
    return list(dict.fromkeys(found))


def expected_markers(plan: DigestPlan) -> list[int]:
    return [int(MARKER.match(s.headline).group(1)) for s in plan.stories]  # type: ignore[union-attr]


def assert_no_mention(fmt: str, shown: Shown) -> None:
    for text in shown.texts:
        assert not BARE_MENTION.search(text), text
        if fmt in ("discord", "mattermost"):
            visible = unescaped(text)
            for trick in MARKDOWN_TRICKS:
                assert trick not in visible, (trick, text)


# --- the plans --------------------------------------------------------------------------------

PLANS: dict[str, Callable[[], DigestPlan]] = {
    # 50 stories, 3 rules each, every field long and hostile
    "hostile-50x3": lambda: hostile_plan(50, rules=3, repeat=4),
    # 50 stories, one rule each, hostile but shorter
    "hostile-50x1": lambda: hostile_plan(50, rules=1, repeat=1),
    # 50 short stories: the block and embed counts bind first
    "tiny-50": lambda: tiny_plan(50),
    # one story with many long rules
    "one-story-10-rules": lambda: hostile_plan(1, rules=10, repeat=4),
    # one story bigger than any whole message: shown cut short, never left out
    "one-story-40-rules": lambda: hostile_plan(1, rules=40, repeat=4),
}


@pytest.fixture(scope="module", params=sorted(PLANS))
def big_plan(request: pytest.FixtureRequest) -> DigestPlan:
    return PLANS[request.param]()


@pytest.mark.parametrize("more_url", [None, MORE_URL], ids=["no-link", "linked"])
@pytest.mark.parametrize("fmt", sorted(CHAT))
def test_limits_hold_and_the_rest_is_counted(
    fmt: str, big_plan: DigestPlan, more_url: str | None
) -> None:
    shown = render(fmt, big_plan, more_url)
    markers = shown_stories(shown)
    expected = expected_markers(big_plan)
    # the top stories, in the plan's order (most severe, then newest)
    assert markers and markers == expected[: len(markers)]
    rest = len(expected) - len(markers)
    if rest:
        assert shown.note == f"…and {rest} more {'story' if rest == 1 else 'stories'}"
        assert shown.note_url == more_url
    else:
        assert shown.note is None
    assert_no_mention(fmt, shown)


@pytest.mark.parametrize("fmt", sorted(CHAT))
def test_fifty_hostile_stories_overflow_every_format(fmt: str, hostile: DigestPlan) -> None:
    shown = render(fmt, hostile, MORE_URL)
    assert shown.note is not None and shown.note_url == MORE_URL
    count = int(NOTE.fullmatch(shown.note).group(1))  # type: ignore[union-attr]
    assert 0 < count < 50
    assert len(shown_stories(shown)) + count == 50


@pytest.mark.parametrize(
    ("fmt", "most"),
    [("slack", 48), ("discord", 10)],
    ids=["slack-50-blocks", "discord-10-embeds"],
)
def test_the_count_limits_bind_on_short_stories(fmt: str, most: int) -> None:
    shown = render(fmt, tiny_plan(50))
    assert len(shown_stories(shown)) == most
    assert shown.note == f"…and {50 - most} more stories"


def test_slack_uses_all_fifty_blocks() -> None:
    payload = WEBHOOK_FORMATS["slack"](tiny_plan(50), Envelope("k"))
    blocks = body_json(payload.body)["blocks"]
    assert len(blocks) == 50
    assert [b["type"] for b in blocks] == ["section"] * 49 + ["context"]


@pytest.mark.parametrize("fmt", sorted(CHAT))
@pytest.mark.parametrize("count", [1, 3, 10])
def test_a_small_digest_shows_everything_and_no_note(fmt: str, count: int) -> None:
    plan = tiny_plan(count)
    shown = render(fmt, plan, MORE_URL)
    assert shown_stories(shown) == expected_markers(plan)
    assert shown.note is None and shown.note_url is None


@pytest.mark.parametrize("fmt", sorted(CHAT))
def test_one_story_more_is_singular(fmt: str) -> None:
    """Just past the limit: "…and 1 more story"."""
    limit = {"slack": 48, "discord": 10}.get(fmt)
    if limit is None:  # byte and character budgets: find the story count that overflows by one
        plan = next(
            p
            for p in (hostile_plan(n, rules=1, repeat=1) for n in range(2, 51))
            if render(fmt, p).note is not None
        )
    else:
        plan = tiny_plan(limit + 1)
    shown = render(fmt, plan, MORE_URL)
    assert shown.note == "…and 1 more story"
    assert len(shown_stories(shown)) == len(plan.stories) - 1


@pytest.mark.parametrize("fmt", sorted(CHAT))
def test_a_hostile_subject_pings_nobody(fmt: str) -> None:
    alerts = [make_alert(1, headline=HOSTILE, site=HOSTILE, title=HOSTILE, summary=HOSTILE)]
    plan = plan_of(alerts)
    assert "@everyone" in plan.subject
    shown = render(fmt, plan)
    assert_no_mention(fmt, shown)
    text = "\n".join(shown.texts)
    assert "everyone" in text and "click" in text  # shown, only made inert
    assert "\r" not in text


@pytest.mark.parametrize("fmt", sorted(CHAT))
def test_no_line_break_from_a_title_reaches_the_message(fmt: str) -> None:
    plan = plan_of([make_alert(1, headline="Envoy\r\n\r\n# travels\u2028@here")])
    body = body_json(WEBHOOK_FORMATS[fmt](plan, Envelope("k")).body)
    between = [b for text in strings(body) for b in re.findall(r"Envoy(.*?)travels", text, re.S)]
    assert between and set(between) <= {" # ", " \\# "}


@pytest.mark.parametrize("fmt", sorted(WEBHOOK_FORMATS))
def test_every_body_is_valid_compact_json(fmt: str, hostile: DigestPlan) -> None:
    body = WEBHOOK_FORMATS[fmt](hostile, Envelope("k")).body
    assert json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode() == body
