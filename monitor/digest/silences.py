"""Silences, in the spirit of Alertmanager's: while one is active, the alerts it matches are
kept out of digests. Pure: no I/O, no clock (every function is told `now`).

A silence names one scope and one value, for one subscription or for all (`subscription`
None), from `starts_at` until `ends_at`:

    scope   matches an alert when
    rule    its rule is `value`                      (alert.match.rule)
    story   its story is `value`                     (the story id a digest shows: the
                                                     article's story, else minus the alert id)
    feed    its article came from the feed `value`   (the configured feed URL)
    tag     it carries the tag `value`               (the rule's tags and the feed's)

The worker drops silenced alerts when it plans a digest, and its cursor moves past them all
the same: an alert silenced when its digest was planned is never sent, not even once the
silence ends (Alertmanager forgets a silenced notification too). `would_hide` says which
alerts a silence would have hidden had it been active, for the preview shown before one is
saved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.models import Alert
from monitor.rules import BUILTIN_RULES, FEED_HEALTH
from monitor.textfmt import one_line
from monitor.timeutil import parse_duration

if TYPE_CHECKING:
    from monitor.config import Config, SubscriptionConfig
    from monitor.rules.match import RuleSet

SCOPES = ("rule", "story", "feed", "tag")
# A silence lasts at least a minute and at most a year (a longer mute belongs in the
# subscription's rules and tags).
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=365)
MAX_VALUE_CHARS = 2048
MAX_COMMENT_CHARS = 2000
MAX_NAME_CHARS = 128
# The preview: what a new silence would have hidden over this long.
PREVIEW_WINDOW = timedelta(days=7)


class InvalidSilence(ValueError):
    """A silence that cannot be saved: the message says which field and why."""


@dataclass(frozen=True)
class Silence:
    id: int
    subscription: str | None
    scope: str
    value: str
    starts_at: datetime
    ends_at: datetime
    comment: str
    author: str
    created_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def state(self, now: datetime) -> str:
        """ "active", "pending" (starts later) or "expired"."""
        if now >= self.ends_at:
            return "expired"
        return "active" if now >= self.starts_at else "pending"

    def covers(self, subscription: str) -> bool:
        return self.subscription is None or self.subscription == subscription

    def matches(self, alert: Alert) -> bool:
        """Whether the alert is of this silence's rule, story, feed or tag (whatever the time)."""
        return matches(self.scope, self.value, alert)

    @property
    def target(self) -> str:
        """ "rule displacement-figures", "feed https://…/rss" """
        return f"{self.scope} {self.value}"

    @property
    def audience(self) -> str:
        return "all subscriptions" if self.subscription is None else self.subscription


def story_of(alert: Alert) -> int:
    """The story id a digest gives the alert (digest.plan groups alerts by it)."""
    return alert.story_id or -alert.id


def matches(scope: str, value: str, alert: Alert) -> bool:
    if scope == "rule":
        return alert.match.rule == value
    if scope == "story":
        return str(story_of(alert)) == value
    if scope == "feed":
        return alert.feed_url is not None and alert.feed_url == value
    if scope == "tag":
        return value in alert.tags
    return False


def silenced(alert: Alert, silences: Iterable[Silence], now: datetime) -> bool:
    """Whether an active silence matches the alert. `silences` are those of the
    subscription the alert is planned for (`Store.active_silences`)."""
    return any(s.active(now) and s.matches(alert) for s in silences)


def split_silenced(
    alerts: Iterable[Alert],
    silences: Iterable[Silence],
    now: datetime,
    wants: Callable[[str, tuple[str, ...]], bool],
) -> tuple[list[Alert], list[Alert]]:
    """(the alerts no active silence matches, the silenced ones the subscription wants)."""
    kept: list[Alert] = []
    hidden: list[Alert] = []
    active = [s for s in silences if s.active(now)]
    for alert in alerts:
        if not any(s.matches(alert) for s in active):
            kept.append(alert)
        elif wants(alert.match.rule, alert.tags):
            hidden.append(alert)
    return kept, hidden


def hidden_text(hidden: list[Alert], most: int = 10) -> str:
    """ "3 alerts (ids 4, 7, 9)", for the worker's log line."""
    ids = ", ".join(str(a.id) for a in hidden[:most]) + (", …" if len(hidden) > most else "")
    return f"{len(hidden)} alert{'s' if len(hidden) != 1 else ''} (ids {ids})"


def would_hide(
    silence: Silence,
    alerts: Iterable[Alert],
    wants: Callable[[str, tuple[str, ...]], bool] | None = None,
) -> list[Alert]:
    """The alerts the silence would have hidden, had it been active when they were planned:
    those it matches (and, for a silence of one subscription, that the subscription wants:
    `wants(rule, tags)`, as `SubscriptionConfig.wants`)."""
    return [
        a for a in alerts if silence.matches(a) and (wants is None or wants(a.match.rule, a.tags))
    ]


