"""One pass over an article's words to find which rules can possibly match.

Every compiled rule carries a `Requirement`: words (or word prefixes) that any matching
document must contain, in conjunctive normal form ("one of these, and one of those"). All keys of
all rules go into one Aho-Corasick automaton over the document's vocabulary, so a single scan
tells which clauses are satisfied; only rules whose every clause is satisfied are evaluated.
The requirement over-approximates (it never rejects a document that would match), so results
are exactly those of evaluating every rule, at a cost that grows far slower than the rule count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

# ("word", "ceasefire") must occur as a whole word; ("prefix", "displac") as a word's start.
Key = tuple[str, str]

# Word boundaries in the scanned text: every vocabulary word is written "\x01word\x02".
_START, _END = "\x01", "\x02"


@dataclass(frozen=True)
class Requirement:
    """Clauses that must all hold; a clause holds when one of its keys occurs."""

    clauses: tuple[frozenset[Key], ...] = ()

    def __and__(self, other: Requirement) -> Requirement:
        return Requirement(self.clauses + other.clauses)

    @staticmethod
    def any_of(requirements: Iterable[Requirement]) -> Requirement:
        """Holds if one of `requirements` holds: one clause joining a clause of each."""
        keys: set[Key] = set()
        for requirement in requirements:
            if not requirement.clauses:
                return ALWAYS  # one alternative needs nothing, so neither does the whole
            keys |= min(requirement.clauses, key=len)
        return Requirement((frozenset(keys),)) if keys else ALWAYS


ALWAYS = Requirement()


class Prefilter:
    """Finds the candidate rules (by index) for a document's vocabulary in one scan."""

    def __init__(self, requirements: list[Requirement]) -> None:
        self.always = [i for i, r in enumerate(requirements) if not r.clauses]
        self.full_masks = [(1 << len(r.clauses)) - 1 for r in requirements]
        key_ids: dict[Key, int] = {}
        self.postings: list[list[tuple[int, int]]] = []  # key id -> (rule index, clause bit)
        for rule_index, requirement in enumerate(requirements):
            for clause_index, clause in enumerate(requirement.clauses):
                for key in clause:
                    if key not in key_ids:
                        key_ids[key] = len(self.postings)
                        self.postings.append([])
                    self.postings[key_ids[key]].append((rule_index, 1 << clause_index))
        self.automaton: ahocorasick.Automaton | None = None
        if key_ids:
            self.automaton = ahocorasick.Automaton()
            for (kind, text), key_id in key_ids.items():
                pattern = _START + text + (_END if kind == "word" else "")
                self.automaton.add_word(pattern, key_id)
            self.automaton.make_automaton()

    def candidates(self, vocabulary: Iterable[str]) -> list[int]:
        """Indexes of the rules that may match a document with these (folded) words, in order."""
        if self.automaton is None:
            return list(self.always)
        text = _START + (_END + _START).join(vocabulary) + _END
        found = {key_id for _, key_id in self.automaton.iter(text)}
        masks: dict[int, int] = {}
        for key_id in found:
            for rule_index, bit in self.postings[key_id]:
                masks[rule_index] = masks.get(rule_index, 0) | bit
        candidates = [r for r, mask in masks.items() if mask == self.full_masks[r]]
        return sorted(candidates + self.always)
