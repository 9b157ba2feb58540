"""Microsoft Teams body: a message carrying one Adaptive Card (Workflows / incoming webhooks).

Untrusted text goes only into `RichTextBlock` text runs, which Adaptive Cards never parse as
markdown, so a title cannot turn into a link or formatting; article links are `Action.OpenUrl`
select actions on the title run. Cards have no escape for `<` and `>`, and hosts differ in what
they do with tag-like text (`<at>` mentions, HTML), so angle brackets become look-alike
single guillemets in untrusted text.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import AlertView, alert_view, plain, register_format
from monitor.models import Digest, Message

CARD_VERSION = "1.4"
# Teams refuses messages over about 28 KB; 25 alerts of clipped text stay far below that.
MAX_ALERTS = 25

SEVERITY_COLORS = {
    "critical": "Attention",
    "high": "Attention",
    "medium": "Warning",
    "low": "Accent",
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


def alert_container(view: AlertView) -> dict[str, Any]:
    """One alert: rule and severity, linked title, figures, captures and the first snippet."""
    color = SEVERITY_COLORS.get(view.severity.lower(), "Warning")
    title_style: dict[str, Any] = {"color": "Accent"}
    if view.url:
        title_style["selectAction"] = {"type": "Action.OpenUrl", "url": view.url}
    items = [
        _rich(_run(view.rule_title, weight="Bolder"), _run(f"  {view.severity}", color=color)),
        _rich(
            _run(view.article_title, **title_style),
            *([_run(f"  ({view.site_name})", isSubtle=True)] if view.site_name else []),
            spacing="Small",
        ),
    ]
    if view.figures:
        items.append(_rich(_run("Figures: ", weight="Bolder"), _run(view.figures), spacing="Small"))
    for name, values in view.captures:
        items.append(_rich(_run(f"{name}: ", weight="Bolder"), _run(values), spacing="Small"))
    if view.snippet:
        items.append(_rich(_run(view.snippet, italic=True, isSubtle=True), spacing="Small"))
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


@register_format("teams")
def teams_body(digest: Digest, message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        _rich(_run(plain(message.subject, 300), size="Large", weight="Bolder"))
    ]
    body += [alert_container(alert_view(a)) for a in digest.alerts[:MAX_ALERTS]]
    if len(digest.alerts) > MAX_ALERTS:
        more = f"…and {len(digest.alerts) - MAX_ALERTS} more alerts"
        body.append(_rich(_run(more, isSubtle=True)))
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
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
