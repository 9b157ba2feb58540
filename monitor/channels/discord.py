"""Discord webhook body: a short `content` line and one embed per story.

Discord's limits are hard (the whole message is refused past them): content 2,000
characters, at most 10 embeds, embed title 256, description 4,096, footer 2,048, and 6,000
characters across all embeds. Stories are added while they fit; "and N more" goes in the
content, with a link to the whole digest. Untrusted text is `plain`-ed and markdown-escaped,
and `allowed_mentions` is empty so that nothing in the message can ping anyone even if an
escape were missed.
"""

from __future__ import annotations

from typing import Any

from monitor.channels.base import (
    Envelope,
    Payload,
    StoryView,
    json_payload,
    md_escape,
    md_link,
    more_note,
    plain,
    rule_lines,
    story_view,
)
from monitor.digest.plan import DigestPlan

CONTENT_LIMIT = 2000
MAX_EMBEDS = 10
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBEDS_TOTAL_LIMIT = 6000

# distinct at a glance, and readable on Discord's dark and light themes
SEVERITY_COLORS = {
    "critical": 0xC62828,
    "high": 0xEF6C00,
    "medium": 0xF9A825,
    "low": 0x1E88E5,
    "info": 0x78909C,
}


def md_clip(text: str, limit: int) -> str:
    """Clip escaped markdown without leaving a dangling backslash that would eat the ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


def story_embed(view: StoryView, budget: int) -> dict[str, Any]:
    """One story as an embed whose title links to the article; at most `budget` characters."""
    lines = rule_lines(view, md_escape, "**", "> ")
    title = md_clip(md_escape(view.headline), min(TITLE_LIMIT, budget // 2))
    embed: dict[str, Any] = {
        "title": title,
        "description": md_clip("\n".join(lines), min(DESCRIPTION_LIMIT, budget - len(title))),
        "color": SEVERITY_COLORS.get(view.severity.lower(), SEVERITY_COLORS["medium"]),
    }
    if view.url:
        embed["url"] = view.url
    # footers show no markdown, but some clients are lax: escaped like the rest
    footer = md_clip(md_escape(view.outlets), FOOTER_LIMIT)
    if footer and embed_size(embed) + len(footer) <= budget:
        embed["footer"] = {"text": footer}
    return embed


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts against the 6,000 of a message."""
    footer = embed.get("footer", {}).get("text", "")
    return len(embed["title"]) + len(embed["description"]) + len(footer)


def render(plan: DigestPlan, envelope: Envelope) -> Payload:
    embeds: list[dict[str, Any]] = []
    remaining = EMBEDS_TOTAL_LIMIT
    for story in plan.stories[:MAX_EMBEDS]:
        if remaining < 200:  # too little left to say anything useful: count it as "more"
            break
        embed = story_embed(story_view(story), remaining)
        remaining -= embed_size(embed)
        embeds.append(embed)
    content = md_escape(plain(plan.subject, 300))
    if len(embeds) < len(plan.stories):
        content += " " + md_link(envelope.more_url, more_note(plan, len(embeds)))
    body = {
        "content": md_clip(content, CONTENT_LIMIT),
        "embeds": embeds,
        "allowed_mentions": {"parse": []},
    }
    return json_payload(plan.subject, body)
