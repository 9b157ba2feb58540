"""`monitor replay`: a dry run of extract + match over files or URLs. Writes and sends nothing.

A SOURCE is an HTML page, a plain-text file, a feed file, or an http(s) URL of a page or feed.
A feed's entries are matched on their own content unless `fetch_pages` asks for their pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from monitor.codec import match_to_json
from monitor.extract.article import ExtractFailure, extract_html
from monitor.extract.boilerplate import split_header
from monitor.intake.feeds import entry_article, looks_like_feed, parse_feed
from monitor.intake.fetch import fetch
from monitor.intake.netguard import make_session
from monitor.models import Article, Entry, Match
from monitor.rules.match import RuleSet, match_article

_HTML_SUFFIXES = (".html", ".htm", ".xhtml")


@dataclass(frozen=True)
class ReplayResult:
    source: str
    article: Article | None
    matches: list[Match] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        article = self.article
        return {
            "source": self.source,
            "url": article.url if article else None,
            "title": article.title if article else None,
            "published": article.published.isoformat() if article and article.published else None,
            "matches": [match_to_json(m) for m in self.matches],
            **({"error": self.error} if self.error else {}),
        }


async def replay(
    sources: list[str], rules: RuleSet, *, fetch_pages: bool = False, allow_private: bool = False
) -> list[ReplayResult]:
    results: list[ReplayResult] = []
    async with make_session(allow_private=allow_private) as session:
        for source in sources:
            for article, error in await _articles(session, source, fetch_pages, allow_private):
                matches = match_article(article, rules) if article else []
                results.append(ReplayResult(source, article, matches, error))
    return results


async def _articles(
    session: aiohttp.ClientSession, source: str, fetch_pages: bool, allow_private: bool
) -> list[tuple[Article | None, str | None]]:
    if not source.startswith(("http://", "https://")):
        if fetch_pages:
            return await _fetched_entries(session, Path(source), allow_private)
        return read_documents(Path(source))
    page = await fetch(session, source, allow_private=allow_private)
    if not page.ok:
        return [(None, page.error or f"fetch: status {page.status}")]
    if fetch_pages and looks_like_feed(page.body):
        feed = parse_feed(page.body, feed_url=page.final_url)
        if not feed.ok:
            return [(None, feed.error)]
        return [await _entry_article(session, e, allow_private) for e in feed.entries]
    return documents_of(page.body, page.final_url, is_html=True)


async def _fetched_entries(
    session: aiohttp.ClientSession, path: Path, allow_private: bool
) -> list[tuple[Article | None, str | None]]:
    body, error = _read(path)
    if error is not None:
        return [(None, error)]
    if not looks_like_feed(body):
        return documents_of(body, path.resolve().as_uri(), is_html=_is_html(path))
    feed = parse_feed(body, feed_url=path.resolve().as_uri())
    if not feed.ok:
        return [(None, feed.error)]
    return [await _entry_article(session, e, allow_private) for e in feed.entries]


def read_documents(path: Path) -> list[tuple[Article | None, str | None]]:
    """The documents of a file as the worker would see them (no network): a page extracted,
    a text as it is, each entry of a feed on its own content. Errors come back, not raised."""
    body, error = _read(path)
    if error is not None:
        return [(None, error)]
    return documents_of(body, path.resolve().as_uri(), is_html=_is_html(path))


def documents_of(
    body: bytes, url: str, *, is_html: bool
) -> list[tuple[Article | None, str | None]]:
    if looks_like_feed(body):
        feed = parse_feed(body, feed_url=url)
        if not feed.ok:
            return [(None, feed.error)]
        return [(entry_article(e), None) for e in feed.entries]
    if is_html or body.lstrip()[:1] == b"<":
        return [_page_article(body, url)]
    header, text = split_header(body.decode("utf-8", errors="replace"))
    return [(Article(url=url, title=header.get("title", ""), text=text), None)]


def _read(path: Path) -> tuple[bytes, str | None]:
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return b"", f"cannot read file ({exc.strerror})"


def _is_html(path: Path) -> bool:
    return path.suffix.lower() in _HTML_SUFFIXES


def _page_article(body: bytes, url: str) -> tuple[Article | None, str | None]:
    extracted = extract_html(body, url)
    if isinstance(extracted, ExtractFailure):
        return None, extracted.reason
    return extracted.as_article(extracted.canonical_url or url), None


async def _entry_article(
    session: aiohttp.ClientSession, entry: Entry, allow_private: bool
) -> tuple[Article | None, str | None]:
    own = entry_article(entry)  # as the worker sees it
    if not entry.url:
        return own, None
    page = await fetch(session, entry.url, allow_private=allow_private)
    if not page.ok:
        return own, page.error or f"fetch: status {page.status}"
    extracted = extract_html(page.body, page.final_url)
    if isinstance(extracted, ExtractFailure):
        return own, extracted.reason
    return extracted.fill(own), None
