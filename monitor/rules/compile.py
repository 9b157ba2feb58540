"""Compiling validated rule specs into matcher closures, once per rule set.

Each term becomes an object that finds its token spans in a `Document`; each node becomes a
function from a `Scope` (one document plus a per-document cache of term spans) to `Evidence`
(or None when the node does not hold). Composing closures keeps evaluation a plain call tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import re2

from monitor.errors import Problem
from monitor.models import Article
from monitor.rules.figures import NumberSpan, figures_near
from monitor.rules.places import (
    BUILTIN_GAZETTEERS,
    Gazetteer,
    builtin_gazetteer,
    gazetteer_from,
)
from monitor.rules.prefilter import ALWAYS, Requirement
from monitor.rules.schema import (
    FigureSpec,
    NearSpec,
    NodeSpec,
    PlaceSpec,
    RuleSpec,
    TermSpec,
)
from monitor.rules.terms import RE2_OPTIONS, RegexTerm, Scope, Span, Term, WordsTerm
from monitor.rules.text import Document, tokenize, words_of
from monitor.timeutil import parse_duration
from monitor.yamlsrc import Locator


@dataclass
class Evidence:
    """Why a node holds: term hits, figures and captured names, all as token spans."""

    hits: list[tuple[str, int, int]] = field(default_factory=list)
    figures: list[NumberSpan] = field(default_factory=list)
    captures: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)

    def extend(self, other: Evidence) -> None:
        self.hits.extend(other.hits)
        self.figures.extend(other.figures)
        for name, values in other.captures.items():
            self.captures.setdefault(name, []).extend(values)


NodeFn = Callable[[Scope], Evidence | None]


@dataclass(frozen=True)
class Node:
    """A compiled node: how to evaluate it, and which words a matching document must contain."""

    fn: NodeFn
    needs: Requirement = ALWAYS


class Compiler:
    """Turns the specs of one rule file into closures, collecting located problems."""

    def __init__(
        self,
        lists: dict[str, list[str]],
        locator: Locator,
        problems: list[Problem],
        terms: dict[tuple[str, bool], Term] | None = None,
    ):
        self.lists = lists
        self.locator = locator
        self.problems = problems
        # one Term object per distinct term across the rule set, so rules that share a word
        # share its lookup in each document (Scope caches spans per Term)
        self.interned = {} if terms is None else terms

    def error(self, loc: tuple[str | int, ...], message: str) -> None:
        self.problems.append(self.locator.problem(loc, message))

    # -- terms ------------------------------------------------------------------------------

    def terms(self, items: list[str | TermSpec], loc: tuple[str | int, ...]) -> list[Term]:
        """Compile a list of terms, replacing each `$name` by the terms of list `name`."""
        return [
            term for index, item in enumerate(items) for term in self.expand(item, loc + (index,))
        ]

    def expand(self, item: str | TermSpec, loc: tuple[str | int, ...]) -> list[Term]:
        """One term, or the terms of the list it names (`$name`)."""
        text = item.term if isinstance(item, TermSpec) else item
        if not text.startswith("$"):
            term = self.term(item, loc)
            return [term] if term else []
        name = text[1:]
        if name in BUILTIN_GAZETTEERS:
            self.error(loc, f"'{text}' is a gazetteer: use it in place: {{in: [{text}]}}")
            return []
        if name not in self.lists:
            self.error(loc, f"unknown list '{text}' (define it under lists:)")
            return []
        return [term for sub in self.lists[name] if (term := self.term(sub, loc))]

    def term(self, item: str | TermSpec, loc: tuple[str | int, ...]) -> Term | None:
        text, case = (item.term, item.case) if isinstance(item, TermSpec) else (item, False)
        term = self.interned.get((text, case))
        if term is None:
            term = self._compile_term(text, case, loc)
            if term is not None:
                self.interned[(text, case)] = term
        return term

    def _compile_term(self, text: str, case: bool, loc: tuple[str | int, ...]) -> Term | None:
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            try:
                return RegexTerm(text, re2.compile(text[1:-1], RE2_OPTIONS))
            except re2.error as exc:
                detail = (
                    exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
                )
                self.error(loc, f"invalid regular expression {text} ({detail})")
                return None
        parts: list[tuple[str, str]] = []
        for word in text.split():
            if word == "*":
                parts.append(("any", ""))
                continue
            prefix = word.endswith("*")
            # hyphens and apostrophes split words, in rules as in text: cease-fire -> cease fire
            bare = word[:-1] if prefix else word
            pieces = words_of(bare) if case else tokenize(bare)
            if not pieces:
                self.error(loc, f"term '{text}' has no words in it")
                return None
            parts.extend(("word", p) for p in pieces[:-1])
            parts.append(("prefix" if prefix else "word", pieces[-1]))
        if not parts or all(kind == "any" for kind, _ in parts):
            self.error(loc, f"term '{text}' has no words in it")
            return None
        return WordsTerm(text, tuple(parts), case)

    # -- nodes ------------------------------------------------------------------------------

    def node(self, spec: NodeSpec, loc: tuple[str | int, ...]) -> Node:
        checks: list[Node] = []
        if spec.any is not None:
            checks.append(_any(self._children(spec.any, loc + ("any",))))
        if spec.all is not None:
            checks.append(_all(self._children(spec.all, loc + ("all",))))
        if spec.none is not None:
            checks.append(_none(self._children(spec.none, loc + ("none",))))
        if spec.near is not None:
            checks.append(self._near(spec.near, loc + ("near",)))
        if spec.figure is not None:
            checks.append(self._figure(spec.figure, loc + ("figure",)))
        if spec.place is not None:
            checks.append(self._place(spec.place, loc + ("place",)))
        return checks[0] if len(checks) == 1 else _all(checks)

    def _children(
        self, items: list[str | TermSpec | NodeSpec], loc: tuple[str | int, ...]
    ) -> list[Node]:
        children: list[Node] = []
        for index, item in enumerate(items):
            if isinstance(item, NodeSpec):
                children.append(self.node(item, loc + (index,)))
            else:
                children.extend(_term_node(t) for t in self.expand(item, loc + (index,)))
        return children

    def _near(self, spec: NearSpec, loc: tuple[str | int, ...]) -> Node:
        groups = [self.terms(group, loc + ("terms", i)) for i, group in enumerate(spec.terms)]
        within, same_sentence = spec.within, spec.same_sentence

        def near(scope: Scope) -> Evidence | None:
            occurrences = [_occurrences(scope, group) for group in groups]
            evidence = Evidence()
            for source, start, end in occurrences[0]:
                partners = []
                for other in occurrences[1:]:
                    close = [
                        o
                        for o in other
                        if _close(scope.doc, (start, end), (o[1], o[2]), within, same_sentence)
                    ]
                    if not close:
                        break
                    partners.extend(close)
                else:
                    evidence.hits.append((source, start, end))
                    evidence.hits.extend(partners)
            return evidence if evidence.hits else None

        needs = ALWAYS
        for group in groups:
            needs = needs & _needs_one_of(group)
        return Node(near, needs)

    def _figure(self, spec: FigureSpec, loc: tuple[str | int, ...]) -> Node:
        triggers = self.terms(spec.near, loc + ("near",))

        def figure(scope: Scope) -> Evidence | None:
            doc = scope.doc
            evidence = Evidence()
            for lo, hi, spans in _by_range(doc, _occurrences(scope, triggers), spec.same_sentence):
                tied = figures_near(
                    doc,
                    lo,
                    hi,
                    [(s, e) for _, s, e in spans],
                    spec.within,
                    spec.at_least,
                    spec.at_most,
                )
                for number, (t_start, t_end) in tied:
                    evidence.figures.append(number)
                    source = next(src for src, s, e in spans if (s, e) == (t_start, t_end))
                    evidence.hits.append((source, t_start, t_end))
                    if spec.as_ != "figures":
                        evidence.captures.setdefault(spec.as_, []).append(
                            (number.text, number.start, number.end)
                        )
            return evidence if evidence.figures else None

        return Node(figure, _needs_one_of(triggers))

    def _place(self, spec: PlaceSpec, loc: tuple[str | int, ...]) -> Node:
        gazetteer = self._gazetteer(spec.in_, loc + ("in",))
        triggers = self.terms(spec.near, loc + ("near",)) if spec.near is not None else None

        def place(scope: Scope) -> Evidence | None:
            doc = scope.doc
            evidence = Evidence()
            if triggers is None:
                for start, end, name in gazetteer.find(doc, 0, len(doc.tokens)):
                    evidence.captures.setdefault(spec.as_, []).append((name, start, end))
                return evidence if evidence.captures else None
            for lo, hi, spans in _by_range(doc, _occurrences(scope, triggers), spec.same_sentence):
                for start, end, name in gazetteer.find(doc, lo, hi):
                    if start > 0 and doc.tokens[start - 1].norm == "from":
                        continue  # "returned from Moscow" is not a destination
                    if _possessive(doc, end):
                        continue  # "Washington's envoy" comes from Washington
                    close = [
                        t
                        for t in spans
                        if _close(doc, (start, end), (t[1], t[2]), spec.within, spec.same_sentence)
                    ]
                    if close:
                        evidence.captures.setdefault(spec.as_, []).append((name, start, end))
                        evidence.hits.extend(close)
            return evidence if evidence.captures else None

        return Node(place, _needs_one_of(triggers) if triggers is not None else ALWAYS)

    def _gazetteer(self, items: list[str], loc: tuple[str | int, ...]) -> Gazetteer:
        gazetteer = Gazetteer()
        for index, item in enumerate(items):
            if item.startswith("$"):
                name = item[1:]
                if name in BUILTIN_GAZETTEERS:
                    gazetteer.merge(builtin_gazetteer(name))
                elif name in self.lists:
                    gazetteer.merge(gazetteer_from(self.lists[name]))
                else:
                    self.error(
                        loc + (index,),
                        f"unknown list '{item}' (define it under lists:, "
                        "or use $countries, $capitals, $cities)",
                    )
            else:
                gazetteer.add(item, item)
        return gazetteer


def _possessive(doc: Document, end: int) -> bool:
    if end >= len(doc.tokens) or doc.tokens[end].norm != "s":
        return False
    return doc.text[doc.tokens[end - 1].end : doc.tokens[end].start] in ("'", "’")


def _term_node(term: Term) -> Node:
    def term_node(scope: Scope) -> Evidence | None:
        spans = scope.spans(term)
        return Evidence(hits=[(term.source, s, e) for s, e in spans]) if spans else None

    return Node(term_node, term.needs)


def _needs_one_of(terms: list[Term]) -> Requirement:
    return Requirement.any_of(term.needs for term in terms)


def _any(children: list[Node]) -> Node:
    fns = [child.fn for child in children]

    def any_(scope: Scope) -> Evidence | None:
        evidence: Evidence | None = None
        for fn in fns:
            found = fn(scope)
            if found is not None:
                evidence = evidence or Evidence()
                evidence.extend(found)
        return evidence

    return Node(any_, Requirement.any_of(child.needs for child in children))


def _all(children: list[Node]) -> Node:
    fns = [child.fn for child in children]

    def all_(scope: Scope) -> Evidence | None:
        evidence = Evidence()
        for fn in fns:
            found = fn(scope)
            if found is None:
                return None
            evidence.extend(found)
        return evidence

    needs = ALWAYS
    for child in children:
        needs = needs & child.needs
    return Node(all_, needs)


def _none(children: list[Node]) -> Node:
    fns = [child.fn for child in children]

    def none_(scope: Scope) -> Evidence | None:
        return None if any(fn(scope) is not None for fn in fns) else Evidence()

    return Node(none_)  # what must be absent says nothing about what must be present


def _occurrences(scope: Scope, terms: list[Term]) -> list[tuple[str, int, int]]:
    return sorted(
        ((term.source, s, e) for term in terms for s, e in scope.spans(term)), key=lambda o: o[1]
    )


def _by_range(
    doc: Document, occurrences: list[tuple[str, int, int]], same_sentence: bool
) -> list[tuple[int, int, list[tuple[str, int, int]]]]:
    """Group trigger occurrences by sentence: (first token, end token, occurrences)."""
    if not occurrences:
        return []
    if not same_sentence:
        return [(0, len(doc.tokens), occurrences)]
    groups: dict[int, list[tuple[str, int, int]]] = {}
    for occurrence in occurrences:
        groups.setdefault(doc.tokens[occurrence[1]].sentence, []).append(occurrence)
    ranges = []
    for sentence, spans in groups.items():
        lo = hi = spans[0][1]
        while lo > 0 and doc.tokens[lo - 1].sentence == sentence:
            lo -= 1
        while hi < len(doc.tokens) and doc.tokens[hi].sentence == sentence:
            hi += 1
        ranges.append((lo, hi, spans))
    return ranges


def _close(doc: Document, a: Span, b: Span, within: int, same_sentence: bool) -> bool:
    """At most `within` words between spans a and b, in either order."""
    if same_sentence and doc.tokens[a[0]].sentence != doc.tokens[b[0]].sentence:
        return False
    gap = b[0] - a[1] if a[1] <= b[0] else a[0] - b[1]
    return gap <= within


@dataclass(frozen=True, eq=False)
class CompiledRule:
    spec: RuleSpec
    node: Node
    path: str
    # derived once: match_rule runs for every candidate of every article
    id: str = field(init=False)
    title: str = field(init=False)
    fields: tuple[str, ...] = field(init=False)
    guarded: bool = field(init=False)  # has source guards to check
    max_age: timedelta | None = field(init=False)

    def __post_init__(self) -> None:
        spec = self.spec
        object.__setattr__(self, "id", spec.id)
        object.__setattr__(self, "title", spec.display_title)
        object.__setattr__(self, "fields", tuple(spec.fields))
        object.__setattr__(self, "guarded", bool(spec.sources or spec.languages or spec.max_age))
        object.__setattr__(self, "max_age", parse_duration(spec.max_age) if spec.max_age else None)

    @property
    def evaluate(self) -> NodeFn:
        return self.node.fn

    def applies_to(self, article: Article, now: datetime) -> bool:
        """Source guards: feed tags, domains, language and article age."""
        spec = self.spec
        if spec.sources:
            if spec.sources.tags and not set(spec.sources.tags) & set(article.tags):
                return False
            host = (urlsplit(article.url).hostname or "").lower()
            if spec.sources.domains and not any(_on_domain(host, d) for d in spec.sources.domains):
                return False
            if any(_on_domain(host, d) for d in spec.sources.exclude_domains):
                return False
        if (
            spec.languages
            and article.language
            and article.language.split("-")[0] not in spec.languages
        ):
            return False
        return not (self.max_age and article.published and now - article.published > self.max_age)


def _on_domain(host: str, domain: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)
