"""Domain objects handed between pipeline stages: frozen dataclasses, never raw dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one HTTP GET: a body, or a precise error (`error` set, `body` empty)."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    charset: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    # seconds the server asked us to wait (429/503 Retry-After), when it said so
    retry_after: float | None = None
    # True when every redirect on the way was permanent (301/308): the caller may store final_url
    permanent_redirect: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as the feed describes it."""

    feed_url: str
    guid: str | None
    url: str | None
    title: str
    summary: str = ""
    # full article HTML when the feed carries it (content:encoded, atom:content)
    content: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class PollResult:
    """Outcome of polling one feed."""

    feed_url: str
    status: int | None = None
    entries: tuple[Entry, ...] = ()
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    # the URL to poll from now on (differs from feed_url after a permanent redirect)
    final_url: str | None = None
    error: str | None = None
    # recoverable trouble (e.g. malformed XML from which some entries were still read)
    warning: str | None = None
    retry_after: float | None = None
    # Cache-Control max-age: the publisher asks not to be polled again sooner than this
    max_age: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Article:
    """An article ready for matching: main text extracted from its page (or the feed)."""

    url: str
    title: str
    text: str
    summary: str = ""
    published: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    feed_url: str | None = None
    tags: tuple[str, ...] = ()
    # True when the page could not be fetched or extracted and the feed's summary stands in
    partial: bool = False


@dataclass(frozen=True)
class Figure:
    """A count of people found in the text, e.g. "at least 40,000"."""

    value: int
    text: str
    qualifier: str | None = None
    approximate: bool = False
    # for a figure of history: when the article that reported it was published
    reported: datetime | None = None


@dataclass(frozen=True)
class Hit:
    """A term that matched: its text and span inside snippet number `snippet` of the match."""

    term: str
    text: str
    snippet: int
    start: int
    end: int


@dataclass(frozen=True)
class Match:
    """One rule matching one article, with everything that explains why."""

    rule: str
    title: str
    severity: str
    figures: tuple[Figure, ...] = ()
    captures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    snippets: tuple[str, ...] = ()
    hits: tuple[Hit, ...] = ()
    # the rule's `summary` filled in ("at least 40,000 displaced in Syria"), or ""
    summary: str = ""


@dataclass(frozen=True)
class Alert:
    """A stored match of one article, ready for a digest."""

    id: int
    article_url: str
    article_title: str
    published: datetime | None
    site_name: str | None
    match: Match
    tags: tuple[str, ...] = ()
    # for `alert: new-figure`: the figures alerted before for this rule (and key)
    previous_figures: tuple[Figure, ...] = ()
    # the story the article belongs to (articles carrying the same wire copy share one)
    story_id: int = 0
    created_at: datetime | None = None
    # the configured feed the article came from (None for an article stored without one)
    feed_url: str | None = None


@dataclass(frozen=True)
class Message:
    """A rendered digest: what a notifier sends."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class DeliveryResult:
    """Outcome of one delivery attempt; `retryable` says whether trying again may help."""

    ok: bool
    detail: str = ""
    retryable: bool = False
    retry_after: float | None = None
