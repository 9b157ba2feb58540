"""`monitor rules eval`: scoring rules on a labelled corpus of real documents.

A corpus is a folder with `labels.jsonl`: one JSON object per line, `{"file": "docs/1.html",
"expect": {RULE: {"match": bool, "figures": [...], "captures": {NAME: [...]}}}}` (other keys,
such as `title` and `notes`, are for people). `expect` means what a rule example's `expect`
means; a rule a document's `expect` does not name is not scored on it. Files are read as
`monitor replay` reads them: a page is extracted, a text taken as it is, and a feed counts as
the union of its items, each matched on its own title and description.

Per rule, over the documents that name it: precision, recall and F1 of matching; figure recall
(labelled figures found / labelled figures) and precision (reported exact figures that are
labelled / reported exact figures; figures flagged approximate count in neither); the same for
each capture, compared case-insensitively. Every miss and false alarm comes with its
explanation (`monitor.rules.explain`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from monitor.errors import CorpusError, Problem
from monitor.models import Article, Match
from monitor.replay import read_documents
from monitor.rules.explain import Explanation, explain_article, passed_over
from monitor.rules.match import RuleSet, match_article
from monitor.rules.schema import Expectation
from monitor.yamlsrc import StrictModel

LABELS = "labels.jsonl"


class LabelledFile(StrictModel):
    file: str = Field(min_length=1)
    expect: dict[str, Expectation]
    kind: str | None = None
    title: str | None = None
    source: str | None = None
    notes: str | None = None
    vague_figures: list[str] = []


def read_labels(corpus: Path) -> list[LabelledFile]:
    """The labels of `corpus` (a folder holding labels.jsonl, or the file itself)."""
    path = corpus / LABELS if corpus.is_dir() else corpus
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError([Problem(str(path), 1, 1, f"cannot read labels ({exc})")]) from None
    labelled: list[LabelledFile] = []
    problems: list[Problem] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            labelled.append(LabelledFile.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), number, exc.colno, f"invalid JSON: {exc.msg}"))
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"])
                problems.append(Problem(str(path), number, 1, f"{where}: {error['msg']}"))
    if problems:
        raise CorpusError(problems)
    return labelled


@dataclass
class Counts:
    """Found/labelled tallies for one kind of value (figures, or one capture)."""

    labelled: int = 0
    found_labelled: int = 0  # labelled values the rule reported
    reported: int = 0
    reported_labelled: int = 0  # reported values that are labelled

    @property
    def recall(self) -> float | None:
        return self.found_labelled / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        return self.reported_labelled / self.reported if self.reported else None

    def add(self, labelled: set[Any], reported: set[Any]) -> None:
        self.labelled += len(labelled)
        self.found_labelled += len(labelled & reported)
        self.reported += len(reported)
        self.reported_labelled += len(reported & labelled)


@dataclass
class Finding:
    """One thing the rule got wrong on one document, with why."""

    file: str
    kind: str  # miss | false-alarm | missed-value | wrong-value
    detail: str
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "detail": self.detail,
            "reasons": self.reasons,
        }


@dataclass
class RuleScore:
    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    figures: Counts = field(default_factory=Counts)
    captures: dict[str, Counts] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float:
        """F1 of matching; 1.0 when there was nothing to find and nothing was found."""
        p, r = self.precision, self.recall
        if self.tp == 0:
            return 1.0 if self.fp == 0 and self.fn == 0 else 0.0
        assert p is not None and r is not None
        return 2 * p * r / (p + r)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "documents": self.tp + self.fp + self.fn + self.tn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _rounded(self.precision),
            "recall": _rounded(self.recall),
            "f1": _rounded(self.f1),
            "figures": _counts_json(self.figures),
            "captures": {name: _counts_json(c) for name, c in self.captures.items()},
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class EvalReport:
    scores: dict[str, RuleScore]
    errors: list[str]  # documents that could not be read
    unknown_rules: list[str]  # labelled rules that the rule set does not have

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [s.to_json() for s in self.scores.values()],
            "errors": self.errors,
            "unknown_rules": self.unknown_rules,
        }


def evaluate(corpus: Path, rules: RuleSet) -> EvalReport:
    """Score every rule of `rules` named in the corpus labels."""
    labelled = read_labels(corpus)
    root = corpus if corpus.is_dir() else corpus.parent
    scores: dict[str, RuleScore] = {}
    errors: list[str] = []
    unknown: set[str] = set()
    for item in labelled:
        articles: list[Article] = []
        for article, error in read_documents(root / item.file):
            if error:
                errors.append(f"{item.file}: {error}")
            if article is not None:
                articles.append(article)
        if not articles:
            continue
        matches = [match_article(a, rules, now=a.published) for a in articles]
        for rule_id, expect in item.expect.items():
            if rule_id not in rules.by_id:
                unknown.add(rule_id)
                continue
            score = scores.setdefault(rule_id, RuleScore(rule_id))
            found = [m for per_article in matches for m in per_article if m.rule == rule_id]
            _score(score, item.file, expect, found, articles, rules)
    return EvalReport(scores, errors, sorted(unknown))


def _score(
    score: RuleScore,
    file: str,
    expect: Expectation,
    found: list[Match],
    articles: list[Article],
    rules: RuleSet,
) -> None:
    matched = bool(found)
    if matched and expect.match:
        score.tp += 1
    elif matched:
        score.fp += 1
        score.findings.append(
            Finding(file, "false-alarm", "matched, labelled no match", _why(found))
        )
    elif expect.match:
        score.fn += 1
        score.findings.append(
            Finding(
                file, "miss", "no match, labelled a match", _why_not(score.rule, articles, rules)
            )
        )
    else:
        score.tn += 1
    if expect.figures is not None:
        labelled = set(expect.figures)
        reported = {f.value for m in found for f in m.figures if not f.approximate}
        score.figures.add(labelled, reported)
        _value_findings(score, file, "figure", labelled, reported, found, articles, rules)
    for name, values in (expect.captures or {}).items():
        labelled_names = {v.casefold() for v in values}
        reported_names = {v.casefold() for m in found for v in m.captures.get(name, ())}
        score.captures.setdefault(name, Counts()).add(labelled_names, reported_names)
        _value_findings(score, file, name, labelled_names, reported_names, found, articles, rules)


def _value_findings(
    score: RuleScore,
    file: str,
    what: str,
    labelled: set[Any],
    reported: set[Any],
    found: list[Match],
    articles: list[Article],
    rules: RuleSet,
) -> None:
    """A finding per labelled value not reported and per reported value not labelled (only
    where the document matched: a whole miss is one finding already)."""
    if not found:
        return
    missing = sorted(labelled - reported, key=str)
    if missing:
        rule = rules.by_id[score.rule]
        reasons = [r for a in articles for r in passed_over(a, rule)]
        for value in missing:
            about = list(dict.fromkeys(r for r in reasons if _mentions(r, value)))
            score.findings.append(
                Finding(file, "missed-value", f"{what} {_shown(value)} labelled, not found", about)
            )
    for value in sorted(reported - labelled, key=str):
        where = [s for m in found for s in _sentences_with(m, what, value)]
        score.findings.append(
            Finding(file, "wrong-value", f"{what} {_shown(value)} reported, not labelled", where)
        )


def _shown(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _mentions(reason: str, value: Any) -> bool:
    if isinstance(value, int):
        return f" {value:,} " in f" {reason} " or f"({value:,})" in reason
    return value in reason.casefold()


def _sentences_with(match: Match, what: str, value: Any) -> list[str]:
    if what == "figure":
        texts = [f.text for f in match.figures if f.value == value]
    else:
        texts = [value]
    return [f"in: {s}" for s in match.snippets if any(t.casefold() in s.casefold() for t in texts)][
        :1
    ]


def _why(found: list[Match]) -> list[str]:
    return [f"matched: {snippet}" for m in found for snippet in m.snippets[:2]][:4]


def _why_not(rule_id: str, articles: list[Article], rules: RuleSet) -> list[str]:
    explanations: list[Explanation] = []
    for article in articles:
        explanations.extend(explain_article(article, rules, only=(rule_id,), now=article.published))
    # a feed has many items: the explanations that came closest are the ones worth reading
    reasons = [r for e in explanations for r in e.reasons]
    return _closest_first(reasons)[:8]


def _closest_first(reasons: Iterable[str]) -> list[str]:
    """Reasons about a candidate before those that only say a term is absent."""
    unique = list(dict.fromkeys(reasons))
    return sorted(unique, key=lambda r: r.endswith(("does not occur", " occurs")))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _counts_json(c: Counts) -> dict[str, Any]:
    return {
        "labelled": c.labelled,
        "found": c.found_labelled,
        "reported": c.reported,
        "reported_labelled": c.reported_labelled,
        "recall": _rounded(c.recall),
        "precision": _rounded(c.precision),
    }


def format_table(report: EvalReport) -> str:
    """The scores as a table a person reads, then every finding."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    names = sorted({n for s in report.scores.values() for n in s.captures})
    header = ["rule", "docs", "tp", "fp", "fn", "P", "R", "F1", "figs R", "figs P"]
    for name in names:
        header += [f"{name} R", f"{name} P"]
    rows = [header]
    for s in report.scores.values():
        row = [s.rule, str(s.tp + s.fp + s.fn + s.tn), str(s.tp), str(s.fp), str(s.fn)]
        row += [pct(s.precision), pct(s.recall), pct(s.f1)]
        row += [_ratio(s.figures.found_labelled, s.figures.labelled), pct(s.figures.precision)]
        for name in names:
            c = s.captures.get(name)
            row += [_ratio(c.found_labelled, c.labelled), pct(c.precision)] if c else ["-", "-"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    table = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines: list[str] = []
    for s in report.scores.values():
        for f in s.findings:
            lines.append(f"{s.rule}: {f.file}: {f.kind}: {f.detail}")
            lines.extend(f"    {reason}" for reason in f.reasons)
    for error in report.errors:
        lines.append(f"error: {error}")
    for rule in report.unknown_rules:
        lines.append(f"labels name rule '{rule}', which the rule set does not have")
    return "\n".join(lines + ([""] if lines else []) + table)


def _ratio(found: int, total: int) -> str:
    return f"{found}/{total}" if total else "-"
