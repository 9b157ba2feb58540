"""An edited rule, compiled, and the difference it would make before it is saved.

`compile_edit` compiles the playground's textarea (one rule, as a mapping) in place of the
rule it edits, with every other rule and the shared `lists:` of the rule files, so a
duplicate id or an unknown list shows up as it would on saving; problems in the textarea
read `line:col: message`. `difference` runs the rule as it is and as edited over its
examples, the latest stored articles and the configured corpus:

    +3 matches, -1, example 2 now fails, corpus F1 0.91 -> 0.95

Everything here is CPU-bound and blocks: callers run it in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from monitor.errors import CorpusError, Problem, RuleError
from monitor.evaluate import Finding, RuleScore, evaluate
from monitor.models import Article, Match
from monitor.rules.compile import CompiledRule
from monitor.rules.examples import ExampleResult, run_examples
from monitor.rules.lint import lint_rules
from monitor.rules.load import ParsedFile, compile_rule_files, validate_file
from monitor.rules.match import RuleSet, match_rule
from monitor.rules.terms import Scope
from monitor.store.articles import StoredArticle
from monitor.web.console.rulebook import CorpusScores, RuleBook, RuleEntry
from monitor.web.console.rulesource import normalised
from monitor.yamlsrc import Locator, load_yaml

# how problems and warnings name the playground's textarea
EDIT = "edit"
# how many of the latest stored articles an edit is tried on
STORED_ARTICLES = 1000
# ...for at most this long (a rule that reads every word of long reports is slow)
DIFF_SECONDS = 20.0
# the page lists this many of the articles an edit gains or loses
SHOWN_CHANGES = 20


@dataclass(frozen=True)
class Edit:
    rule: CompiledRule | None  # the edited rule, when it compiles
    rules: RuleSet | None  # every rule, with the edit in place of the rule it edits
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def shown(problem: Problem) -> str:
    """`line:col: message` for the textarea, `path:line:col: message` for a rule file."""
    if problem.path == EDIT:
        return f"{problem.line}:{problem.col}: {problem.message}"
    return str(problem)


def compile_edit(book: RuleBook, origin: RuleEntry | None, text: str) -> Edit:
    """The textarea's rule compiled in place of `origin` (in addition, when None)."""
    if book.rules is None:
        return Edit(None, None, ("the rule files do not load: fix them first", *book.problems))
    data, locator, problems = load_yaml(normalised(text), EDIT)
    if data is None and not problems:
        problems.append(Problem(EDIT, 1, 1, "the rule is empty: write its id, match and examples"))
    elif data is not None and not isinstance(data, dict):
        problems.append(Problem(EDIT, 1, 1, "a rule is one mapping: id:, match:, examples:, ..."))
    if problems:
        return Edit(None, None, tuple(shown(p) for p in problems))
    edited = validate_file(Path(EDIT), {"rules": [data]}, _under_rules(locator), problems)
    assert edited is not None  # a mapping under rules: always validates as a file
    files: list[ParsedFile] = []
    for file in book.parsed:
        if origin is not None and file.path == origin.path:
            file = replace(file, rules=tuple(r for r in file.rules if r.index != origin.index))
            files += [file, edited]
        else:
            files.append(file)
    if origin is None:
        files.append(edited)
    try:
        rules = compile_rule_files(files, problems)
    except RuleError as exc:
        return Edit(None, None, tuple(shown(p) for p in exc.problems))
    rule = next(r for r in rules.rules if r.path == EDIT)
    # lint reads rules that compile (a bad regular expression is a problem, not a warning)
    return Edit(rule, rules, (), tuple(shown(w) for w in lint_rules([edited])))


def _under_rules(locator: Locator) -> Locator:
    """The textarea's positions as those of rule 0 of a file (`rules: [the mapping]`)."""
    at = ("rules", 0)
    moved = Locator(
        EDIT,
        {at + k: v for k, v in locator.values.items()},
        {at + k: v for k, v in locator.keys.items()},
    )
    moved.values[()] = moved.values[("rules",)] = (1, 1)
    return moved


@dataclass(frozen=True)
class ExampleChange:
    number: int  # 1-based, in the edited rule
    text: str
    passed: bool
    was: bool | None  # None: a new example
    failures: tuple[str, ...]

    def __str__(self) -> str:
        state = "passes" if self.passed else "fails"
        if self.was is None:
            return f"example {self.number} (new) {state}"
        return f"example {self.number} now {state}"


@dataclass(frozen=True)
class ArticleChange:
    stored: StoredArticle
    match: Match  # as edited for a gained article, as it was for a lost one


@dataclass(frozen=True)
class CorpusChange:
    before: RuleScore | None
    after: RuleScore | None
    new_findings: tuple[Finding, ...] = ()  # wrong after the edit, right before
    fixed: tuple[Finding, ...] = ()  # wrong before, right after
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"corpus: {self.error}"
        if self.after is None:
            return "corpus: no labels for the edited rule's id"
        after = f"{self.after.f1:.2f}"
        if self.before is None:
            return f"corpus F1 {after}"
        before = f"{self.before.f1:.2f}"
        return f"corpus F1 {before} -> {after}" if before != after else f"corpus F1 {after} (same)"


