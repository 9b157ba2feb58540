"""Stories: articles carrying the same report, from one outlet or several.

An outlet republishing agency copy rewrites the headline, adds an intro, a footer or a
newsletter box, cuts the copy short or reorders its paragraphs; the text's word sequences
mostly survive. So two articles tell one story when most 3-word shingles of the shorter text
are in the other (containment |A∩B| / min(|A|, |B|) >= SAME_STORY), which a short version
of a long report passes and a different report on the same topic, sharing stock phrases, a
background paragraph or an outlet footer, does not. The threshold was measured on the pairs of
tests/digest/story_pairs.py (`bench/stories.py`: same-story pairs >= 0.61, different <= 0.39).

Candidates come from MinHash LSH (datasketch signatures, 64 bands of 2 rows): the store
keeps each article's band keys, so finding the candidates is one indexed query, and the
exact containment over the stored shingles decides.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from datetime import timedelta

import numpy as np
from datasketch import MinHash

from monitor.models import Article

SHINGLE_WORDS = 3
SAME_STORY = 0.5
# How far back a new article looks for its story.
STORY_WINDOW = timedelta(days=3)
NUM_PERM = 128
BAND_ROWS = 2
# A text this short (a caption, a one-line summary) identifies no story.
MIN_SHINGLES = 20
# The first words of a long text are enough to tell its story.
MAX_SHINGLES = 4000
# Shorter texts are not treated as identical copies (content hash) either.
MIN_IDENTIFYING_CHARS = 200
_SEED = 1
_WORD = re.compile(r"\w+")
# Band keys are stored: the hashing scheme is named so that a new default cannot change them.
_SCHEME = "affine32"


def identifying_text(article: Article) -> bool:
    """Whether the article's text is full enough that the same text means the same story."""
    return not article.partial and len(article.text) >= MIN_IDENTIFYING_CHARS


def shingles(text: str) -> array[int]:
    """The sorted, distinct 32-bit hashes of the text's word 3-grams (case folded)."""
    words = _WORD.findall(text.casefold())[: MAX_SHINGLES + SHINGLE_WORDS - 1]
    grams = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}
    hashes = {
        int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "big") for g in grams
    }
    return array("I", sorted(hashes))


def band_keys(hashes: array[int]) -> list[str]:
    """The LSH band keys of a shingle set: two sets sharing a key are candidates."""
    if len(hashes) < MIN_SHINGLES:
        return []
    signature = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME)
    signature.update_batch([h.to_bytes(4, "big") for h in hashes])
    values: np.ndarray = signature.hashvalues
    keys = []
    for band in range(NUM_PERM // BAND_ROWS):
        rows = values[band * BAND_ROWS : (band + 1) * BAND_ROWS].tobytes()
        keys.append(f"{band}:{hashlib.blake2b(rows, digest_size=12).hexdigest()}")
    return keys


def containment(a: array[int], b: array[int]) -> float:
    """|A∩B| / min(|A|, |B|); 0 when either is too short to identify a story."""
    if min(len(a), len(b)) < MIN_SHINGLES:
        return 0.0
    return len(set(a).intersection(b)) / min(len(a), len(b))


def pack(hashes: array[int]) -> bytes:
    return hashes.tobytes()


def unpack(data: bytes | None) -> array[int]:
    hashes = array("I")
    if data:
        hashes.frombytes(data)
    return hashes
