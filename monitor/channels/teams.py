"""Microsoft Teams body: a message carrying one Adaptive Card (Workflows / incoming webhooks).

Untrusted text goes only into `RichTextBlock` text runs, which Adaptive Cards never parse as
markdown, so a title cannot turn into a link or formatting; article links are `Action.OpenUrl`
select actions on the title run. Cards have no escape for `<` and `>`, and hosts differ in what
they do with tag-like text (`<at>` mentions, HTML), so angle brackets become look-alike
single guillemets in untrusted text.

Size: Teams documents 28 KB per message, and Workflows are seen refusing cards past about
21 KB; stories are added while the JSON stays under CARD_BUDGET bytes, then "and N more".
"""

from __future__ import annotations

import json
from typing import Any

from monitor.channels.base import (
    Envelope,
    Payload,
    StoryView,
    json_payload,
    more_note,
    plain,
    shortened,
    story_view,
)
from monitor.digest.plan import DigestPlan

CARD_VERSION = "1.4"
CARD_BUDGET = 20_000

SEVERITY_COLORS = {
    "critical": "Attention",
    "high": "Warning",
    "medium": "Accent",
    "low": "Good",
    "info": "Default",
}


def inert(text: str) -> str:
    """Text with no tag-like sequences left (text runs are not markdown already)."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": inert(text), **style}


def _rich(*runs: dict[str, Any], spacing: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": list(runs)}
    if spacing:
        block["spacing"] = spacing
    return block


def story_container(view: StoryView) -> dict[str, Any]:
    """One story: linked headline and outlets, then each rule's reasons."""
    title_style: dict[str, Any] = {"weight": "Bolder", "color": "Accent"}
    if view.url:
        title_style["selectAction"] = {"type": "Action.OpenUrl", "url": view.url}
    items = [
        _rich(
            _run(view.headline, **title_style),
            *([_run(f"  ({view.outlets})", isSubtle=True)] if view.outlets else []),
        )
    ]
    for rule in view.rules:
        color = SEVERITY_COLORS.get(rule.severity.lower(), "Default")
        items.append(
            _rich(
                _run(rule.title, weight="Bolder"),
                _run(f"  {rule.severity}", color=color),
                spacing="Small",
            )
        )
        if rule.figures:
            items.append(_rich(_run("Figures: "), _run(rule.figures), spacing="Small"))
        for name, values in rule.captures:
            items.append(_rich(_run(f"{name}: "), _run(values), spacing="Small"))
        if rule.snippet:
            items.append(_rich(_run(rule.snippet, italic=True, isSubtle=True), spacing="Small"))
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def _message(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def render(plan: DigestPlan, envelope: Envelope) -> Payload:
    body: list[dict[str, Any]] = [
        _rich(_run(plain(plan.subject, 300), size="Large", weight="Bolder"))
    ]
    reserve = 600  # the "more" note and its action
    used = _size(_message(body, []))
    shown = 0
    room = CARD_BUDGET - reserve
    for story in plan.stories:
        view = story_view(story)
        if not shown:  # the first story is shown, cut short if need be
            view = shortened(view, lambda v: _size(story_container(v)) + 1, room - used)
        container = story_container(view)
        size = _size(container) + 1
        if used + size > room:
            break
        body.append(container)
        used += size
        shown += 1
    actions: list[dict[str, Any]] = []
    if shown < len(plan.stories):
        body.append(_rich(_run(more_note(plan, shown), isSubtle=True)))
        if envelope.more_url:
            actions.append(
                {"type": "Action.OpenUrl", "title": "Whole digest", "url": envelope.more_url}
            )
    return json_payload(plan.subject, _message(body, actions))
