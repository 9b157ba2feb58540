"""Mattermost incoming-webhook body: `{"text": ...}` in Mattermost's markdown.

Mattermost pings on `@channel`, `@all`, `@here` and `@username` written in plain text, so the
zero-width space `plain` puts after every `@` matters here; markdown punctuation is escaped so a
title cannot become a link, an image or a heading.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import AlertView, alert_view, md_escape, md_link, plain, register_format
from monitor.models import Digest, Message

# Mattermost's default maximum post length is 16383 characters; stay well inside it.
TEXT_LIMIT = 16000


def alert_markdown(view: AlertView) -> str:
    """One alert: rule and severity, linked title, figures, captures and the first snippet."""
    title = md_link(view.url, view.article_title)
    if view.site_name:
        title += f" ({md_escape(view.site_name)})"
    lines = [f"**{md_escape(view.rule_title)}** · {md_escape(view.severity)}", title]
    if view.figures:
        lines.append(f"**Figures:** {md_escape(view.figures)}")
    lines += [f"**{md_escape(name)}:** {md_escape(values)}" for name, values in view.captures]
    if view.snippet:
        lines.append(f"> {md_escape(view.snippet)}")
    # two trailing spaces keep each line a line inside one paragraph
    return "  \n".join(lines)


@register_format("mattermost")
def mattermost_body(digest: Digest, message: Message) -> dict[str, Any]:
    parts = [f"#### {md_escape(plain(message.subject, 300))}"]
    used = len(parts[0])
    shown = 0
    for alert in digest.alerts:
        block = alert_markdown(alert_view(alert))
        if used + len(block) + 200 > TEXT_LIMIT:  # keep room for the "more" note
            break
        parts.append(block)
        used += len(block) + 2
        shown += 1
    if shown < len(digest.alerts):
        parts.append(f"_…and {len(digest.alerts) - shown} more alerts_")
    return {"text": "\n\n".join(parts)}
