"""Matching articles against a compiled rule set: pure, no I/O.

`match_article(article, rules)` returns one `Match` per rule that holds, each explaining itself:
the figures (deduplicated by value, first wording kept), the captures (canonical names in order
of appearance), the sentences that matched (`snippets`) and the terms that hit, with spans
relative to their snippet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from monitor.extract.boilerplate import strip_boilerplate
from monitor.models import Article, Figure, Hit, Match
from monitor.rules.compile import CompiledRule
from monitor.rules.figures import to_figures
from monitor.rules.nodes import Evidence
from monitor.rules.prefilter import Prefilter
from monitor.rules.summary import fill_summary
from monitor.rules.terms import Scope
from monitor.rules.text import Document
from monitor.timeutil import utcnow

# Rules read this much of each field: a long report is some 50,000 characters, and matching
# costs about a second per 400,000 (a book pasted into a feed is read up to here).
MAX_FIELD_CHARS = 500_000
# A digest shows the sentences that explain a match; more than this is noise.
MAX_SNIPPETS = 3
# ...and at most this much of each.
MAX_SNIPPET_CHARS = 500


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules, ready to match; immutable so a hot reload can swap it atomically."""

    rules: tuple[CompiledRule, ...]
    prefilter: Prefilter = field(init=False, repr=False, compare=False)
    by_id: dict[str, CompiledRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefilter", Prefilter([rule.node.needs for rule in self.rules]))
        object.__setattr__(self, "by_id", {rule.id: rule for rule in self.rules})

    def get(self, rule_id: str) -> CompiledRule | None:
        return self.by_id.get(rule_id)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rules]


ALL_FIELDS = ("title", "summary", "text")


def article_parts(article: Article, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    """The fields rules read; link boxes and link lists are not the article's own words."""
    values = {
        "title": article.title[:MAX_FIELD_CHARS],
        "summary": strip_boilerplate(article.summary[:MAX_FIELD_CHARS]),
        "text": strip_boilerplate(article.text[:MAX_FIELD_CHARS]),
    }
    return [(name, values[name]) for name in fields]


class OutOfTime(Exception):
    """Matching ran past its deadline: `matches` were found, the rules in `unchecked` not run."""

    def __init__(self, matches: list[Match], unchecked: list[str]) -> None:
        super().__init__(f"{len(unchecked)} rules not checked: {', '.join(unchecked[:10])}")
        self.matches = matches
        self.unchecked = unchecked


def match_article(
    article: Article,
    rules: RuleSet,
    *,
    now: datetime | None = None,
    deadline: float | None = None,
) -> list[Match]:
    """Every rule of `rules` that `article` satisfies, with its explanation. Past `deadline`
    (a `time.monotonic()` value), the rules not yet run are left: `OutOfTime` says which."""
    now = now or utcnow()
    # the prefilter reads every field, so it over-approximates for rules that read fewer
    every_field = Scope(Document(article_parts(article, ALL_FIELDS)))
    scopes: dict[tuple[str, ...], Scope] = {ALL_FIELDS: every_field}
    matches: list[Match] = []
    candidates = rules.prefilter.candidates(every_field.doc.positions)
    for done, index in enumerate(candidates):
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime(matches, [rules.rules[i].id for i in candidates[done:]])
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
    scope = scope_for(rule, article, {} if scopes is None else scopes)
    evidence = rule.evaluate(scope)
    return None if evidence is None else explain(rule, scope.doc, evidence)


def scope_for(rule: CompiledRule, article: Article, scopes: dict[tuple[str, ...], Scope]) -> Scope:
    """The document of the fields `rule` reads, tokenised once per set of fields."""
    scope = scopes.get(rule.fields)
    if scope is None:
        scope = scopes[rule.fields] = Scope(Document(article_parts(article, rule.fields)))
    return scope


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
    shown = sorted(
        {h for h in evidence.hits if doc.tokens[h[1]].sentence in snippet_of},
        key=lambda h: (h[1], h[2], h[0]),
    )
    # char spans of the hits, relative to their sentence
    spans = [
        (term, doc.tokens[start].sentence, doc.tokens[start].start, doc.tokens[end - 1].end)
        for term, start, end in shown
    ]
    snippets: list[str] = []
    shifts: dict[int, tuple[int, int, int]] = {}  # sentence -> (window start, end, prefix length)
    for sentence in chosen:
        base = doc.sentences[sentence].start
        text = doc.sentence_text(sentence)
        first = min((a - base for _, s, a, _ in spans if s == sentence), default=0)
        window_start, window_end, snippet = _window(text, first)
        snippets.append(snippet)
        shifts[sentence] = (base + window_start, base + window_end, 1 if window_start else 0)
    hits: list[Hit] = []
    for term, sentence, start, end in spans:
        window_start, window_end, prefix = shifts[sentence]
        if start >= window_start and end <= window_end:
            offset = window_start - prefix
            hits.append(
                Hit(term, doc.text[start:end], snippet_of[sentence], start - offset, end - offset)
            )
    return Match(
        rule=rule.id,
        title=rule.title,
        severity=rule.spec.severity,
        figures=figures,
        captures=captures,
        snippets=tuple(snippets),
        hits=tuple(hits),
        summary=fill_summary(rule.spec.summary, figures, captures) if rule.spec.summary else "",
    )


def _window(text: str, first_hit: int) -> tuple[int, int, str]:
    """A sentence as a snippet: whole when short, else MAX_SNIPPET_CHARS around its first hit,
    with an ellipsis where it was cut (a page without full stops is one endless "sentence")."""
    if len(text) <= MAX_SNIPPET_CHARS:
        return 0, len(text), text
    start = max(0, min(first_hit - MAX_SNIPPET_CHARS // 3, len(text) - MAX_SNIPPET_CHARS))
    end = start + MAX_SNIPPET_CHARS
    snippet = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return start, end, snippet


def _figures(evidence: Evidence) -> tuple[Figure, ...]:
    by_value: dict[int, Figure] = {}
    for number in sorted(evidence.figures, key=lambda n: n.start):
        for figure in to_figures(number):
            by_value.setdefault(figure.value, figure)
    return tuple(by_value.values())
