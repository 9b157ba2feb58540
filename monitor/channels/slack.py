"""Slack incoming-webhook body: a fallback `text` plus Block Kit sections written in mrkdwn.

Untrusted text is passed through `plain` (no line breaks, no bare mentions) and then has `&`,
`<` and `>` replaced by entities, which is the escaping Slack documents: it turns `<!channel>`,
`<@U123>` and `<https://evil|click>` into visible text. Text objects are `verbatim` so Slack does
not auto-link channel names or parse mentions on its own.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import AlertView, alert_view, clip, plain, register_format
from monitor.models import Digest, Message

# Block Kit limits: 50 blocks per message, 3000 characters per section text.
MAX_BLOCKS = 50
SECTION_LIMIT = 3000
TEXT_LIMIT = 3000


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
    return {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT), "verbatim": True}


def alert_mrkdwn(view: AlertView) -> str:
    """One alert as mrkdwn lines: rule and severity, linked title, figures, captures, snippet."""
    title = _link(view.url, view.article_title)
    if view.site_name:
        title += f" ({escape(view.site_name)})"
    lines = [f"*{escape(view.rule_title)}* · {escape(view.severity)}", title]
    if view.figures:
        lines.append(f"*Figures:* {escape(view.figures)}")
    lines += [f"*{escape(name)}:* {escape(values)}" for name, values in view.captures]
    if view.snippet:
        lines.append(f">{escape(view.snippet)}")
    return "\n".join(lines)


@register_format("slack")
def slack_body(digest: Digest, message: Message) -> dict[str, Any]:
    subject = escape(plain(message.subject, 250))
    count = len(digest.alerts)
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{subject}*")}]
    room = MAX_BLOCKS - 2  # the subject, and a possible "more" note
    for alert in digest.alerts[:room]:
        blocks.append({"type": "section", "text": _mrkdwn(alert_mrkdwn(alert_view(alert)))})
    if count > room:
        note = f"…and {count - room} more alerts"
        blocks.append({"type": "context", "elements": [_mrkdwn(note)]})
    noun = "alert" if count == 1 else "alerts"
    return {"text": clip(f"{subject} ({count} {noun})", TEXT_LIMIT), "blocks": blocks}
