"""Poll one feed: conditional GET through `fetch`, parse with feedparser -> PollResult.

feedparser only ever sees bytes we fetched (wrapped in BytesIO: given a bare string or bytes it
would open a URL or a local file of that name). Its strict parser drops entity definitions that
could expand (billion laughs) and its loose fallback keeps the entries of malformed XML; we keep
those entries and say so in `PollResult.warning`.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import html
import io
import re
import xml.sax
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import aiohttp
import feedparser
from courlan import normalize_url

from monitor.intake.fetch import fetch
from monitor.models import Article, Entry, PollResult

__all__ = [
    "canonical_url",
    "entry_identity",
    "looks_like_feed",
    "parse_feed",
    "plain_text",
    "poll_feed",
]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_SNIFF_BYTES = 64 * 1024


async def poll_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    allow_private: bool,
    max_bytes: int = 5 * 1024 * 1024,
) -> PollResult:
    """Conditional GET of `url`, then parse. Never raises for network or feed trouble.

    On 304 and on errors the validators passed in come back unchanged, so a caller can store
    `result.etag`/`result.last_modified` unconditionally.
    """
    headers = {"Accept": FEED_ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    res = await fetch(
        session, url, allow_private=allow_private, max_bytes=max_bytes, headers=headers
    )
    moved_to = res.final_url if res.permanent_redirect and res.final_url != url else None
    if res.error is not None:
        return PollResult(
            feed_url=url,
            status=res.status,
            etag=etag,
            last_modified=last_modified,
            error=res.error,
            retry_after=res.retry_after,
        )
    if res.status == 304:
        return PollResult(
            feed_url=url,
            status=304,
            not_modified=True,
            etag=res.headers.get("etag", etag),
            last_modified=res.headers.get("last-modified", last_modified),
            final_url=moved_to,
            retry_after=res.retry_after,
            max_age=cache_max_age(res.headers.get("cache-control")),
        )
    # feedparser is pure Python: keep a large feed from stalling the event loop
    parsed = await asyncio.to_thread(
        parse_feed,
        res.body,
        feed_url=url,
        content_type=res.headers.get("content-type"),
        base_url=res.final_url,
    )
    if parsed.error is not None:
        # keep the old validators and URL: adopting those of, say, an HTML page that replaced
        # the feed would turn the next polls into quiet 304s and hide the breakage
        return PollResult(
            feed_url=url,
            status=res.status,
            etag=etag,
            last_modified=last_modified,
            error=parsed.error,
        )
    return PollResult(
        feed_url=url,
        status=res.status,
        entries=parsed.entries,
        etag=res.headers.get("etag"),
        last_modified=res.headers.get("last-modified"),
        final_url=moved_to,
        warning=parsed.warning,
        max_age=cache_max_age(res.headers.get("cache-control")),
    )


def cache_max_age(cache_control: str | None) -> float | None:
    """Seconds from `Cache-Control: max-age=N` (s-maxage is for shared caches, not us)."""
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cache_control or "", re.IGNORECASE)
    return float(m.group(1)) if m else None


def parse_feed(
    body: bytes, *, feed_url: str, content_type: str | None = None, base_url: str | None = None
) -> PollResult:
    """Parse feed bytes (no I/O). `base_url` (default `feed_url`) resolves relative links."""
    if not body.strip():
        return PollResult(feed_url=feed_url, error="feed: not a feed (empty body)")
    base = base_url or feed_url
    response_headers = {"content-location": base}
    if content_type:
        response_headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    problem = _xml_problem(parsed, body)
    if not parsed.entries and not parsed.get("version"):
        return PollResult(feed_url=feed_url, error=_not_a_feed(body, content_type, base, problem))
    entries = tuple(_entry(feed_url, raw) for raw in parsed.entries)
    if problem is None:
        return PollResult(feed_url=feed_url, entries=entries)
    if not entries:
        return PollResult(feed_url=feed_url, error=f"feed: malformed XML ({problem}), no entries")
    kept = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'} kept"
    return PollResult(
        feed_url=feed_url, entries=entries, warning=f"feed: malformed XML ({problem}), {kept}"
    )


def _xml_problem(parsed: Any, body: bytes) -> str | None:
    """The bozo exception worth reporting, or None (mislabelled content types are not news)."""
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    if exc is None:
        return None
    if isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe) and not isinstance(
        exc, feedparser.CharacterEncodingUnknown
    ):
        return None
    if isinstance(exc, xml.sax.SAXParseException):
        shift = _line_shift(body)
        if shift is None:
            return str(exc.getMessage())
        return f"{exc.getMessage()} at line {max(1, (exc.getLineNumber() or 1) - shift)}"
    return str(exc) or type(exc).__name__


def _line_shift(body: bytes) -> int | None:
    """How many lines feedparser added before the text it hands to the XML parser.

    It prepends an XML declaration line when the document has none; it rewrites a DOCTYPE
    (dropping unsafe entities), after which line numbers cannot be mapped back: None.
    """
    head = _sniff_head(body)
    first_element = re.search(rb"<\w", head)
    prolog = head[: first_element.start()] if first_element else head
    if b"<!DOCTYPE" in prolog.upper():
        return None
    return 0 if head.startswith(b"<?xml") else 1


def _sniff_head(body: bytes) -> bytes:
    """The first bytes of a document as UTF-8-ish bytes, BOM removed, for cheap sniffing."""
    head = body[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", "ignore").encode("utf-8")
    return head.removeprefix(b"\xef\xbb\xbf")


def _not_a_feed(body: bytes, content_type: str | None, base: str, problem: str | None) -> str:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _HTML_TYPES or _looks_like_html(body):
        links = _advertised_feeds(body, base)
        if links:
            return f"feed: not a feed (HTML page; it advertises the feed {links[0]})"
        return "feed: not a feed (HTML page)"
    if problem:
        return f"feed: not a feed (malformed XML: {problem})"
    return "feed: not a feed (no RSS, Atom or RDF root element)"


def _looks_like_html(body: bytes) -> bool:
    head = body[:_SNIFF_BYTES].lower()
    return b"<html" in head or b"<!doctype html" in head


class _FeedLinkFinder(HTMLParser):
    """Collects <link rel=alternate type=rss/atom href> and <base href> from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: (value or "") for name, value in attrs}
        if tag == "base" and attr.get("href") and self.base is None:
            self.base = attr["href"].strip()
        elif (
            tag == "link"
            and "alternate" in attr.get("rel", "").lower().split()
            and attr.get("type", "").strip().lower() in FEED_TYPES
            and attr.get("href", "").strip()
        ):
            self.links.append(attr["href"].strip())