def ends_at(for_text: str | None, until_text: str | None, now: datetime) -> datetime:
    """When a silence given `--for 2h` or `--until 2026-12-01T18:00Z` ends (a time without
    a zone is UTC); InvalidSilence unless exactly one is given, and it is well formed."""
    for_text, until_text = (for_text or "").strip(), (until_text or "").strip()
    if bool(for_text) == bool(until_text):
        raise InvalidSilence("silence: say how long, for a duration (2h) or until a time")
    if for_text:
        try:
            return now + parse_duration(for_text)
        except ValueError as exc:
            raise InvalidSilence(f"silence: {exc}") from None
    try:
        until = datetime.fromisoformat(until_text)
    except ValueError:
        raise InvalidSilence(
            f"silence: invalid time '{until_text}' (expected ISO 8601, like 2026-12-01T18:00Z)"
        ) from None
    until = until.replace(tzinfo=UTC) if until.tzinfo is None else until.astimezone(UTC)
    if until <= now:
        raise InvalidSilence(f"silence: {until_text} is already past")
    return until


def wanted_by(
    subscriptions: Iterable[SubscriptionConfig],
) -> Callable[[str, tuple[str, ...]], bool]:
    """`wants(rule, tags)` of these subscriptions together: what a silence of theirs hides."""
    subs = list(subscriptions)
    return lambda rule, tags: any(s.wants(rule, tags) for s in subs)


def normalized(
    scope: str,
    value: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    comment: str,
    author: str,
    subscription: str | None = None,
) -> tuple[str, str, str, str, str | None]:
    """(scope, value, comment, author, subscription) trimmed and checked, or InvalidSilence."""
    if scope not in SCOPES:
        raise InvalidSilence(f"silence: scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    value = value.strip()
    if not value:
        raise InvalidSilence(f"silence: say which {scope} to silence")
    if len(value) > MAX_VALUE_CHARS or one_line(value, MAX_VALUE_CHARS) != value:
        raise InvalidSilence(
            f"silence: the {scope} must be one line of at most {MAX_VALUE_CHARS} characters"
        )
    if scope == "story" and not _is_story_id(value):
        raise InvalidSilence(f"silence: a story is its id, a whole number (not {value!r})")
    if scope == "feed" and not value.startswith(("http://", "https://")):
        raise InvalidSilence(f"silence: a feed is its configured URL, http(s)://… (not {value!r})")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidSilence("silence: times need a time zone")
    length = ends_at - starts_at
    if length < MIN_DURATION:
        raise InvalidSilence("silence: it must end at least a minute after it starts")
    if length > MAX_DURATION:
        raise InvalidSilence("silence: at most 365 days (a longer mute belongs in the config)")
    comment = comment.strip()
    if not comment:
        raise InvalidSilence("silence: a comment is required (why, and until what)")
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidSilence(f"silence: the comment is longer than {MAX_COMMENT_CHARS} characters")
    author = one_line(author, MAX_NAME_CHARS + 1)
    if not author:
        raise InvalidSilence("silence: an author is required (who to ask about it)")
    if len(author) > MAX_NAME_CHARS:
        raise InvalidSilence(f"silence: the author is longer than {MAX_NAME_CHARS} characters")
    if subscription is not None:
        subscription = subscription.strip() or None
        if subscription is not None and len(subscription) > MAX_NAME_CHARS:
            raise InvalidSilence("silence: no subscription has so long a name")
    return scope, value, comment, author, subscription


def _is_story_id(value: str) -> bool:
    digits = value[1:] if value.startswith("-") else value
    return digits.isascii() and digits.isdigit() and int(digits) != 0


@dataclass(frozen=True)
class Known:
    """What the config and rules provide, to refuse a silence of something that does not
    exist (a typo would silence nothing, and say nothing). `rules` and `tags` are None when
    the rules do not load: then rules and tags are not checked."""

    subscriptions: frozenset[str]
    feeds: frozenset[str]
    rules: frozenset[str] | None
    tags: frozenset[str] | None

    @classmethod
    def of(cls, config: Config, ruleset: RuleSet | None) -> Known:
        feed_tags = {tag for feed in config.feeds for tag in feed.tags}
        rules = tags = None
        if ruleset is not None:
            rules = frozenset({*ruleset.ids, *BUILTIN_RULES})
            rule_tags = {tag for rule in ruleset.rules for tag in rule.spec.tags}
            tags = frozenset({*rule_tags, *feed_tags, FEED_HEALTH})
        return cls(
            subscriptions=frozenset(s.name for s in config.subscriptions),
            feeds=frozenset(f.url for f in config.feeds),
            rules=rules,
            tags=tags,
        )

    def problem(self, scope: str, value: str, subscription: str | None) -> str | None:
        """Why the silence names nothing that exists, or None when it does. Stories are not
        checked: the preview shows whether any alert has the story."""
        if subscription is not None and subscription not in self.subscriptions:
            return f"no subscription {subscription!r} (subscriptions: {_few(self.subscriptions)})"
        value = value.strip()
        if scope == "rule" and self.rules is not None and value not in self.rules:
            return f"no rule {value!r} (rules: {_few(self.rules)})"
        if scope == "tag" and self.tags is not None and value not in self.tags:
            return f"no rule and no feed has the tag {value!r} (tags: {_few(self.tags)})"
        if scope == "feed" and value not in self.feeds:
            return f"no feed {value!r} in the config ({len(self.feeds)} feeds configured)"
        return None


def _few(names: Iterable[str], limit: int = 20) -> str:
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return (shown + f", and {len(names) - limit} more" if len(names) > limit else shown) or "none"