@dataclass(frozen=True)
class Difference:
    examples: tuple[ExampleResult, ...]  # the edited rule's
    example_changes: tuple[ExampleChange, ...]
    examples_removed: int
    checked: int  # stored articles the edit was tried on
    available: int  # ...of those there are
    gained: tuple[ArticleChange, ...]
    lost: tuple[ArticleChange, ...]
    changed: int  # matched before and after, with other figures or captures
    corpus: CorpusChange | None = None
    parts: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        parts = [f"+{len(self.gained)} matches", f"-{len(self.lost)}"]
        if self.changed:
            parts.append(f"{self.changed} changed")
        parts += [str(c) for c in self.example_changes]
        if self.examples_removed:
            parts.append(f"{self.examples_removed} examples removed")
        if self.corpus is not None:
            parts.append(str(self.corpus))
        object.__setattr__(self, "parts", tuple(parts))

    @property
    def summary(self) -> str:
        return ", ".join(self.parts)


def difference(
    old: CompiledRule | None,
    new: CompiledRule,
    stored: list[StoredArticle],
    *,
    tags_of: Callable[[str | None], tuple[str, ...]] = lambda _feed: (),
    corpus: Path | None = None,
    scores: CorpusScores | None = None,
    seconds: float = DIFF_SECONDS,
) -> Difference:
    """What `new` changes from `old` (None: a new rule) on its examples, on `stored` (the
    latest articles, their feeds' tags from `tags_of`) and on `corpus`; `scores` are the
    corpus scores of the current rules, when known (saves scoring `old` again)."""
    after = run_examples(RuleSet((new,)))
    before = run_examples(RuleSet((old,))) if old is not None else []
    was = {r.text: r.passed for r in before}
    changes = tuple(
        ExampleChange(r.index + 1, r.text, r.passed, was.get(r.text), r.failures)
        for r in after
        if r.text not in was or was[r.text] != r.passed
    )
    removed = len({r.text for r in before} - {r.text for r in after})
    gained, lost, changed, checked = _stored(old, new, stored, tags_of, seconds)
    return Difference(
        tuple(after),
        changes,
        removed,
        checked,
        len(stored),
        tuple(gained),
        tuple(lost),
        changed,
        _corpus(old, new, corpus, scores) if corpus is not None else None,
    )


def _stored(
    old: CompiledRule | None,
    new: CompiledRule,
    stored: list[StoredArticle],
    tags_of: Callable[[str | None], tuple[str, ...]],
    seconds: float,
) -> tuple[list[ArticleChange], list[ArticleChange], int, int]:
    gained: list[ArticleChange] = []
    lost: list[ArticleChange] = []
    changed = checked = 0
    deadline = time.monotonic() + seconds
    for item in stored:
        if time.monotonic() > deadline:
            break
        checked += 1
        article = replace(item.article, tags=tags_of(item.article.feed_url))
        scopes: dict[tuple[str, ...], Scope] = {}  # shared: the text is tokenised once
        was = _fires(old, article, item, scopes) if old is not None else None
        now = _fires(new, article, item, scopes)
        if now is not None and was is None:
            gained.append(ArticleChange(item, now))
        elif was is not None and now is None:
            lost.append(ArticleChange(item, was))
        elif was is not None and now is not None and _details(was) != _details(now):
            changed += 1
    return gained, lost, changed, checked


def _fires(
    rule: CompiledRule, article: Article, item: StoredArticle, scopes: dict[tuple[str, ...], Scope]
) -> Match | None:
    # the source guards as the worker applied them: when it stored the article
    if rule.guarded and not rule.applies_to(article, item.created_at):
        return None
    return match_rule(rule, article, scopes)


def _details(match: Match) -> tuple[object, ...]:
    return tuple(sorted(f.value for f in match.figures)), sorted(match.captures.items())


def _corpus(
    old: CompiledRule | None, new: CompiledRule, corpus: Path, scores: CorpusScores | None
) -> CorpusChange:
    try:
        after = evaluate(corpus, RuleSet((new,))).scores.get(new.id)
        if old is None:
            before = None
        elif scores is not None and scores.report is not None:
            before = scores.report.scores.get(old.id)
        else:
            before = evaluate(corpus, RuleSet((old,))).scores.get(old.id)
    except CorpusError as exc:
        return CorpusChange(None, None, error="; ".join(str(p) for p in exc.problems[:3]))
    if before is None or after is None:
        return CorpusChange(before, after)
    was = {_key(f) for f in before.findings}
    now = {_key(f) for f in after.findings}
    return CorpusChange(
        before,
        after,
        tuple(f for f in after.findings if _key(f) not in was),
        tuple(f for f in before.findings if _key(f) not in now),
    )


def _key(finding: Finding) -> tuple[str, str, str]:
    return finding.file, finding.kind, finding.detail
