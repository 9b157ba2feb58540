"""Compiled nodes: closures from a `Scope` to `Evidence` (or None when the node does not hold).

Each node also explains itself: `why_not(scope)` says why it does not hold, nearest candidates
first ("place Nairobi is 9 words from 'met' (within: 6)"), and `describe(doc, evidence)` says
what it found when it holds (a `none` node uses it to say what vetoed the rule). Evaluation
and explanation share one judgement per candidate, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from monitor.rules.figures import NumberSpan, Verdict, judge_numbers, people_phrase_end
from monitor.rules.places import Gazetteer, dateline
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


def _listed(terms: Iterable[Term], limit: int = 6) -> str:
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
        reasons = [f"none of {_listed(terms)} occurs"] if terms else []
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
                return [f"near: none of {_listed(group)} occurs"]
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
                            f"'{span_text(doc, start, end)}' has none of {_listed(group)} "
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
            veto = next((o for o in vetoes if lo <= o[1] < hi), None)
            if veto is not None:
                reason = f"'{span_text(doc, veto[1], veto[2])}' in its sentence (unless)"
                verdicts = [Verdict(v.number, None, reason) for v in verdicts]
            results += [(v, hi) for v in verdicts]
        return results

    def figure_fn(scope: Scope) -> Evidence | None:
        doc = scope.doc
        evidence = Evidence()
        for verdict, hi in judged(scope, doc, every_sentence=False):
            if verdict.trigger is None:
                continue
            number = verdict.number
            evidence.figures.append(number)
            source = next(t.source for t in triggers if verdict.trigger in scope.spans(t))
            evidence.hits.append((source, *verdict.trigger))
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
            return [f"figure: none of {_listed(triggers)} occurs"]
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
    places = gazetteer.find(doc, lo, hi)
    if not places:
        return None

    def rank(place: tuple[int, int, str]) -> tuple[bool, int]:
        located = _word_before(doc, place[0]) in _LOCATIVES
        return not located, gap(place[0], place[1], number.start, number.end)

    start, end, name = min(places, key=rank)
    return name, start, end


_LOCATIVES = frozenset("in across from within inside near around throughout of".split())


# -- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceRules:
    """What makes a place name found in the text count (see `place:` in docs/rules.md)."""

    gazetteer: Gazetteer
    triggers: list[Term] | None
    within: int
    same_sentence: bool
    after: bool  # the place must come after its trigger ("travel to Moscow")
    prepositions: frozenset[str] | None  # the word before the place, when given
    unless: list[Term]  # a candidate in a sentence with one of these does not count
    negations: list[Term]  # a trigger right after one of these ("would not travel") is none
    actors: list[Term]  # when given, one of these must be in the candidate's sentence
    names: bool  # the names written after an actor stand for it later in the text
    dateline: bool  # the dateline's place is the candidate of sentences that name none


@dataclass(frozen=True)
class PlaceVerdict:
    start: int
    end: int
    name: str
    triggers: list[Occurrence]  # the triggers close enough, when it counts
    reason: str = ""  # why it does not count


def place_node(rules: PlaceRules, capture: str) -> Node:
    def place_fn(scope: Scope) -> Evidence | None:
        evidence = Evidence()
        for verdict in judge_places(scope, rules):
            if not verdict.reason:
                evidence.captures.setdefault(capture, []).append(
                    (verdict.name, verdict.start, verdict.end)
                )
                evidence.hits.extend(verdict.triggers)
        return evidence if evidence.captures else None

    def passed_over(scope: Scope, limit: int | None = None) -> list[str]:
        if rules.triggers is not None and not occurrences_of(scope, rules.triggers):
            return [f"place: none of {_listed(rules.triggers)} occurs"]
        verdicts = [v for v in judge_places(scope, rules, every_sentence=True) if v.reason]
        if not verdicts:
            return ["place: no place of its gazetteers is written in the sentences read"]
        # candidates beside a trigger first, then by position
        ranked = sorted(verdicts, key=lambda v: ("no trigger" in v.reason, v.start))
        return [f"place {v.name}: {v.reason}" for v in ranked[:limit]]

    def why_not(scope: Scope) -> list[str]:
        return passed_over(scope, MAX_REASONS)

    def describe(doc: Document, evidence: Evidence) -> str:
        names = [name for values in evidence.captures.values() for name, _, _ in values]
        return "place " + ", ".join(dict.fromkeys(names))

    needs = needs_one_of(rules.triggers) if rules.triggers is not None else ALWAYS
    return Node(place_fn, needs, why_not, describe, passed_over)


def judge_places(
    scope: Scope, rules: PlaceRules, *, every_sentence: bool = False
) -> list[PlaceVerdict]:
    """Each place name in the sentences with a trigger (every sentence when `every_sentence`),
    with the triggers close to it or the reason it does not count."""
    doc = scope.doc
    if rules.triggers is None:
        return [
            PlaceVerdict(s, e, name, [])
            for s, e, name in rules.gazetteer.find(doc, 0, len(doc.tokens))
        ]
    occurrences = occurrences_of(scope, rules.triggers)
    ranges = by_range(doc, occurrences, rules.same_sentence)
    if every_sentence:
        covered = {doc.tokens[lo].sentence for lo, _, _ in ranges}
        ranges += [(lo, hi, []) for n, (lo, hi) in sentence_ranges(doc).items() if n not in covered]
    unless = occurrences_of(scope, rules.unless) if rules.unless else []
    actors = _actor_occurrences(scope, rules) if rules.actors else []
    verdicts: list[PlaceVerdict] = []
    negations = occurrences_of(scope, rules.negations) if rules.negations else []
    for lo, hi, spans in ranges:
        negated = [t for t in spans if _negated(t, negations)]
        if negated and len(negated) == len(spans):
            word = span_text(doc, negated[0][1], negated[0][2])
            for start, end, name in _candidates(doc, rules, lo, hi):
                verdicts.append(
                    PlaceVerdict(start, end, name, [], f"its trigger '{word}' is negated")
                )
            continue
        spans = [t for t in spans if t not in negated]
        veto = next((o for o in unless if lo <= o[1] < hi), None)
        actor = next((o for o in actors if lo <= o[1] < hi), None) if rules.actors else None
        accepted: list[PlaceVerdict] = []
        for start, end, name in _candidates(doc, rules, lo, hi):
            verdict = _judge_place(doc, rules, start, end, name, spans, veto, accepted)
            if not verdict.reason and rules.actors:
                if actor is None:
                    verdict = PlaceVerdict(
                        start, end, name, [], f"none of {_listed(rules.actors)} in its sentence"
                    )
                else:
                    verdict = PlaceVerdict(start, end, name, [*verdict.triggers, actor])
            if not verdict.reason:
                accepted.append(verdict)
            verdicts.append(verdict)
    return verdicts


def _judge_place(
    doc: Document,
    rules: PlaceRules,
    start: int,
    end: int,
    name: str,
    spans: list[Occurrence],
    veto: Occurrence | None,
    accepted: list[PlaceVerdict],
) -> PlaceVerdict:
    def no(reason: str) -> PlaceVerdict:
        return PlaceVerdict(start, end, name, [], reason)

    before = _word_before(doc, start)
    if before == "from":
        return no("follows 'from' (where a journey begins)")
    if _possessive(doc, end):
        return no("is a possessive ('s): where someone is from")
    if not spans:
        return no("no trigger of this rule in its sentence")
    if veto is not None:
        return no(f"'{span_text(doc, veto[1], veto[2])}' in its sentence (unless)")
    if rules.dateline:  # where the story was reported from: no distance to measure
        return PlaceVerdict(start, end, name, spans)
    if accepted and _continues_list(doc, accepted[-1].end, start):
        # "stops in Vietnam, Japan, the Philippines and Mongolia": the list goes on
        return PlaceVerdict(start, end, name, accepted[-1].triggers)
    # a journey's destination is the first place after its trigger: "on my way to Moscow,"
    # he told reporters in Geneva" goes to Moscow
    taken = accepted[-1].end if accepted else -1
    candidates = [t for t in spans if not rules.after or taken < t[2] <= start]
    if not candidates:
        return no(f"comes before its trigger '{span_text(doc, spans[0][1], spans[0][2])}'")
    close = [
        t
        for t in candidates
        if close_to(doc, (start, end), (t[1], t[2]), rules.within, rules.same_sentence)
    ]
    if not close:
        t = min(candidates, key=lambda t: gap(start, end, t[1], t[2]))
        distance = gap(start, end, t[1], t[2])
        return no(
            f"is {distance} words from '{span_text(doc, t[1], t[2])}' (within: {rules.within})"
        )
    if rules.prepositions is not None:
        # "visit Belgium": the place is the trigger's object (nothing but a space between)
        right_after = any(
            t[2] == _skip_article(doc, start)
            and doc.text[doc.tokens[t[2] - 1].end : doc.tokens[t[2]].start].isspace()
            for t in close
        )
        if not right_after and before not in rules.prepositions:
            return no(f"'{before or '(start)'}' before it is none of its prepositions")
    return PlaceVerdict(start, end, name, close)


def _candidates(doc: Document, rules: PlaceRules, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """The place names of sentence [lo, hi); with `dateline`, the dateline's place when the
    sentence names none of its own."""
    found = rules.gazetteer.find(doc, lo, hi)
    if not rules.dateline:
        return found
    key = ("dateline", id(rules.gazetteer))
    if key not in doc.memo:
        doc.memo[key] = dateline(doc, rules.gazetteer)
    where: tuple[int, int, str] | None = doc.memo[key]
    if where is None:
        return []
    # the dateline itself ("NAIROBI, Kenya") is no place the sentence names
    own = [f for f in found if not where[0] <= f[0] < where[1]]
    return [] if own else [where]


def _negated(trigger: Occurrence, negations: list[Occurrence]) -> bool:
    """A negation or hedge at most two words before the trigger: "would not travel",
    "might be in", "his potential visit"."""
    return any(0 <= trigger[1] - n[2] <= 2 for n in negations)


def _actor_occurrences(scope: Scope, rules: PlaceRules) -> list[Occurrence]:
    """The actor terms, and with `names` every later mention of the name written right after
    one ("Foreign Minister Wang Yi ... Wang Yi said", "Secretary of State John Kerry ... Kerry")."""
    doc = scope.doc
    found = occurrences_of(scope, rules.actors)
    if not rules.names:
        return found
    aliases: dict[str, str] = {}
    for source, _, end in found:
        alias = _name_after(doc, end)
        # a headline in title case ("Envoy Travels To Moscow") writes no name
        if alias is not None and (doc.tokens[alias].norm,) not in rules.gazetteer.names:
            aliases.setdefault(doc.tokens[alias].norm, source)
    mentions = [
        (source, i, i + 1)
        for alias, source in aliases.items()
        for i in doc.positions.get(alias, ())
        if doc.text[doc.tokens[i].start].isupper()
    ]
    return sorted(found + mentions, key=lambda o: o[1])


# lower-case particles inside personal names: "Staffan de Mistura", "Adel al-Jubeir"
_NAME_PARTICLES = frozenset("de da di du del della van von der den al el bin ibn la le".split())


def _name_after(doc: Document, end: int) -> int | None:
    """The token a person is later called by, when a capitalised name (up to four words, in
    the same sentence, not in a headline) is written right after token `end`: the surname
    ("John Kerry" -> Kerry), or the family name written first when the last is short
    ("Wang Yi" -> Wang)."""
    if end >= len(doc.tokens):
        return None
    sentence = doc.tokens[end - 1].sentence
    if doc.sentences[sentence].field == "title":
        return None
    words: list[int] = []
    i = end
    while i < min(end + 4, len(doc.tokens)) and doc.tokens[i].sentence == sentence:
        word = doc.original(i)
        if word[:1].isupper() and word.isalpha() and len(word) > 1:
            words.append(i)
        elif word not in _NAME_PARTICLES:
            break
        i += 1
    for candidate in reversed(words):
        if len(doc.tokens[candidate].norm) >= 3:
            return candidate
    return None


_ARTICLES = frozenset({"the"})
_LIST_JOINERS = frozenset({"and", "or", "the", "as", "well"})


def _skip_article(doc: Document, start: int) -> int:
    """Where a name starting at `start` begins with its article: "the Philippines"."""
    if start > 0 and doc.tokens[start - 1].norm in _ARTICLES:
        return start - 1
    return start


def _word_before(doc: Document, start: int) -> str:
    i = _skip_article(doc, start) - 1
    if i < 0 or doc.tokens[i].sentence != doc.tokens[start].sentence:
        return ""
    return doc.tokens[i].norm


def _continues_list(doc: Document, previous_end: int, start: int) -> bool:
    """Only commas, "and", "or", "the" or "as well as" between two places."""
    words = [t.norm for t in doc.tokens[previous_end:start]]
    between = doc.text[doc.tokens[previous_end - 1].end : doc.tokens[start].start]
    return (
        len(words) <= 3
        and all(w in _LIST_JOINERS for w in words)
        and ("," in between or bool(words))
    )


def _possessive(doc: Document, end: int) -> bool:
    if end >= len(doc.tokens) or doc.tokens[end].norm != "s":
        return False
    return doc.text[doc.tokens[end - 1].end : doc.tokens[end].start] in ("'", "’")


# -- shared helpers -------------------------------------------------------------------------


def needs_one_of(terms: list[Term]) -> Requirement:
    return Requirement.any_of(term.needs for term in terms)


def occurrences_of(scope: Scope, terms: list[Term]) -> list[Occurrence]:
    return sorted(
        ((term.source, s, e) for term in terms for s, e in scope.spans(term)), key=lambda o: o[1]
    )


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