def _advertised_feeds(body: bytes, base: str) -> list[str]:
    finder = _FeedLinkFinder()
    finder.feed(body[: 4 * _SNIFF_BYTES].decode("utf-8", "replace"))
    finder.close()
    page_base = urljoin(base, finder.base) if finder.base else base
    return [urljoin(page_base, href) for href in finder.links]


def _entry(feed_url: str, raw: Any) -> Entry:
    return Entry(
        feed_url=feed_url,
        guid=(raw.get("id") or "").strip() or None,
        url=_http_link(raw.get("link")),
        title=plain_text(raw.get("title") or ""),
        summary=plain_text(raw.get("summary") or ""),
        content=_content_html(raw),
        published=_published(raw),
    )


def _http_link(link: str | None) -> str | None:
    """Only http(s) links: a javascript: or tag: "link" must never reach a digest's href."""
    if not link:
        return None
    link = link.strip()
    return link if urlsplit(link).scheme.lower() in ("http", "https") else None


def _content_html(raw: Any) -> str | None:
    """HTML of the full text (content:encoded, atom:content), already sanitized by feedparser."""
    contents = raw.get("content") or []
    if not contents:
        return None
    chosen = next((c for c in contents if "html" in (c.get("type") or "")), contents[0])
    value = chosen.get("value") or ""
    if not value.strip():
        return None
    return value if "html" in (chosen.get("type") or "") else html.escape(value)


def _published(raw: Any) -> datetime | None:
    parsed = raw.get("published_parsed") or raw.get("updated_parsed")
    if not parsed:
        return None
    try:
        # feedparser's struct_time is UTC; timegm avoids the local-time trap of mktime
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


