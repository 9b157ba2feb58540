"""Articles keep their words (compressed) for the console's playground, the latest
KEEP_TEXTS of them only: storing one drops the words of the one KEEP_TEXTS back."""

import importlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from monitor.models import Article
from monitor.store import Store, articles

# the module (`monitor.store.articles` the attribute is the table)
article_store = importlib.import_module("monitor.store.articles")

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


def test_the_latest_articles_come_back_with_their_words(store):
    text = "Fighting has displaced 40,000 people in Sudan, café owners said. " * 50
    article = Article(
        url="https://news.example/1",
        title="Sudan",
        text=text,
        summary="Forty thousand displaced.",
        language="en",
        feed_url="https://news.example/rss",
    )
    first, _, _ = store.add_article("a1", article, now=NOW)
    second, _, _ = store.add_article(
        "a2", Article(url="https://news.example/2", title="Two", text=""), now=NOW
    )
    [newest, older] = store.recent_articles()
    assert (newest.id, older.id) == (second, first)
    assert older.article == article and older.created_at == NOW
    assert newest.article.text == "" and newest.article.summary == ""
    assert [s.id for s in store.recent_articles(limit=1)] == [second]
    with store.engine.connect() as conn:
        stored = conn.execute(select(articles.c.text).order_by(articles.c.id)).scalars().all()
    assert len(stored[0]) < len(text) / 10  # compressed


def test_only_the_latest_keep_their_words(store, monkeypatch):
    monkeypatch.setattr(article_store, "KEEP_TEXTS", 3)
    ids = [
        store.add_article(
            f"a{i}",
            Article(url=f"https://n.example/{i}", title=f"t{i}", text=f"words {i}"),
            now=NOW,
        )[0]
        for i in range(6)
    ]
    assert [s.id for s in store.recent_articles()] == ids[:2:-1]
    assert [s.article.title for s in store.recent_articles()] == ["t5", "t4", "t3"]
