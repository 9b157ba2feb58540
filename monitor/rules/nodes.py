"""Compiled nodes: closures from a `Scope` to `Evidence` (or None when the node does not hold).

Each node also explains itself: `why_not(scope)` says why it does not hold, nearest candidates
first ("place Nairobi is 9 words from 'met' (within: 6)"), and `describe(doc, evidence)` says
what it found when it holds (a `none` node uses it to say what vetoed the rule). Evaluation
and explanation share one judgement per candidate, so the two never disagree.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitor.rules.figures import NumberSpan, Verdict, judge_numbers, people_phrase_end
from monitor.rules.places import Gazetteer
from monitor.rules.prefilter import ALWAYS, Requirement
from monitor.rules.terms import Scope, Span, Term
from monitor.rules.text import Document
from monitor.textfmt import clip

Occurrence = tuple[str, int, int]  # (term source, first token, end token)
# how many explanations one node gives: the nearest misses are the useful ones
MAX_REASONS = 5
# the capture under which `figure: {where: ...}` records the place beside a figure
PLACE_CAPTURE = "place"


@dataclass
class Evidence:
    """Why a node holds: term hits, figures and captured names, all as token spans."""

    hits: list[Occurrence] = field(default_factory=list)
    figures: list[NumberSpan] = field(default_factory=list)
    captures: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)

    def extend(self, other: Evidence) -> None:
        self.hits.extend(other.hits)
        self.figures.extend(other.figures)
        for name, values in other.captures.items():
            self.captures.setdefault(name, []).extend(values)


NodeFn = Callable[[Scope], Evidence | None]
WhyNot = Callable[[Scope], list[str]]
Describe = Callable[[Document, Evidence], str]


def span_text(doc: Document, start: int, end: int) -> str:
    return doc.text[doc.tokens[start].start : doc.tokens[end - 1].end]


def _quote_hits(doc: Document, evidence: Evidence) -> str:
    quoted = dict.fromkeys(f"'{span_text(doc, s, e)}'" for _, s, e in evidence.hits)
    return ", ".join(list(quoted)[:4]) or "a match"


def _no_reasons(scope: Scope) -> list[str]:
    return []


@dataclass(frozen=True)
class Node:
    """A compiled node: how to evaluate it, which words a matching document must contain, and
    how to explain it."""

    fn: NodeFn
    needs: Requirement = ALWAYS
    why_not: WhyNot = _no_reasons
    describe: Describe = _quote_hits
    # the candidates a figure or place node passed over, whether or not the node holds
    # (`rules eval` explains a labelled figure that a matching rule did not report)
    misses: WhyNot = _no_reasons


def listed(terms: Iterable[Term], limit: int = 6) -> str:
    sources = list(dict.fromkeys(t.source for t in terms))
    shown = ", ".join(sources[:limit])
    return shown + (f", ... ({len(sources)} terms)" if len(sources) > limit else "")


# -- terms and combinators ----------------------------------------------------------------


def term_node(term: Term) -> Node:
    def term_fn(scope: Scope) -> Evidence | None:
        spans = scope.spans(term)
        return Evidence(hits=[(term.source, s, e) for s, e in spans]) if spans else None

    return Node(term_fn, term.needs, lambda scope: [f"'{term.source}' does not occur"])


def any_node(children: list[Node], terms: list[Term]) -> Node:
    """At least one child holds. `terms` are the children that are plain terms, named
    together in an explanation instead of one line each."""
    fns = [child.fn for child in children]
    term_count = len(terms)

    def any_fn(scope: Scope) -> Evidence | None:
        evidence: Evidence | None = None
        for fn in fns:
            found = fn(scope)
            if found is not None:
                evidence = evidence or Evidence()
                evidence.extend(found)
        return evidence

    def why_not(scope: Scope) -> list[str]:
        reasons = [f"none of {listed(terms)} occurs"] if terms else []
        for child in children[term_count:]:
            reasons.extend(child.why_not(scope))
        return reasons

    return Node(
        any_fn,
        Requirement.any_of(child.needs for child in children),
        why_not,
        misses=_misses(children),
    )


def all_node(children: list[Node]) -> Node:
    fns = [child.fn for child in children]

    def all_fn(scope: Scope) -> Evidence | None:
        evidence = Evidence()
        for fn in fns:
            found = fn(scope)
            if found is None:
                return None
            evidence.extend(found)
        return evidence

    def why_not(scope: Scope) -> list[str]:
        return [r for child in children if child.fn(scope) is None for r in child.why_not(scope)]

    needs = ALWAYS
    for child in children:
        needs = needs & child.needs
    return Node(all_fn, needs, why_not, misses=_misses(children))


def _misses(children: list[Node]) -> WhyNot:
    return lambda scope: [r for child in children for r in child.misses(scope)]


def none_node(children: list[Node]) -> Node:
    fns = [child.fn for child in children]

    def none_fn(scope: Scope) -> Evidence | None:
        return None if any(fn(scope) is not None for fn in fns) else Evidence()

    def why_not(scope: Scope) -> list[str]:
        reasons = []
        for child in children:
            found = child.fn(scope)
            if found is not None:
                reasons.append(f"vetoed by none: {child.describe(scope.doc, found)}")
        return reasons

    return Node(none_fn, ALWAYS, why_not)  # what must be absent says nothing of what is present


# -- near -----------------------------------------------------------------------------------


def near_node(groups: list[list[Term]], within: int, same_sentence: bool) -> Node:
    def near_fn(scope: Scope) -> Evidence | None:
        occurrences = [occurrences_of(scope, group) for group in groups]
        evidence = Evidence()
        for source, start, end in occurrences[0]:
            partners = []
            for other in occurrences[1:]:
                close = [
                    o
                    for o in other
                    if close_to(scope.doc, (start, end), (o[1], o[2]), within, same_sentence)
                ]
                if not close:
                    break
                partners.extend(close)
            else:
                evidence.hits.append((source, start, end))
                evidence.hits.extend(partners)
        return evidence if evidence.hits else None

    def why_not(scope: Scope) -> list[str]:
        doc = scope.doc
        occurrences = [occurrences_of(scope, group) for group in groups]
        for group, found in zip(groups, occurrences, strict=True):
            if not found:
                return [f"near: none of {listed(group)} occurs"]
        nearest: list[tuple[int, str]] = []
        for _, start, end in occurrences[0]:
            for group, other in zip(groups[1:], occurrences[1:], strict=True):
                candidates = [
                    o for o in other if not same_sentence or _same_sentence(doc, start, o[1])
                ]
                if not candidates:
                    nearest.append(
                        (
                            10**9,
                            f"'{span_text(doc, start, end)}' has none of {listed(group)} "
                            "in its sentence",
                        )
                    )
                    continue
                o = min(candidates, key=lambda o: gap(start, end, o[1], o[2]))
                distance = gap(start, end, o[1], o[2])
                if distance > within:
                    nearest.append(
                        (
                            distance,
                            f"'{span_text(doc, start, end)}' is {distance} words from "
                            f"'{span_text(doc, o[1], o[2])}' (within: {within})",
                        )
                    )
        return list(dict.fromkeys(reason for _, reason in sorted(nearest)))[:MAX_REASONS]

    def describe(doc: Document, evidence: Evidence) -> str:
        (_, s1, e1), (_, s2, e2) = evidence.hits[0], evidence.hits[1]
        return f"'{span_text(doc, s2, e2)}' within {within} of '{span_text(doc, s1, e1)}'"

    needs = ALWAYS
    for group in groups:
        needs = needs & needs_one_of(group)
    return Node(near_fn, needs, why_not, describe)


# -- figures --------------------------------------------------------------------------------


def figure_node(
    triggers: list[Term],
    within: int,
    at_least: int | None,
    at_most: int | None,
    capture: str,
    same_sentence: bool,
    unless: list[Term],
    where: Gazetteer | None,
) -> Node:
    def judged(scope: Scope, doc: Document, every_sentence: bool) -> list[tuple[Verdict, int]]:
        """Each number of the sentences with a trigger (of every sentence, for explanations)
        with its verdict, and the end of its sentence."""
        ranges = by_range(doc, occurrences_of(scope, triggers), same_sentence)
        if every_sentence:
            covered = {doc.tokens[lo].sentence for lo, _, _ in ranges}
            ranges += [
                (lo, hi, []) for n, (lo, hi) in sentence_ranges(doc).items() if n not in covered
            ]
        vetoes = occurrences_of(scope, unless) if unless else []
        results: list[tuple[Verdict, int]] = []
        for lo, hi, spans in ranges:
            found = [(s, e) for _, s, e in spans]
            verdicts = judge_numbers(doc, lo, hi, found, within, at_least, at_most)
            veto = first_in(vetoes, lo, hi)
            if veto is not None:
                reason = f"'{span_text(doc, veto[1], veto[2])}' in its sentence (unless)"
                verdicts = [Verdict(v.number, None, reason) for v in verdicts]
            results += [(v, hi) for v in verdicts]
        return results

    def figure_fn(scope: Scope) -> Evidence | None:
        doc = scope.doc
        evidence = Evidence()
        # which trigger found each span (the first listed, where several did)
        sources = {span: t.source for t in reversed(triggers) for span in scope.spans(t)}
        for verdict, hi in judged(scope, doc, every_sentence=False):
            if verdict.trigger is None:
                continue
            number = verdict.number
            evidence.figures.append(number)
            evidence.hits.append((sources[verdict.trigger], *verdict.trigger))
            if capture != "figures":
                evidence.captures.setdefault(capture, []).append(
                    (number.text, number.start, number.end)
                )
            if where is not None:
                place = _place_beside(doc, where, number, hi)
                if place is not None:
                    evidence.captures.setdefault(PLACE_CAPTURE, []).append(place)
        return evidence if evidence.figures else None

    def passed_over(scope: Scope, limit: int | None = None) -> list[str]:
        """The counts of people the node passed over, with why: those in sentences with a
        trigger first, then those beside words that are not triggers."""
        doc = scope.doc
        if not occurrences_of(scope, triggers):
            return [f"figure: none of {listed(triggers)} occurs"]
        near, far = [], []
        for verdict, hi in judged(scope, doc, every_sentence=True):
            number = verdict.number
            if verdict.trigger is not None:
                continue
            context = clip(span_text(doc, number.start, min(number.end + 4, hi)), 80)
            reason = f"figure {number.value:,} in '{context}': {verdict.reason}"
            if "not a trigger" in verdict.reason or "no trigger" in verdict.reason:
                if people_phrase_end(doc, number.end, hi) is not None:
                    far.append(reason)
            else:
                near.append(reason)
        reasons = (near + far)[:limit]
        return reasons or ["figure: no count of people in the sentences with a trigger"]

    def why_not(scope: Scope) -> list[str]:
        return passed_over(scope, MAX_REASONS)

    def describe(doc: Document, evidence: Evidence) -> str:
        return ", ".join(f"figure {n.value:,} ('{n.text}')" for n in evidence.figures[:3])

    return Node(figure_fn, needs_one_of(triggers), why_not, describe, passed_over)


def _place_beside(
    doc: Document, gazetteer: Gazetteer, number: NumberSpan, hi: int
) -> tuple[str, int, int] | None:
    """The place where a figure happens: the nearest written after a locative ("40,000
    displaced in Syria", "fled from Darfur"), else the nearest ("Sudan's 40,000 displaced");
    "Chad says" is a speaker, not the place."""
    lo, _ = sentence_ranges(doc)[doc.tokens[number.start].sentence]
    key = ("places", id(gazetteer), lo, hi)  # found once per sentence, not once per figure
    if key not in doc.memo:
        places = gazetteer.find(doc, lo, hi)
        located = [p for p in places if word_before(doc, p[0]) in _LOCATIVES]
        doc.memo[key] = (located, places)
    for places in doc.memo[key]:
        if places:
            # places are in text order and never overlap: the nearest is one of the two
            # either side of the number
            k = bisect_left(places, number.start, key=lambda p: p[0])
            start, end, name = min(
                places[max(0, k - 1) : k + 1],
                key=lambda p: gap(p[0], p[1], number.start, number.end),
            )
            return name, start, end
    return None


_LOCATIVES = frozenset("in across from within inside near around throughout of".split())


# -- shared helpers -------------------------------------------------------------------------


_ARTICLES = frozenset({"the"})


def skip_article(doc: Document, start: int) -> int:
    """Where a name starting at `start` begins with its article: "the Philippines"."""
    if start > 0 and doc.tokens[start - 1].norm in _ARTICLES:
        return start - 1
    return start


def word_before(doc: Document, start: int) -> str:
    i = skip_article(doc, start) - 1
    if i < 0 or doc.tokens[i].sentence != doc.tokens[start].sentence:
        return ""
    return doc.tokens[i].norm


def needs_one_of(terms: list[Term]) -> Requirement:
    return Requirement.any_of(term.needs for term in terms)


def occurrences_of(scope: Scope, terms: list[Term]) -> list[Occurrence]:
    return sorted(
        ((term.source, s, e) for term in terms for s, e in scope.spans(term)), key=lambda o: o[1]
    )


def first_in(occurrences: list[Occurrence], lo: int, hi: int) -> Occurrence | None:
    """The first of `occurrences` (in text order) that starts among tokens [lo, hi)."""
    k = bisect_left(occurrences, lo, key=lambda o: o[1])
    return occurrences[k] if k < len(occurrences) and occurrences[k][1] < hi else None


def sentence_ranges(doc: Document) -> dict[int, tuple[int, int]]:
    """Sentence index -> (first token, end token), for every sentence that has tokens
    (memoised per document)."""
    key = ("sentences",)
    if key not in doc.memo:
        ranges: dict[int, tuple[int, int]] = {}
        for i, token in enumerate(doc.tokens):
            lo = ranges.get(token.sentence, (i, i))[0]
            ranges[token.sentence] = (lo, i + 1)
        doc.memo[key] = ranges
    result: dict[int, tuple[int, int]] = doc.memo[key]
    return result


def by_range(
    doc: Document, occurrences: list[Occurrence], same_sentence: bool
) -> list[tuple[int, int, list[Occurrence]]]:
    """Group trigger occurrences by sentence: (first token, end token, occurrences)."""
    if not occurrences:
        return []
    if not same_sentence:
        return [(0, len(doc.tokens), occurrences)]
    groups: dict[int, list[Occurrence]] = {}
    for occurrence in occurrences:
        groups.setdefault(doc.tokens[occurrence[1]].sentence, []).append(occurrence)
    ranges = sentence_ranges(doc)
    return [(*ranges[sentence], spans) for sentence, spans in groups.items()]


def gap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    """Words between two spans, in either order (0 when adjacent or overlapping)."""
    return max(b_start - a_end, a_start - b_end, 0)


def _same_sentence(doc: Document, a: int, b: int) -> bool:
    return doc.tokens[a].sentence == doc.tokens[b].sentence


def close_to(doc: Document, a: Span, b: Span, within: int, same_sentence: bool) -> bool:
    """At most `within` words between spans a and b, in either order."""
    if same_sentence and not _same_sentence(doc, a[0], b[0]):
        return False
    return gap(a[0], a[1], b[0], b[1]) <= within