class _TextExtractor(HTMLParser):
    """Text of an HTML fragment, dropping what a browser would not show as text."""

    _HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag in ("p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


class _BlockTextExtractor(_TextExtractor):
    """Text of an HTML article, one line per block, for matching: a list item that is
    nothing but a link is written as a markdown link line, so that the boilerplate filter
    (`monitor.extract.boilerplate`) drops "Related stories" lists as it does in markdown."""

    _BLOCKS = frozenset(
        {
            "p",
            "div",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "br",
            "ul",
            "ol",
            "section",
            "aside",
            "blockquote",
            "figure",
            "figcaption",
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self._item: list[str] | None = None  # text of the open <li>
        self._link: list[str] | None = None  # text of the open <a> inside it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "li":
            self.parts.append("\n")
            self._item, self._link = [], None
        elif tag == "a" and self._item is not None:
            self._link = []
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag == "li" and self._item is not None:
            text = " ".join("".join(self._item).split())
            linked = " ".join("".join(self._link or []).split())
            self.parts.append(f"- [{text}](link)\n" if text and text == linked else text + "\n")
            self._item = self._link = None
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._item is None:
            self.parts.append(data)
            return
        self._item.append(data)
        if self._link is not None:
            self._link.append(data)


def content_text(value: str) -> str:
    """An entry's full HTML content as plain text, one line per paragraph or list item."""
    extractor = _BlockTextExtractor()
    extractor.feed(value)
    extractor.close()
    lines = (
        " ".join(_CONTROL.sub(" ", line).split()) for line in "".join(extractor.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def plain_text(value: str) -> str:
    """HTML or text -> one line of plain text: tags and scripts dropped, entities decoded.

    Always treated as HTML: feedparser labels escaped RSS titles text/plain, and a title
    carrying "<script>" must come out as text either way.
    """
    if "<" in value or "&" in value:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        value = "".join(extractor.parts)
    return " ".join(_CONTROL.sub(" ", value).split())


def canonical_url(url: str) -> str:
    """The URL an article is known by: lower-case host, no default port, sorted query without
    tracking parameters (utm_*, fbclid, ...), no fragment."""
    url = url.strip()
    try:
        normalized = normalize_url(url)
    except ValueError:
        normalized = url
    return urlunsplit(urlsplit(normalized)._replace(fragment=""))


def entry_identity(entry: Entry) -> str:
    """A stable key for deduplicating entries: the canonical link, else the guid.

    A guid that is not a URI (e.g. "1234") is only unique within its feed, so it is prefixed
    with the feed URL. An entry with neither is keyed by a hash of its feed, title and summary.
    """
    if entry.url:
        return canonical_url(entry.url)
    if entry.guid:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", entry.guid):
            return entry.guid
        return f"{entry.feed_url}#{entry.guid}"
    digest = hashlib.sha256(
        "\n".join((entry.feed_url, entry.title, entry.summary)).encode()
    ).hexdigest()
    return f"urn:news-monitor:entry:{digest[:32]}"


_PROLOG_ITEM = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)", re.DOTALL | re.IGNORECASE
)
_FEED_ROOT = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF)[\s/>]")


def looks_like_feed(body: bytes) -> bool:
    """Cheap sniff: is the first element <rss>, <feed> or <rdf:RDF> (after prolog and comments)?"""
    head = _sniff_head(body)
    pos = 0
    while (item := _PROLOG_ITEM.match(head, pos)) is not None and item.end() > pos:
        pos = item.end()
    return _FEED_ROOT.match(head, pos) is not None


def entry_article(
    entry: Entry, *, feed_url: str | None = None, tags: tuple[str, ...] = ()
) -> Article:
    """An entry as an article of its own: the feed's full text when it carries one (complete),
    else its summary (partial, until a page is fetched: see `Extracted.fill`)."""
    return Article(
        url=entry.url or _http_link(entry.guid) or "",  # a guid is a link only when http(s)
        title=entry.title,
        text=content_text(entry.content) if entry.content else entry.summary,
        summary=entry.summary,
        published=entry.published,
        feed_url=feed_url,
        tags=tags,
        partial=not entry.content,
    )
