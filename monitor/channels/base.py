"""What every channel shares: the payload a renderer returns, the envelope of one delivery,
and a plain-text view of a story that chat formats escape their own way.

A channel is one module with a pure `render(plan, envelope) -> Payload`; `registry` names
them, and the worker sends a payload's exact bytes (`smtp` for email, `http` for webhooks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from monitor.digest.plan import DigestPlan, RuleMatch, Story, figures_line
from monitor.textfmt import clip, one_line, safe_url

__all__ = [
    "Envelope",
    "Payload",
    "RuleView",
    "StoryView",
    "clip",
    "isoformat_utc",
    "json_payload",
    "md_escape",
    "md_link",
    "more_note",
    "one_line",
    "outlets_text",
    "plain",
    "rule_lines",
    "safe_url",
    "shortened",
    "story_view",
]


@dataclass(frozen=True)
class Payload:
    """Exactly what is sent, stored in the outbox before the first attempt: a retry sends
    the same bytes."""

    subject: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Envelope:
    """Everything about one delivery that is not the digest itself."""

    # the delivery's idempotency key: Message-ID, webhook-id
    key: str
    # where "and N more" links to (the worker's public page for this digest), if anywhere
    more_url: str | None = None
    # this recipient's one-click unsubscribe URL and mailto (email only)
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None


def isoformat_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`; naive datetimes are taken as UTC (that is how we store them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- plain-text view for chat formats -------------------------------------------------------

# "@everyone", "@channel", "@alice": every chat service pings on some of these.
_MENTION = re.compile(r"@(?=\w)")


def plain(text: str, limit: int = 300) -> str:
    """Inert one-line text from untrusted input, before format-specific escaping: `one_line`,
    plus an invisible zero-width space after every `@` so no chat service sees a mention."""
    return clip(_MENTION.sub("@\u200b", one_line(text, limit)), limit)


@dataclass(frozen=True)
class RuleView:
    """Why one rule matched a story, as single-line plain strings (already `plain`)."""

    title: str
    severity: str
    # "at least 40,000 (up from 25,000 on 2 Oct)", or ""
    figures: str
    # (name, "Moscow, Washington")
    captures: tuple[tuple[str, str], ...]
    snippet: str


@dataclass(frozen=True)
class StoryView:
    """One story as single-line plain strings, for chat formats to escape."""

    headline: str
    url: str | None
    severity: str
    # "Middle East Eye, Reuters and 2 more"
    outlets: str
    rules: tuple[RuleView, ...]


def _rule_view(match: RuleMatch) -> RuleView:
    return RuleView(
        title=plain(match.title, 150),
        severity=plain(match.severity, 20),
        figures=plain(figures_line(match), 200),
        captures=tuple(
            (plain(name, 50), plain(", ".join(values), 200))
            for name, values in match.captures.items()
            if values
        ),
        snippet=plain(match.snippets[0], 400) if match.snippets else "",
    )


def outlets_text(story: Story, shown: int = 3) -> str:
    names = list(dict.fromkeys(o.name for o in story.outlets if o.name))
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def story_view(story: Story) -> StoryView:
    """Everything a chat message says about one story, neutralised for any chat service."""
    return StoryView(
        headline=plain(story.headline, 250) or "(untitled)",
        url=safe_url(story.url),
        severity=plain(story.severity, 20),
        outlets=plain(outlets_text(story), 200),
        rules=tuple(_rule_view(m) for m in story.matches),
    )


def shortened(view: StoryView, size: Callable[[StoryView], int], room: int) -> StoryView:
    """The story with as many of its rules as fit in `room` (at least one): a story too big
    for a whole message on its own is cut short rather than left out."""
    kept = len(view.rules)
    while kept > 1 and size(replace(view, rules=view.rules[:kept])) > room:
        kept -= 1
    return replace(view, rules=view.rules[:kept])


def rule_lines(view: StoryView, escape: Callable[[str], str], bold: str, quote: str) -> list[str]:
    """Each rule's reasons as lines of a chat's markup (`bold` wraps, `quote` starts a quote)."""
    lines: list[str] = []
    for rule in view.rules:
        lines.append(f"{bold}{escape(rule.title)}{bold} · {escape(rule.severity)}")
        if rule.figures:
            lines.append(f"Figures: {escape(rule.figures)}")
        lines += [f"{escape(name)}: {escape(values)}" for name, values in rule.captures]
        if rule.snippet:
            lines.append(f"{quote}{escape(rule.snippet)}")
    return lines


def more_note(plan: DigestPlan, shown: int) -> str:
    """ "…and 3 more stories" (plain text; the channel adds the link)."""
    rest = len(plan.stories) - shown
    return f"…and {rest} more {'story' if rest == 1 else 'stories'}"


# Markdown punctuation that Discord and Mattermost turn into formatting, links (`[..](..)`),
# mentions (`<@123>`), spoilers (`||`), headings or quotes; a backslash makes each one literal.
# Parentheses stay: without an unescaped `]` before them they cannot form a link.
_MARKDOWN = re.compile(r"([\\`*_~|<>\[\]#])")
_URL_UNSAFE = {"(": "%28", ")": "%29", "<": "%3C", ">": "%3E", " ": "%20", "\\": "%5C"}


def md_escape(text: str) -> str:
    """Backslash-escape markdown punctuation in (already `plain`) text."""
    return _MARKDOWN.sub(r"\\\1", text)


def md_link(url: str | None, label: str) -> str:
    """`[label](url)` with the label escaped and the URL unable to close the link early."""
    if url is None:
        return md_escape(label)
    target = "".join(_URL_UNSAFE.get(ch, ch) for ch in url)
    return f"[{md_escape(label)}]({target})"


def json_payload(subject: str, body: object) -> Payload:
    """A JSON body as sent: compact UTF-8."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Payload(subject, data, "application/json")
