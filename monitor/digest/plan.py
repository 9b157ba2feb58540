"""The digest planner: what is due, and what each digest holds. Pure: no I/O, no clock.

The worker and `monitor digest preview` both ask it. Given a subscription, its cursor, the
alerts past the cursor and what each target has muted, it groups the alerts by story (each
story once, with every rule that matched it and every outlet that carried it), orders stories
by severity and then by time (newest first), and cuts them into digests of at most
MAX_DIGEST_STORIES. Rendering and sending are the channels' business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitor.models import Alert, Figure, Hit
from monitor.textfmt import figure_text, history_text, one_line
from monitor.timeutil import as_utc

# A digest holds at most this many stories; more go out as several digests at once.
MAX_DIGEST_STORIES = 50
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
# A subject says at most this much; whole story summaries only, never half of one.
SUBJECT_MAX_CHARS = 150


@dataclass(frozen=True)
class RuleMatch:
    """One rule on one story: why it matched."""

    rule: str
    title: str
    severity: str
    summary: str
    figures: tuple[Figure, ...] = ()
    # earlier figures of the same place or story: "up from 25,000 on 2 Oct"
    previous_figures: tuple[Figure, ...] = ()
    captures: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # the sentences with the hits (the headline itself is never repeated as a snippet)
    snippets: tuple[str, ...] = ()
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class Outlet:
    name: str
    url: str
    title: str


@dataclass(frozen=True)
class Story:
    """One story of a digest: its first article, the outlets that carried it, the rules."""

    id: int
    headline: str
    url: str
    site_name: str | None
    published: datetime | None
    severity: str
    matches: tuple[RuleMatch, ...]
    outlets: tuple[Outlet, ...]
    # the alerts it stands for, oldest first (the generic webhook lists them one by one)
    alerts: tuple[Alert, ...]

    @property
    def alert_ids(self) -> tuple[int, ...]:
        return tuple(a.id for a in self.alerts)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(m.rule for m in self.matches)

    @property
    def summary(self) -> str:
        """What the subject says of this story: its rules' summaries."""
        return "; ".join(dict.fromkeys(m.summary for m in self.matches))


@dataclass(frozen=True)
class DigestPlan:
    """One digest of one subscription for one target."""

    subscription: str
    target: str
    created_at: datetime
    stories: tuple[Story, ...]
    # the position of this digest among those planned at once, and how many there are
    part: int = 1
    parts: int = 1

    @property
    def alert_ids(self) -> tuple[int, ...]:
        return tuple(i for s in self.stories for i in s.alert_ids)

    @property
    def subject(self) -> str:
        return subject_line(self.stories, self.part, self.parts)


@dataclass(frozen=True)
class Mutes:
    """What one target no longer receives: everything, some rules or some stories."""

    everything: bool = False
    rules: frozenset[str] = frozenset()
    stories: frozenset[int] = frozenset()

    def keeps(self, story: Story) -> Story | None:
        if self.everything or story.id in self.stories:
            return None
        matches = tuple(m for m in story.matches if m.rule not in self.rules)
        if not matches:
            return None
        if len(matches) == len(story.matches):
            return story
        return replace(
            story,
            matches=matches,
            severity=_most_severe(m.severity for m in matches),
            # the muted rules' alerts are not sent to this target either
            alerts=tuple(a for a in story.alerts if a.match.rule not in self.rules),
        )


@dataclass(frozen=True)
class SubscriptionPlan:
    """What one due subscription gets now: a digest per target (in parts after a busy day),
    and where its cursor moves (past the alerts nobody here wants too)."""

    subscription: str
    digests: tuple[DigestPlan, ...]
    cursor: int
    alert_ids: tuple[int, ...]


def plan_subscription(
    name: str,
    targets: Iterable[str],
    wants: Callable[[str, tuple[str, ...]], bool],
    alerts: Iterable[Alert],
    cursor: int,
    now: datetime,
    mutes: Mapping[str, Mutes] | None = None,
) -> SubscriptionPlan:
    """The digests of a due subscription: `alerts` are those past its `cursor` (in id order),
    `wants(rule, tags)` says which concern it, `mutes` what each target muted."""
    alerts = list(alerts)
    last = max((a.id for a in alerts), default=cursor)
    wanted = [a for a in alerts if wants(a.match.rule, a.tags)]
    stories = group_stories(wanted)
    digests: list[DigestPlan] = []
    for target in targets:
        muted = (mutes or {}).get(target, Mutes())
        kept = [s for s in (muted.keeps(story) for story in stories) if s is not None]
        chunks = [
            tuple(kept[i : i + MAX_DIGEST_STORIES]) for i in range(0, len(kept), MAX_DIGEST_STORIES)
        ]
        for part, chunk in enumerate(chunks, 1):
            digests.append(DigestPlan(name, target, now, chunk, part, len(chunks)))
    return SubscriptionPlan(name, tuple(digests), max(last, cursor), tuple(a.id for a in wanted))


def group_stories(alerts: Iterable[Alert]) -> list[Story]:
    """Alerts grouped by story, most severe first, then newest first."""
    by_story: dict[int, list[Alert]] = {}
    for alert in alerts:
        by_story.setdefault(alert.story_id or -alert.id, []).append(alert)
    stories = [_story(story_id, group) for story_id, group in by_story.items()]
    stories.sort(key=lambda s: (_rank(s.severity), -_timestamp(s)))
    return stories


