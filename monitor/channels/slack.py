"""Slack incoming-webhook body: a fallback `text` plus Block Kit sections written in mrkdwn.

Untrusted text is passed through `plain` (no line breaks, no bare mentions) and then has `&`,
`<` and `>` replaced by entities, which is the escaping Slack documents: it turns `<!channel>`,
`<@U123>` and `<https://evil|click>` into visible text. Text objects are `verbatim` so Slack does
not auto-link channel names or parse mentions on its own.

Limits: 50 blocks, 3,000 characters per text object, and about 13,000 characters in all
(Slack is seen refusing messages past that): stories are added while they fit, then "and N
more" links to the whole digest.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import (
    Envelope,
    Payload,
    StoryView,
    clip,
    json_payload,
    more_note,
    plain,
    rule_lines,
    story_view,
)
from monitor.digest.plan import DigestPlan

MAX_BLOCKS = 50
TEXT_LIMIT = 3000
MESSAGE_BUDGET = 12_000


def escape(text: str) -> str:
    """Slack's three control characters as entities (`&` first, or the others double up)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, label: str) -> str:
    if url is None:
        return escape(label)
    # `|` separates URL from label inside <...>; percent-encoding keeps the URL's meaning
    target = escape(url).replace("|", "%7C")
    return f"<{target}|{escape(label)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, TEXT_LIMIT), "verbatim": True}


def story_mrkdwn(view: StoryView) -> str:
    """One story as mrkdwn lines: linked headline and outlets, then each rule's reasons."""
    lines = [f"*{_link(view.url, view.headline)}*"]
    if view.outlets:
        lines[0] += f" ({escape(view.outlets)})"
    return "\n".join(lines + rule_lines(view, escape, "*", ">"))


def render(plan: DigestPlan, envelope: Envelope) -> Payload:
    subject = escape(plain(plan.subject, 250))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{subject}*")}]
    used = len(subject) * 2  # the header block and the fallback text say it
    shown = 0
    for story in plan.stories:
        text = _mrkdwn(story_mrkdwn(story_view(story)))
        # keep a block and some budget for the "more" note
        if len(blocks) >= MAX_BLOCKS - 1 or used + len(text["text"]) > MESSAGE_BUDGET - 300:
            break
        blocks.append({"type": "section", "text": text})
        used += len(text["text"])
        shown += 1
    if shown < len(plan.stories):
        note = escape(more_note(plan, shown))
        if envelope.more_url:
            note = _link(envelope.more_url, more_note(plan, shown))
        blocks.append({"type": "context", "elements": [_mrkdwn(note)]})
    return json_payload(plan.subject, {"text": clip(subject, TEXT_LIMIT), "blocks": blocks})
