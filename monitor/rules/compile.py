"""Compiling validated rule specs into matcher closures, once per rule set.

Each term becomes an object that finds its token spans in a `Document`; each node becomes a
`Node` (`monitor.rules.nodes`): a function from a `Scope` (one document plus a per-document
cache of term spans) to `Evidence`, or None when the node does not hold, with its explanation.
Composing closures keeps evaluation a plain call tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import re2

from monitor.errors import Problem
from monitor.models import Article
from monitor.rules.nodes import (
    Node,
    NodeFn,
    all_node,
    any_node,
    figure_node,
    near_node,
    none_node,
    term_node,
)
from monitor.rules.place_nodes import PlaceRules, place_node
from monitor.rules.places import (
    BUILTIN_GAZETTEERS,
    Gazetteer,
    builtin_gazetteer,
    gazetteer_from,
)
from monitor.rules.schema import (
    FigureSpec,
    NearSpec,
    NodeSpec,
    PlaceSpec,
    RuleSpec,
    TermSpec,
)
from monitor.rules.terms import RE2_OPTIONS, RegexTerm, Term, WordsTerm
from monitor.rules.text import tokenize, words_of
from monitor.timeutil import parse_duration
from monitor.yamlsrc import Locator


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
            forms = word.startswith("~")
            # hyphens and apostrophes split words, in rules as in text: cease-fire -> cease fire
            bare = word[1 if forms else 0 : -1 if prefix else None]
            pieces = words_of(bare) if case else tokenize(bare)
            if not pieces:
                self.error(loc, f"term '{text}' has no words in it")
                return None
            if forms and (prefix or len(pieces) > 1 or case):
                self.error(loc, f"'{word}' in term '{text}': ~ takes one plain word (~flee)")
                return None
            last = "forms" if forms else "prefix" if prefix else "word"
            parts.extend(("word", p) for p in pieces[:-1])
            parts.append((last, pieces[-1]))
        if not parts or all(kind == "any" for kind, _ in parts):
            self.error(loc, f"term '{text}' has no words in it")
            return None
        return WordsTerm(text, tuple(parts), case)

    # -- nodes ------------------------------------------------------------------------------

    def node(self, spec: NodeSpec, loc: tuple[str | int, ...]) -> Node:
        checks: list[Node] = []
        if spec.any is not None:
            checks.append(any_node(*self._children(spec.any, loc + ("any",))))
        if spec.all is not None:
            checks.append(all_node(self._children(spec.all, loc + ("all",))[0]))
        if spec.none is not None:
            checks.append(none_node(self._children(spec.none, loc + ("none",))[0]))
        if spec.near is not None:
            checks.append(self._near(spec.near, loc + ("near",)))
        if spec.figure is not None:
            checks.append(self._figure(spec.figure, loc + ("figure",)))
        if spec.place is not None:
            checks.append(self._place(spec.place, loc + ("place",)))
        return checks[0] if len(checks) == 1 else all_node(checks)

    def _children(
        self, items: list[str | TermSpec | NodeSpec], loc: tuple[str | int, ...]
    ) -> tuple[list[Node], list[Term]]:
        """The nodes of a list of items (plain terms first), and those plain terms."""
        nested: list[Node] = []
        terms: list[Term] = []
        for index, item in enumerate(items):
            if isinstance(item, NodeSpec):
                nested.append(self.node(item, loc + (index,)))
            else:
                terms.extend(self.expand(item, loc + (index,)))
        return [term_node(t) for t in terms] + nested, terms

    def _near(self, spec: NearSpec, loc: tuple[str | int, ...]) -> Node:
        groups = [self.terms(group, loc + ("terms", i)) for i, group in enumerate(spec.terms)]
        return near_node(groups, spec.within, spec.same_sentence)

    def _figure(self, spec: FigureSpec, loc: tuple[str | int, ...]) -> Node:
        triggers = self.terms(spec.near, loc + ("near",))
        return figure_node(
            triggers,
            spec.within,
            spec.at_least,
            spec.at_most,
            spec.as_,
            spec.same_sentence,
            self.terms(spec.unless, loc + ("unless",)),
            self._gazetteer(spec.where, loc + ("where",)) if spec.where else None,
        )

    def _place(self, spec: PlaceSpec, loc: tuple[str | int, ...]) -> Node:
        rules = PlaceRules(
            gazetteer=self._gazetteer(spec.in_, loc + ("in",)),
            triggers=self.terms(spec.near, loc + ("near",)) if spec.near is not None else None,
            within=spec.within,
            same_sentence=spec.same_sentence,
            after=spec.after,
            prepositions=(
                self._words(spec.prepositions, loc + ("prepositions",))
                if spec.prepositions is not None
                else None
            ),
            unless=self.terms(spec.unless, loc + ("unless",)),
            negations=self.terms(spec.negations, loc + ("negations",)),
            actors=self.terms(spec.with_, loc + ("with",)),
            names=spec.names,
            dateline=spec.dateline,
        )
        if spec.names and not spec.with_:
            self.error(loc + ("names",), "names: true needs with: (the terms a name follows)")
        return place_node(rules, spec.as_)

    def _words(self, items: list[str], loc: tuple[str | int, ...]) -> frozenset[str]:
        """Plain words, each `$name` replaced by the words of list `name`."""
        words: list[str] = []
        for index, item in enumerate(items):
            if item.startswith("$") and item[1:] not in self.lists:
                self.error(loc + (index,), f"unknown list '{item}' (define it under lists:)")
                continue
            words.extend(self.lists[item[1:]] if item.startswith("$") else [item])
        return frozenset(tokenize(" ".join(words)))

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
        return not self.guard_failures(article, now)

    def guard_failures(self, article: Article, now: datetime) -> list[str]:
        """The source guards that rule `article` out, in words (empty when none does)."""
        spec = self.spec
        failures: list[str] = []
        if spec.sources:
            wanted_tags = spec.sources.tags
            if wanted_tags and not set(wanted_tags) & set(article.tags):
                failures.append(
                    f"guard sources.tags: the feed's tags ({', '.join(article.tags) or 'none'}) "
                    f"include none of {', '.join(wanted_tags)}"
                )
            host = (urlsplit(article.url).hostname or "").lower()
            domains = spec.sources.domains
            if domains and not any(_on_domain(host, d) for d in domains):
                failures.append(
                    f"guard sources.domains: {host or 'no host'} is not on {', '.join(domains)}"
                )
            excluded = [d for d in spec.sources.exclude_domains if _on_domain(host, d)]
            if excluded:
                failures.append(f"guard sources.exclude_domains: {host} is on {excluded[0]}")
        language = (article.language or "").split("-")[0]
        if spec.languages and language and language not in spec.languages:
            failures.append(
                f"guard languages: the article is in '{language}', not {', '.join(spec.languages)}"
            )
        if self.max_age and article.published and now - article.published > self.max_age:
            age = _age((now - article.published).total_seconds())
            failures.append(f"guard max_age: article is {age} old (max_age: {spec.max_age})")
        return failures


def _age(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit if count != 1 else unit[:-1]}"
    return f"{int(seconds)} seconds"


def _on_domain(host: str, domain: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)
