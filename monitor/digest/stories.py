"""Story clustering: articles about the same story, from one outlet or several.

Two articles belong to one story when their headlines share most of their content words
(Jaccard similarity of the folded words, minus stop words and numbers) or their texts are
identical. Headlines are what outlets rewrite least when they carry the same wire story; the
store indexes headline words, so finding a story is one indexed query, not a scan.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.models import Article
from monitor.rules.text import tokenize

# Headlines sharing at least this share of their content words tell the same story: high,
# because "envoy travels to Moscow" and "envoy travels to Kyiv" differ by one word but are
# different news (a story split in two costs one extra alert; two merged cost one missed).
SAME_STORY = 0.7
# How far back a new article looks for its story.
STORY_WINDOW = timedelta(days=3)

_STOP_WORDS = frozenset(
    "a an the of in on at to for from by with and or but as is are was were be been being "
    "has have had it its this that these those into over after before about amid says said "
    "say new live update updates video watch how why what who when where will would could "
    "can may not no more than up out s".split()
)


# Shorter texts (empty ones, a caption, a feed's one-line summary) identify nothing.
MIN_IDENTIFYING_CHARS = 200


def identifying_text(article: Article) -> bool:
    """Whether the article's text is full enough that the same text means the same story."""
    return not article.partial and len(article.text) >= MIN_IDENTIFYING_CHARS


def story_words(title: str) -> frozenset[str]:
    """The content words of a headline: folded, without stop words and numbers."""
    return frozenset(w for w in tokenize(title) if w not in _STOP_WORDS and not w[0].isdigit())


def same_story(shared: int, size_a: int, size_b: int) -> bool:
    """Two headlines of `size_a` and `size_b` content words, `shared` of them in common."""
    if size_a < 2 or size_b < 2:
        return False  # one-word headlines say too little to cluster on
    return shared / (size_a + size_b - shared) >= SAME_STORY
