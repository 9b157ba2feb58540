"""Articles and the stories they belong to."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from monitor.digest.stories import STORY_WINDOW, identifying_text, same_story, story_words
from monitor.models import Article
from monitor.store.base import StoreBase, inserted_id
from monitor.store.schema import alerts, articles, headline_words
from monitor.timeutil import as_utc, utcnow

# How many recent articles sharing headline words a new one is compared with (most shared first).
STORY_CANDIDATES = 50


class ArticleStore(StoreBase):
    # -- articles and alerts ----------------------------------------------------------------

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
        words = story_words(article.title)
        text_hash = content_hash(article.text) if identifying_text(article) else None
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
                story_id = self._find_story(conn, words, now - STORY_WINDOW)
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
                        headline_size=len(words),
                        created_at=now,
                    )
                )
            )
            if words:
                conn.execute(
                    insert(headline_words),
                    [{"article_id": article_id, "word": w[:128], "created_at": now} for w in words],
                )
            if story_id is None:
                story_id = article_id
                conn.execute(
                    update(articles).where(articles.c.id == article_id).values(story_id=story_id)
                )
        return article_id, story_id, earlier is not None

    @staticmethod
    def _find_story(conn: Connection, words: frozenset[str], since: datetime) -> int | None:
        """The story of the most similar recent headline, if similar enough."""
        if not words:
            return None
        shared = func.count().label("shared")
        candidates = conn.execute(
            select(articles.c.story_id, articles.c.headline_size, shared)
            .select_from(
                headline_words.join(articles, articles.c.id == headline_words.c.article_id)
            )
            .where(headline_words.c.word.in_(sorted(words)), headline_words.c.created_at >= since)
            .group_by(articles.c.id, articles.c.story_id, articles.c.headline_size)
            .order_by(shared.desc(), articles.c.id)
            .limit(STORY_CANDIDATES)
        )
        for story_id, size, count in candidates:
            if same_story(count, len(words), size):
                return int(story_id)
        return None

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
