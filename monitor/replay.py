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
from monitor.extract import ExtractFailure, extract_html
from monitor.feeds import entry_article, looks_like_feed, parse_feed
from monitor.fetch import fetch
from monitor.models import Article, Entry, Match
from monitor.netguard import make_session
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
    if source.startswith(("http://", "https://")):
        page = await fetch(session, source, allow_private=allow_private)
        if not page.ok:
            return [(None, page.error or f"fetch: status {page.status}")]
        body, url, is_html = page.body, page.final_url, True
    else:
        path = Path(source)
        try:
            body = path.read_bytes()
        except OSError as exc:
            return [(None, f"replay: cannot read {source} ({exc.strerror})")]
        url, is_html = path.resolve().as_uri(), path.suffix.lower() in _HTML_SUFFIXES
    if looks_like_feed(body):
        feed = parse_feed(body, feed_url=url)
        if not feed.ok:
            return [(None, feed.error)]
        return [await _entry_article(session, e, fetch_pages, allow_private) for e in feed.entries]
    if is_html or body.lstrip()[:1] == b"<":
        return [_page_article(body, url)]
    return [(Article(url=url, title="", text=body.decode("utf-8", errors="replace")), None)]


def _page_article(body: bytes, url: str) -> tuple[Article | None, str | None]:
    extracted = extract_html(body, url)
    if isinstance(extracted, ExtractFailure):
        return None, extracted.reason
    return extracted.as_article(extracted.canonical_url or url), None


async def _entry_article(
    session: aiohttp.ClientSession, entry: Entry, fetch_pages: bool, allow_private: bool
) -> tuple[Article | None, str | None]:
    own = entry_article(entry)  # as the worker sees it
    if not (fetch_pages and entry.url):
        return own, None
    page = await fetch(session, entry.url, allow_private=allow_private)
    if not page.ok:
        return own, page.error or f"fetch: status {page.status}"
    extracted = extract_html(page.body, page.final_url)
    if isinstance(extracted, ExtractFailure):
        return own, extracted.reason
    return extracted.fill(own), None
