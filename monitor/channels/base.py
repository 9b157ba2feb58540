"""What every notifier shares: the `Notifier` protocol, the webhook body registry, the versioned
generic JSON body, and a plain-text view of an alert that chat formats escape their own way.

Adding a chat service: write `notify/<name>.py` with one `@register_format("<name>")` builder
taking `(digest, message)` and returning the JSON body, and import it in `notify/__init__.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.codec import figure_to_json, match_to_json
from monitor.models import Alert, DeliveryResult, Digest, Message
from monitor.textfmt import clip, figure_text, history_text, one_line, safe_url

__all__ = [
    "PAYLOAD_VERSION",
    "WEBHOOK_FORMATS",
    "AlertView",
    "BodyBuilder",
    "Notifier",
    "alert_view",
    "clip",
    "digest_payload",
    "figure_text",
    "isoformat_utc",
    "md_escape",
    "md_link",
    "one_line",
    "plain",
    "register_format",
    "safe_url",
]

# Bump only with a documented, breaking change of `digest_payload`; receivers switch on it.
PAYLOAD_VERSION = 1


class Notifier(Protocol):
    """Delivers one rendered digest. Expected failures come back as results, never raised."""

    async def send(
        self, message: Message, digest: Digest, *, idempotency_key: str
    ) -> DeliveryResult: ...


BodyBuilder = Callable[[Digest, Message], dict[str, Any]]

# webhook `format` name -> JSON body builder; filled by `register_format` in each format module
WEBHOOK_FORMATS: dict[str, BodyBuilder] = {}


def register_format(name: str) -> Callable[[BodyBuilder], BodyBuilder]:
    """Register a webhook body builder under `name` (the config's `webhook.format`)."""

    def decorate(builder: BodyBuilder) -> BodyBuilder:
        if name in WEBHOOK_FORMATS and WEBHOOK_FORMATS[name] is not builder:
            raise ValueError(f"notify: webhook format {name!r} registered twice")
        WEBHOOK_FORMATS[name] = builder
        return builder

    return decorate


def isoformat_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`; naive datetimes are taken as UTC (that is how we store them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _alert_dict(alert: Alert) -> dict[str, Any]:
    match = match_to_json(alert.match)
    return {
        "id": alert.id,
        "rule": match.pop("rule"),
        "title": match.pop("title"),
        "severity": match.pop("severity"),
        "article": {
            "url": safe_url(alert.article_url),  # only http(s) links are ever sent
            "title": alert.article_title,
            "published": isoformat_utc(alert.published),
            "site_name": alert.site_name,
        },
        **match,  # figures, captures, snippets, hits: the same shape as `replay --json`
        "previous_figures": [figure_to_json(f) for f in alert.previous_figures],
        "tags": list(alert.tags),
    }


def digest_payload(digest: Digest) -> dict[str, Any]:
    """The documented generic webhook body (version 1).

    Data is passed through unescaped: it is JSON, and escaping is the receiver's business.
    Field names follow `monitor replay --json` so one parser reads both.
    """
    return {
        "version": PAYLOAD_VERSION,
        "type": "digest",
        "subscription": digest.subscription,
        "created_at": isoformat_utc(digest.created_at),
        "alerts": [_alert_dict(a) for a in digest.alerts],
    }


@register_format("generic")
def generic_body(digest: Digest, message: Message) -> dict[str, Any]:
    """The generic format ignores the rendered message: integrations want data, not prose."""
    return digest_payload(digest)


# --- plain-text view for chat formats -------------------------------------------------------

# "@everyone", "@channel", "@alice": every chat service pings on some of these.
_MENTION = re.compile(r"@(?=\w)")


def plain(text: str, limit: int = 300) -> str:
    """Inert one-line text from untrusted input, before format-specific escaping: `one_line`,
    plus an invisible zero-width space after every `@` so no chat service sees a mention."""
    return clip(_MENTION.sub("@\u200b", one_line(text, limit)), limit)


@dataclass(frozen=True)
class AlertView:
    """One alert as single-line plain strings (already `plain`), for chat formats to escape."""

    rule_title: str
    severity: str
    article_title: str
    url: str | None
    site_name: str
    # "at least 40,000 (up from 25,000 on 2 Oct)", or "" without figures
    figures: str
    # (name, "Moscow, Washington")
    captures: tuple[tuple[str, str], ...]
    snippet: str


def alert_view(alert: Alert) -> AlertView:
    """Everything a chat message says about one alert, neutralised for any chat service."""
    match = alert.match
    figures = ", ".join(figure_text(f) for f in match.figures)
    if figures and alert.previous_figures:
        figures += f" (up from {history_text(alert.previous_figures[-3:])})"
    captures = tuple(
        (plain(name, 50), plain(", ".join(values), 200))
        for name, values in match.captures.items()
        if values
    )
    return AlertView(
        rule_title=plain(match.title, 150),
        severity=plain(match.severity, 20),
        article_title=plain(alert.article_title, 250) or "(untitled)",
        url=safe_url(alert.article_url),
        site_name=plain(alert.site_name or "", 80),
        figures=plain(figures, 200),
        captures=captures,
        snippet=plain(match.snippets[0], 400) if match.snippets else "",
    )


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
