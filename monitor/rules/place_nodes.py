"""The `place:` node: place names from the gazetteers, and which of them count.

A name counts when it is written after a trigger within `within` words (or anywhere, without
`near`), and, as options say, after one of the `prepositions`, in a sentence with one of the
`with` terms (or a name that stands for one), with no `unless` term, with a trigger that no
negation comes right before; or as the dateline's place. `judge_places` gives every name its
verdict, so a match and its explanation never disagree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from monitor.rules.nodes import (
    MAX_REASONS,
    Evidence,
    Node,
    Occurrence,
    by_range,
    close_to,
    first_in,
    gap,
    listed,
    needs_one_of,
    occurrences_of,
    sentence_ranges,
    skip_article,
    span_text,
    word_before,
)
from monitor.rules.places import Gazetteer, dateline
from monitor.rules.prefilter import ALWAYS
from monitor.rules.terms import Scope, Term
from monitor.rules.text import Document


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
            return [f"place: none of {listed(rules.triggers)} occurs"]
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
        negated = {t for t in spans if _negated(t, negations)}
        if negated and len(negated) == len(spans):
            _, first_start, first_end = min(negated, key=lambda t: t[1])
            word = span_text(doc, first_start, first_end)
            for start, end, name in _candidates(doc, rules, lo, hi):
                verdicts.append(
                    PlaceVerdict(start, end, name, [], f"its trigger '{word}' is negated")
                )
            continue
        spans = [t for t in spans if t not in negated]
        veto = first_in(unless, lo, hi)
        actor = first_in(actors, lo, hi)
        accepted: list[PlaceVerdict] = []
        for start, end, name in _candidates(doc, rules, lo, hi):
            verdict = _judge_place(doc, rules, start, end, name, spans, veto, accepted)
            if not verdict.reason and rules.actors:
                if actor is None:
                    verdict = PlaceVerdict(
                        start, end, name, [], f"none of {listed(rules.actors)} in its sentence"
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

    before = word_before(doc, start)
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
    # the triggers are in text order: only those near the place can be close to it (and the
    # nearest one either side says how far the others are)
    first = bisect_left(spans, start - rules.within - _LONGEST_TRIGGER, key=lambda t: t[1])
    last = bisect_right(spans, end + rules.within, key=lambda t: t[1])
    nearby = spans[max(0, first - 1) : last + 1]
    candidates = [t for t in nearby if not rules.after or taken < t[2] <= start]
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
            t[2] == skip_article(doc, start)
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
    # negations are in text order: only those starting a few words before can end there
    k = bisect_left(negations, trigger[1] - _NEGATION_WORDS, key=lambda n: n[1])
    while k < len(negations) and negations[k][1] <= trigger[1]:
        if 0 <= trigger[1] - negations[k][2] <= 2:
            return True
        k += 1
    return False


# the longest trigger phrase, in words
_LONGEST_TRIGGER = 10
# the longest negation or hedge the rules write, in words, and then some
_NEGATION_WORDS = 8


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


_LIST_JOINERS = frozenset({"and", "or", "the", "as", "well"})


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