def _story(story_id: int, alerts: list[Alert]) -> Story:
    # naive and aware times compare only once all are aware; undated articles lead last
    undated = datetime.max.replace(tzinfo=UTC)
    lead = min(alerts, key=lambda a: (as_utc(a.published or a.created_at) or undated, a.id))
    by_rule: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_rule.setdefault(alert.match.rule, []).append(alert)
    matches = tuple(
        sorted(
            (_rule_match(group, lead) for group in by_rule.values()),
            key=lambda m: _rank(m.severity),
        )
    )
    outlets: dict[str, Outlet] = {}
    for alert in sorted(alerts, key=lambda a: a.id):
        name = alert.site_name or _host(alert.article_url)
        outlets.setdefault(alert.article_url, Outlet(name, alert.article_url, alert.article_title))
    return Story(
        id=story_id,
        headline=lead.article_title,
        url=lead.article_url,
        site_name=lead.site_name,
        published=lead.published or lead.created_at,
        severity=_most_severe(m.severity for m in matches),
        matches=matches,
        outlets=tuple(outlets.values()),
        alerts=tuple(sorted(alerts, key=lambda a: a.id)),
    )


def _rule_match(alerts: list[Alert], lead: Alert) -> RuleMatch:
    """One rule over the articles of a story: the lead article's reasons when it matched,
    with the figures and captures of every article."""
    first = next((a for a in alerts if a.article_url == lead.article_url), alerts[0])
    figures: dict[int, Figure] = {}
    captures: dict[str, dict[str, None]] = {}
    previous: dict[int, Figure] = {}
    for alert in [first, *alerts]:
        for figure in alert.match.figures:
            figures.setdefault(figure.value, figure)
        for figure in alert.previous_figures:
            previous.setdefault(figure.value, figure)
        for name, values in alert.match.captures.items():
            captures.setdefault(name, {}).update(dict.fromkeys(values))
    snippets, hits = without_headline(first.match.snippets, first.match.hits, lead.article_title)
    return RuleMatch(
        rule=first.match.rule,
        title=first.match.title,
        severity=first.match.severity,
        summary=first.match.summary or _fallback_summary(first, tuple(figures.values())),
        figures=tuple(figures.values()),
        previous_figures=tuple(f for v, f in previous.items() if v not in figures),
        captures={name: tuple(values) for name, values in captures.items()},
        snippets=snippets,
        hits=hits,
    )


def _fallback_summary(alert: Alert, figures: tuple[Figure, ...]) -> str:
    """For a rule without `summary:`: its title, with its figures or captures."""
    said = ", ".join(figure_text(f) for f in figures) or "; ".join(
        ", ".join(values) for values in alert.match.captures.values() if values
    )
    return f"{alert.match.title} ({said})" if said else alert.match.title


def without_headline(
    snippets: tuple[str, ...], hits: tuple[Hit, ...], headline: str
) -> tuple[tuple[str, ...], tuple[Hit, ...]]:
    """The snippets that say more than the headline (which the digest shows already), with
    their hits renumbered."""
    title = _folded(headline)
    kept: dict[int, int] = {}
    for index, snippet in enumerate(snippets):
        text = _folded(snippet)
        if text and text not in title:
            kept[index] = len(kept)
    return (
        tuple(snippets[i] for i in kept),
        tuple(replace(h, snippet=kept[h.snippet]) for h in hits if h.snippet in kept),
    )


def subject_line(stories: tuple[Story, ...], part: int = 1, parts: int = 1) -> str:
    """ "3 stories: at least 40,000 displaced in Syria; envoy travel to Moscow, and 1 more":
    whole summaries only, so a figure is never cut in half."""
    count = len(stories)
    head = f"{count} {'story' if count == 1 else 'stories'}"
    if parts > 1:
        head += f" (part {part} of {parts})"
    said: list[str] = []
    for story in stories:
        summary = one_line(story.summary, SUBJECT_MAX_CHARS)
        rest = count - len(said) - 1
        tail = f", and {rest} more" if rest else ""
        if len(head) + 2 + len("; ".join([*said, summary])) + len(tail) > SUBJECT_MAX_CHARS:
            break
        said.append(summary)
    if not said:
        if not stories:
            return head
        return f"{head}: " + _first_words(stories[0].summary, SUBJECT_MAX_CHARS - len(head) - 2)
    rest = count - len(said)
    return f"{head}: {'; '.join(said)}" + (f", and {rest} more" if rest else "")


def figures_line(match: RuleMatch) -> str:
    """ "at least 40,000 (up from 25,000 on 2 Oct)", or "" without figures."""
    text = ", ".join(figure_text(f) for f in match.figures)
    if text and match.previous_figures:
        text += f" (up from {history_text(match.previous_figures[-3:])})"
    return text


# Where a summary too long for a subject may be cut: after a list item or a rule's summary.
_LIST_ITEM = re.compile(r"(?<=[,;]) ")


def _first_words(text: str, room: int) -> str:
    """A long summary in at most `room` characters, cut after a whole list item ("12 000,
    13 000 …") rather than between words, so that a figure of several words ("24 000",
    "1.2 million") keeps them all; between words only when the first item alone is too long."""
    text = one_line(text, 10_000)
    if len(text) <= room:
        return text
    for pieces in (_LIST_ITEM.split(text), text.split(" ")):
        kept = ""
        for piece in pieces:
            longer = f"{kept} {piece}" if kept else piece
            if len(longer) + 2 > room:
                break
            kept = longer
        if kept:
            return kept.rstrip(",;") + " …"
    return one_line(text, room)


def _folded(text: str) -> str:
    return " ".join("".join(ch for ch in text.casefold() if ch.isalnum() or ch.isspace()).split())


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _most_severe(severities: Iterable[str]) -> str:
    return min(severities, key=_rank, default="medium")


def _timestamp(story: Story) -> float:
    return story.published.timestamp() if story.published else 0.0
