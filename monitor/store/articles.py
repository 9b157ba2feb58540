"""Articles and the stories they belong to."""

from __future__ import annotations

import hashlib
import zlib
from array import array
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from monitor.digest.stories import (
    SAME_STORY,
    STORY_WINDOW,
    band_keys,
    containment,
    identifying_text,
    pack,
    shingles,
    unpack,
)
from monitor.extract.boilerplate import strip_boilerplate
from monitor.models import Article
from monitor.store.base import StoreBase, inserted_id
from monitor.store.schema import alerts, articles, story_bands
from monitor.timeutil import as_utc, utcnow

# How many recent articles sharing LSH bands a new one is compared with (most shared first).
STORY_CANDIDATES = 50
# The latest articles keep their words (compressed: a third of a page's text, some 2 KB), so
# the console can match an edited rule against them; storing one drops the words of the
# one KEEP_TEXTS ids back (and of a few before it, in case ids were skipped), so the table
# holds at most this many texts however long the worker runs.
KEEP_TEXTS = 5_000
_DROP_WINDOW = 64


@dataclass(frozen=True)
class StoredArticle:
    """An article read back with its words, for matching again (`recent_articles`)."""

    id: int
    article: Article
    created_at: datetime


class ArticleStore(StoreBase):
    def known_identities(self, identities: list[str]) -> set[str]:
        """Which of these entry identities are stored already."""
        if not identities:
            return set()
        with self.engine.connect() as conn:
            query = select(articles.c.identity).where(articles.c.identity.in_(identities))
            return set(conn.scalars(query))

    def has_article(self, identity: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.scalar(select(articles.c.id).where(articles.c.identity == identity))
                is not None
            )

    def add_article(
        self,
        identity: str,
        article: Article,
        *,
        alerted: bool = True,
        now: datetime | None = None,
        conn: Connection | None = None,
    ) -> tuple[int, int, bool]:
        """Store an article and file it under its story. Returns (article id, story id,
        duplicate): a duplicate repeats the full text of an article stored before."""
        now = now or utcnow()
        text_hash = content_hash(article.text) if identifying_text(article) else None
        # the summary stands in for a page that could not be read: it still finds its story
        hashes = shingles(strip_boilerplate(article.text or article.summary))
        bands = band_keys(hashes)
        with self._using(conn) as conn:
            earlier = None
            if text_hash is not None:
                earlier = conn.execute(
                    select(articles.c.story_id, articles.c.created_at)
                    .where(articles.c.content_hash == text_hash)
                    .order_by(articles.c.id.desc())
                    .limit(1)
                ).first()
            if earlier is not None and (as_utc(earlier.created_at) or now) >= now - STORY_WINDOW:
                story_id: int | None = int(earlier.story_id)
            else:
                story_id = self._find_story(conn, hashes, bands, now - STORY_WINDOW)
            article_id = inserted_id(
                conn.execute(
                    insert(articles).values(
                        identity=identity,
                        url=article.url,
                        feed_url=article.feed_url,
                        title=article.title,
                        published=article.published,
                        site_name=article.site_name,
                        content_hash=text_hash,
                        partial=article.partial,
                        alerted=alerted and earlier is None,
                        story_id=story_id,
                        shingles=pack(hashes) if bands else None,
                        created_at=now,
                        text=_pack_text(article.text),
                        summary=_pack_text(article.summary),
                        language=(article.language or "")[:32] or None,
                    )
                )
            )
            conn.execute(
                update(articles)
                .where(
                    articles.c.id <= article_id - KEEP_TEXTS,
                    articles.c.id > article_id - KEEP_TEXTS - _DROP_WINDOW,
                )
                .values(text=None, summary=None)
            )
            if bands:
                conn.execute(
                    insert(story_bands),
                    [{"article_id": article_id, "band": b, "created_at": now} for b in bands],
                )
            if story_id is None:
                story_id = article_id
                conn.execute(
                    update(articles).where(articles.c.id == article_id).values(story_id=story_id)
                )
        return article_id, story_id, earlier is not None

    @staticmethod
    def _find_story(
        conn: Connection, hashes: array[int], bands: list[str], since: datetime
    ) -> int | None:
        """The story of the recent article whose text contains most of this one's (or is
        mostly contained in it), if enough: candidates share LSH bands, containment decides."""
        if not bands:
            return None
        shared = func.count().label("shared")
        candidates = conn.execute(
            select(articles.c.story_id, articles.c.shingles)
            .select_from(story_bands.join(articles, articles.c.id == story_bands.c.article_id))
            .where(story_bands.c.band.in_(bands), story_bands.c.created_at >= since)
            .group_by(articles.c.id, articles.c.story_id, articles.c.shingles)
            .order_by(shared.desc(), articles.c.id)
            .limit(STORY_CANDIDATES)
        ).all()
        scored = [(containment(hashes, unpack(row.shingles)), row.story_id) for row in candidates]
        best = max(scored, default=(0.0, None), key=lambda pair: pair[0])
        return int(best[1]) if best[1] is not None and best[0] >= SAME_STORY else None

    def recent_articles(self, limit: int = 1000) -> list[StoredArticle]:
        """The latest `limit` articles that kept their words, newest first."""
        query = (
            select(
                articles.c.id,
                articles.c.url,
                articles.c.feed_url,
                articles.c.title,
                articles.c.published,
                articles.c.site_name,
                articles.c.partial,
                articles.c.created_at,
                articles.c.text,
                articles.c.summary,
                articles.c.language,
            )
            .where(articles.c.text.is_not(None))
            .order_by(articles.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            StoredArticle(
                row.id,
                Article(
                    url=row.url,
                    title=row.title,
                    text=_unpack_text(row.text),
                    summary=_unpack_text(row.summary),
                    published=as_utc(row.published),
                    site_name=row.site_name,
                    language=row.language,
                    feed_url=row.feed_url,
                    partial=row.partial,
                ),
                as_utc(row.created_at) or utcnow(),
            )
            for row in rows
        ]

    def forget_story_bands(self, now: datetime | None = None) -> int:
        """Drop band keys older than the story window: no new article looks that far back."""
        since = (now or utcnow()) - STORY_WINDOW
        with self.engine.begin() as conn:
            return int(
                conn.execute(delete(story_bands).where(story_bands.c.created_at < since)).rowcount
            )

    def story_alerted(self, rule: str, story_id: int, *, conn: Connection | None = None) -> bool:
        """Whether `rule` already alerted on an article of this story."""
        query = (
            select(alerts.c.id)
            .join(articles, articles.c.id == alerts.c.article_id)
            .where(alerts.c.rule == rule, articles.c.story_id == story_id)
            .limit(1)
        )
        with self._using(conn, write=False) as conn:
            return conn.scalar(query) is not None


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()


def _pack_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack_text(packed: bytes | None) -> str:
    return zlib.decompress(packed).decode("utf-8") if packed else ""
