"""Stories by near-duplicate text: wire copy republished under new headlines joins, different
reports on one topic stay apart (the pairs are in story_pairs.py, measured by bench/stories.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.stories import (
    SAME_STORY,
    STORY_WINDOW,
    band_keys,
    containment,
    shingles,
)
from monitor.models import Article
from monitor.store import Store
from tests.digest.story_pairs import PAIRS

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def as_article(text: str, url: str) -> Article:
    """A pair's text as the extractor hands it on: headline, then the body."""
    headline, _, body = text.partition("\n")
    return Article(url=url, title=headline, text=body.strip(), site_name=url.split("/")[2])


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.name)
def test_containment_tells_the_same_report_from_another_on_the_topic(pair):
    a, b = (shingles(as_article(t, "https://x.example/").text) for t in (pair.a, pair.b))
    score = containment(a, b)
    assert (score >= SAME_STORY) == pair.same_story, f"{pair.name}: containment {score:.2f}"
    if pair.same_story:  # LSH makes it a candidate, or the store would never compare them
        assert set(band_keys(a)) & set(band_keys(b))


def test_enough_hard_pairs_of_each_kind():
    assert sum(p.same_story for p in PAIRS) >= 14
    assert sum(not p.same_story for p in PAIRS) >= 14


def test_short_texts_identify_no_story():
    hashes = shingles("Ceasefire agreed in the north. More soon.")
    assert band_keys(hashes) == [] and containment(hashes, hashes) == 0.0


def test_a_huge_text_is_read_in_bounded_time_and_space():
    hashes = shingles("word " * 2_000_000 + " ".join(f"w{i}" for i in range(100_000)))
    assert len(hashes) <= 4000


def test_the_store_files_wire_copies_under_one_story(database_url):
    store = Store(database_url)
    try:

        def story(text, url, when=NOW):
            return store.add_article(url, as_article(text, url), now=when)[1]

        by_name = {p.name: p for p in PAIRS}
        wire = by_name["wire-rewritten-headline-footer"]
        other = by_name["ceasefire-vs-breach-shared-background"]
        first = story(wire.a, "https://agency.example/1")
        assert story(wire.b, "https://ledger.example/2") == first  # new headline and footer
        assert story(other.b, "https://agency.example/3") != first  # the breach, days later
        short = by_name["wire-first-40pct"]
        other_story = story(short.a, "https://agency.example/4")
        assert other_story != first
        assert story(short.b, "https://brief.example/5") == other_story  # the short version
        later = NOW + STORY_WINDOW + timedelta(hours=1)
        assert story(wire.b, "https://late.example/6", later) not in (first, other_story)
        assert store.forget_story_bands(later) > 0
    finally:
        store.close()
