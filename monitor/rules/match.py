"""Matching articles against a compiled rule set: pure, no I/O.

`match_article(article, rules)` returns one `Match` per rule that holds, each explaining itself:
the figures (deduplicated by value, first wording kept), the captures (canonical names in order
of appearance), the sentences that matched (`snippets`) and the terms that hit, with spans
relative to their snippet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import Article, Figure, Hit, Match
from monitor.rules.compile import CompiledRule, Evidence
from monitor.rules.figures import to_figure
from monitor.rules.prefilter import Prefilter
from monitor.rules.terms import Scope
from monitor.rules.text import Document
from monitor.timeutil import utcnow

# A digest shows the sentences that explain a match; more than this is noise.
MAX_SNIPPETS = 3


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules, ready to match; immutable so a hot reload can swap it atomically."""

    rules: tuple[CompiledRule, ...]
    prefilter: Prefilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefilter", Prefilter([rule.node.needs for rule in self.rules]))

    def get(self, rule_id: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


ALL_FIELDS = ("title", "summary", "text")


def article_parts(article: Article, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    values = {"title": article.title, "summary": article.summary, "text": article.text}
    return [(name, values[name]) for name in fields]


def match_article(article: Article, rules: RuleSet, *, now: datetime | None = None) -> list[Match]:
    """Every rule of `rules` that `article` satisfies, with its explanation."""
    now = now or utcnow()
    # the prefilter reads every field, so it over-approximates for rules that read fewer
    every_field = Scope(Document(article_parts(article, ALL_FIELDS)))
    scopes: dict[tuple[str, ...], Scope] = {ALL_FIELDS: every_field}
    matches: list[Match] = []
    for index in rules.prefilter.candidates(every_field.doc.positions):
        rule = rules.rules[index]
        if not rule.guarded or rule.applies_to(article, now):
            match = match_rule(rule, article, scopes)
            if match is not None:
                matches.append(match)
    return matches


def match_rule(
    rule: CompiledRule, article: Article, scopes: dict[tuple[str, ...], Scope] | None = None
) -> Match | None:
    """`rule` on `article`, ignoring source guards; `scopes` shares tokenising between rules."""
    scopes = {} if scopes is None else scopes
    fields = rule.fields
    scope = scopes.get(fields)
    if scope is None:
        scope = scopes[fields] = Scope(Document(article_parts(article, fields)))
    evidence = rule.evaluate(scope)
    return None if evidence is None else explain(rule, scope.doc, evidence)


def explain(rule: CompiledRule, doc: Document, evidence: Evidence) -> Match:
    """Turn token-level evidence into a `Match` a person can read."""
    figures = _figures(evidence)
    captures = {
        name: tuple(dict.fromkeys(value for value, _, _ in sorted(values, key=lambda v: v[1])))
        for name, values in evidence.captures.items()
    }
    # Sentences that carry figures or captures explain best; then those with term hits.
    strong = {doc.tokens[n.start].sentence for n in evidence.figures}
    strong |= {
        doc.tokens[s].sentence for values in evidence.captures.values() for _, s, _ in values
    }
    weak = {doc.tokens[s].sentence for _, s, _ in evidence.hits} - strong
    chosen: list[int] = []
    seen_texts: set[str] = set()
    for sentence in sorted(strong) + sorted(weak):
        text = doc.sentence_text(sentence)
        if text not in seen_texts:
            seen_texts.add(text)
            chosen.append(sentence)
            if len(chosen) == MAX_SNIPPETS:
                break
    chosen.sort()
    snippet_of = {sentence: i for i, sentence in enumerate(chosen)}
    shown = {h for h in evidence.hits if doc.tokens[h[1]].sentence in snippet_of}
    hits: list[Hit] = []
    for term, start, end in sorted(shown, key=lambda h: (h[1], h[2], h[0])):
        sentence = doc.tokens[start].sentence
        base = doc.sentences[sentence].start
        first, last = doc.tokens[start], doc.tokens[end - 1]
        hits.append(
            Hit(
                term,
                doc.text[first.start : last.end],
                snippet_of[sentence],
                first.start - base,
                last.end - base,
            )
        )
    return Match(
        rule=rule.id,
        title=rule.title,
        severity=rule.spec.severity,
        figures=figures,
        captures=captures,
        snippets=tuple(doc.sentence_text(s) for s in chosen),
        hits=tuple(hits),
    )


def _figures(evidence: Evidence) -> tuple[Figure, ...]:
    by_value: dict[int, Figure] = {}
    for number in sorted(evidence.figures, key=lambda n: n.start):
        by_value.setdefault(number.value, to_figure(number))
    return tuple(by_value.values())
