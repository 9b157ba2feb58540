"""Discord webhook body: a short `content` line and one embed per alert.

Discord's limits are hard (the whole message is refused past them): content 2000 characters,
at most 10 embeds, embed title 256, description 4096, footer 2048, and 6000 characters across
all embeds. Untrusted text is `plain`-ed and markdown-escaped, and `allowed_mentions` is empty
so that nothing in the message can ping anyone even if an escape were missed.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import AlertView, alert_view, md_escape, plain, register_format
from monitor.models import Digest, Message

CONTENT_LIMIT = 2000
MAX_EMBEDS = 10
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBEDS_TOTAL_LIMIT = 6000

SEVERITY_COLORS = {
    "critical": 0x8B0000,
    "high": 0xE03E2D,
    "medium": 0xF0A020,
    "low": 0x3B82F6,
    "info": 0x9CA3AF,
}


def md_clip(text: str, limit: int) -> str:
    """Clip escaped markdown without leaving a dangling backslash that would eat the ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


def alert_embed(view: AlertView, budget: int) -> dict[str, Any]:
    """One alert as an embed whose title links to the article; at most `budget` characters."""
    lines = [f"**{md_escape(view.rule_title)}** · {md_escape(view.severity)}"]
    if view.figures:
        lines.append(f"**Figures:** {md_escape(view.figures)}")
    lines += [f"**{md_escape(name)}:** {md_escape(values)}" for name, values in view.captures]
    if view.snippet:
        lines.append(f"> {md_escape(view.snippet)}")
    title = md_clip(md_escape(view.article_title), min(TITLE_LIMIT, budget // 2))
    embed: dict[str, Any] = {
        "title": title,
        "description": md_clip("\n".join(lines), min(DESCRIPTION_LIMIT, budget - len(title))),
        "color": SEVERITY_COLORS.get(view.severity.lower(), SEVERITY_COLORS["medium"]),
    }
    if view.url:
        embed["url"] = view.url
    # footers show no markdown, but some clients are lax: escaped like the rest
    footer = md_clip(md_escape(view.site_name), FOOTER_LIMIT)
    used = len(embed["title"]) + len(embed["description"])
    if footer and used + len(footer) <= budget:
        embed["footer"] = {"text": footer}
    return embed


def _size(embed: dict[str, Any]) -> int:
    footer = embed.get("footer", {}).get("text", "")
    return len(embed["title"]) + len(embed["description"]) + len(footer)


@register_format("discord")
def discord_body(digest: Digest, message: Message) -> dict[str, Any]:
    embeds: list[dict[str, Any]] = []
    remaining = EMBEDS_TOTAL_LIMIT
    for alert in digest.alerts[:MAX_EMBEDS]:
        if remaining < 200:  # too little left to say anything useful: count it as "more"
            break
        embed = alert_embed(alert_view(alert), remaining)
        remaining -= _size(embed)
        embeds.append(embed)
    content = md_escape(plain(message.subject, 300))
    if len(digest.alerts) > len(embeds):
        content += f" (showing {len(embeds)} of {len(digest.alerts)} alerts)"
    return {
        "content": md_clip(content, CONTENT_LIMIT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }
