"""Terms: the words, prefixes, phrases and regular expressions that rules look for.

Each term finds its spans (token index ranges) in a `Document`, and says which words a
document must contain for it to occur at all (`needs`), which feeds the prefilter.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import re2

from monitor.rules.forms import word_forms
from monitor.rules.prefilter import ALWAYS, Requirement
from monitor.rules.text import Document, fold

Span = tuple[int, int]  # token indexes [start, end)


class Scope:
    """One document being matched, with the spans of each term computed at most once."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._spans: dict[int, list[Span]] = {}

    def spans(self, term: Term) -> list[Span]:
        key = id(term)
        if key not in self._spans:
            self._spans[key] = term.find(self.doc)
        return self._spans[key]


class Term:
    source: str

    def find(self, doc: Document) -> list[Span]:
        raise NotImplementedError

    @property
    def needs(self) -> Requirement:
        return ALWAYS


@dataclass(eq=False)
class WordsTerm(Term):
    """A word, a `prefix*`, `~forms` of a word, or a phrase of them where `*` alone is any
    one word."""

    source: str
    parts: tuple[tuple[str, str], ...]  # (kind, text) with kind in word | prefix | forms | any
    case: bool = False

    @property
    def needs(self) -> Requirement:
        """Every literal part must occur; the longest is the rarest, so the best filter."""
        literal = [(kind, fold(text)) for kind, text in self.parts if kind != "any"]
        kind, text = max(literal, key=_rarity)
        if kind == "forms":
            return Requirement((frozenset(("word", form) for form in word_forms(text)),))
        return Requirement((frozenset({(kind, text)}),))

    def find(self, doc: Document) -> list[Span]:
        n = len(self.parts)
        if n == 1 and not self.case:  # the common case: one word or prefix, no checks needed
            return [(i, i + 1) for i in self._starts(doc)]
        spans: list[Span] = []
        for i in self._starts(doc):
            end = i + n
            if end > len(doc.tokens) or doc.tokens[end - 1].sentence != doc.tokens[i].sentence:
                continue
            if all(self._part_matches(doc, i + k, part) for k, part in enumerate(self.parts)):
                spans.append((i, end))
        return spans

    def _starts(self, doc: Document) -> list[int]:
        # parts are folded already, except in case-exact terms (positions are always folded)
        kind, text = self.parts[0]
        if kind == "word":
            return doc.positions.get(fold(text) if self.case else text, [])
        if kind == "prefix":
            return doc.prefix_positions(fold(text) if self.case else text)
        if kind == "forms":
            return sorted(p for form in word_forms(text) for p in doc.positions.get(form, ()))
        return list(range(len(doc.tokens)))

    def _part_matches(self, doc: Document, i: int, part: tuple[str, str]) -> bool:
        kind, text = part
        if kind == "any":
            return True
        word = doc.original(i) if self.case else doc.tokens[i].norm
        if kind == "forms":
            return doc.tokens[i].norm in word_forms(text)
        return word == text if kind == "word" else word.startswith(text)


def _rarity(part: tuple[str, str]) -> int:
    """Longer words are rarer; a word's forms are as rare as its shortest form."""
    kind, text = part
    return min(map(len, word_forms(text))) if kind == "forms" else len(text)


@dataclass(eq=False)
class RegexTerm(Term):
    """`/.../`: RE2 over the original text; case-insensitive unless it says `(?-i)`."""

    source: str
    pattern: re2._Regexp

    def find(self, doc: Document) -> list[Span]:
        starts = [t.start for t in doc.tokens]
        spans: list[Span] = []
        for m in self.pattern.finditer(doc.text):
            first = bisect.bisect_right(starts, m.start()) - 1
            if first < 0 or doc.tokens[first].end <= m.start():
                first += 1
            last = bisect.bisect_left(starts, m.end())
            if first < last:
                spans.append((first, last))
        return spans


def re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20  # a pathological pattern fails to compile instead of eating memory
    return options


RE2_OPTIONS = re2_options()
