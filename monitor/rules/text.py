"""Tokenising text the way rules see it.

Words and numbers, case folded and accent folded; punctuation dropped; hyphens and apostrophes
split words ("cease-fire" -> cease, fire). A number written with group separators ("40,000",
"40 000", "1.2") or a scale suffix ("1.5m", "40k") stays one token so that figures can be read
from it. Every token keeps its span in the original text and the sentence it belongs to, so a
match can quote the sentence and mark the words that hit.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

# A number with thousands separators (comma, dot, thin/no-break space, or a plain space when
# every group has three digits) or a decimal part stays one token, together with any letters
# glued to it ("1.5m", "40k", "40,000th", "10am") so figures can tell scales from ordinals.
_NUMBER = (
    r"(?<![\w.,])\d{1,3}(?:(?:,|\u202f|\u00a0|\u2009| )\d{3})+(?!\d|,\d)(?:\.\d+)?[^\W_]*"
    r"|\d+(?:[.,]\d+)?[^\W_]*"
)
_TOKEN_RE = re.compile(rf"{_NUMBER}|[^\W_]+", re.UNICODE)

# Sentence ends: . ! ? (optionally followed by closing quotes/brackets) then space and a
# capital, digit or opening quote; or a line break.
_SENTENCE_END_RE = re.compile(
    r"""(?<=[.!?])(["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9\u00C0-\u024F])|\n+"""
)
_LAST_WORD_RE = re.compile(r"([\w.]+)\.\W*$")
_LAST_WORD_WINDOW = 64
# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen col lt sgt capt cmdr adm gov sen rep st jr sr no vs etc inc ltd co "
    "corp jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n d.c e.g i.e a.m p.m".split()
)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Case-fold and strip accents: "Élysée" -> "elysee"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Token:
    norm: str  # folded form that terms are compared with
    start: int  # span in the original text
    end: int
    sentence: int  # index into Document.sentences

    def is_number(self) -> bool:
        return self.norm[:1].isdigit()


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    field: str


class Document:
    """The tokens and sentences of some fields of an article, in order."""

    def __init__(self, parts: list[tuple[str, str]]) -> None:
        """`parts` is a list of (field name, text); fields are joined with blank lines."""
        pieces: list[str] = []
        self.sentences: list[Sentence] = []
        self.tokens: list[Token] = []
        offset = 0
        for field_name, text in parts:
            text = text.strip()
            if not text:
                continue
            for s_start, s_end in split_sentences(text):
                index = len(self.sentences)
                self.sentences.append(Sentence(offset + s_start, offset + s_end, field_name))
                for m in _TOKEN_RE.finditer(text, s_start, s_end):
                    self.tokens.append(
                        Token(fold(m.group()), offset + m.start(), offset + m.end(), index)
                    )
            pieces.append(text)
            offset += len(text) + 2
        self.text = "\n\n".join(pieces)
        # word -> positions, for exact lookups; prefix lookups bisect the sorted vocabulary
        self.positions: dict[str, list[int]] = {}
        for i, token in enumerate(self.tokens):
            self.positions.setdefault(token.norm, []).append(i)
        # per-document results that several rules share (e.g. the numbers of a sentence)
        self.memo: dict[Any, Any] = {}

    @cached_property
    def vocabulary(self) -> list[str]:
        return sorted(self.positions)

    def prefix_positions(self, prefix: str) -> list[int]:
        """Positions of the words starting with `prefix` (folded), in order."""
        words = self.vocabulary
        lo = bisect.bisect_left(words, prefix)
        hi = bisect.bisect_left(words, prefix + "\U0010ffff", lo)
        if hi - lo == 1:
            return self.positions[words[lo]]
        return sorted(p for w in words[lo:hi] for p in self.positions[w])

    def original(self, i: int) -> str:
        token = self.tokens[i]
        return self.text[token.start : token.end]

    def sentence_text(self, index: int) -> str:
        sentence = self.sentences[index]
        return self.text[sentence.start : sentence.end]


def words_of(text: str) -> list[str]:
    """The tokens of `text` as written (case-exact terms compare these)."""
    return _TOKEN_RE.findall(text)


def tokenize(text: str) -> list[str]:
    """The folded tokens of `text` (rule terms are tokenised with this too)."""
    return [fold(m.group()) for m in _TOKEN_RE.finditer(text)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        end = m.end(1) if m.group(1) is not None else m.start()
        if m.group(1) is not None:
            # only the last word decides, so look at the end alone: a text of a thousand
            # abbreviations ("A. A. A. ...") must not be re-read from its start each time
            last_word = _LAST_WORD_RE.search(text, max(start, end - _LAST_WORD_WINDOW), end)
            if last_word and (
                last_word.group(1).casefold() in _ABBREVIATIONS or len(last_word.group(1)) == 1
            ):
                continue
        _append_trimmed(spans, text, start, end)
        start = m.end()
    _append_trimmed(spans, text, start, len(text))
    return spans


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
