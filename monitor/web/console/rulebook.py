"""What the Rules page shows, computed once per version of the rule files.

A `RuleBook` is the rule set loaded from the config's rule paths (or every problem that keeps
it from loading), each rule with where it is written and how its examples fare. `Books`
keeps the latest one and reads the files again only when their stamp (path, mtime, size of
each file, as the worker's rule watcher sees them) changes; likewise the scores on the
configured corpus (`monitor rules eval`), which take seconds, once per stamp of the rules
and of the corpus. Everything here blocks: callers run it in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from monitor.codec import match_from_json
from monitor.errors import CorpusError, Problem, RuleError
from monitor.evaluate import EvalReport, evaluate
from monitor.models import Match
from monitor.rules.compile import CompiledRule
from monitor.rules.examples import ExampleResult, run_examples
from monitor.rules.load import ParsedFile, compile_rule_files, parse_rule_files, rule_files
from monitor.rules.match import RuleSet
from monitor.store import Store
from monitor.store.schema import alerts, articles
from monitor.timeutil import as_utc

Stamp = tuple[tuple[str, float, int], ...]

# the Rules page shows this many of each rule's latest alerts
LATEST_ALERTS = 5


def files_stamp(files: Iterable[Path]) -> Stamp:
    stamps = []
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        stamps.append((str(file), stat.st_mtime, stat.st_size))
    return tuple(stamps)


@dataclass(frozen=True)
class RuleEntry:
    """One rule of the book: where it is written (`path`, its place `index` under
    `rules:`) and its examples' results."""

    rule: CompiledRule
    path: Path
    index: int
    examples: tuple[ExampleResult, ...]

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.examples)

    @property
    def failed(self) -> list[ExampleResult]:
        return [result for result in self.examples if not result.passed]


@dataclass(frozen=True)
class RuleBook:
    stamp: Stamp
    rules: RuleSet | None  # None when the files do not load
    problems: tuple[str, ...]
    entries: tuple[RuleEntry, ...]
    parsed: tuple[ParsedFile, ...]

    def entry(self, rule_id: str) -> RuleEntry | None:
        return next((e for e in self.entries if e.id == rule_id), None)


def read_book(paths: tuple[Path, ...]) -> RuleBook:
    stamp = files_stamp(rule_files(paths))
    problems: list[Problem] = []
    parsed = parse_rule_files(paths, problems)
    try:
        rules = compile_rule_files(parsed, problems)
    except RuleError as exc:
        return RuleBook(stamp, None, tuple(str(p) for p in exc.problems), (), tuple(parsed))
    where = {rule.id: (file.path, rule.index) for file in parsed for rule in file.rules if rule.id}
    results: dict[str, list[ExampleResult]] = {}
    for result in run_examples(rules):
        results.setdefault(result.rule, []).append(result)
    entries = tuple(
        RuleEntry(rule, *where[rule.id], tuple(results.get(rule.id, ()))) for rule in rules.rules
    )
    return RuleBook(stamp, rules, (), entries, tuple(parsed))


@dataclass(frozen=True)
class CorpusScores:
    """`monitor rules eval` on the configured corpus, or why it could not run."""

    corpus: Path
    report: EvalReport | None
    error: str | None = None


def score_corpus(corpus: Path, rules: RuleSet) -> CorpusScores:
    try:
        return CorpusScores(corpus, evaluate(corpus, rules))
    except CorpusError as exc:
        return CorpusScores(corpus, None, "; ".join(str(p) for p in exc.problems[:3]))


def corpus_stamp(corpus: Path) -> Stamp:
    """The corpus folder's files (the labels file's folder, when it names the file)."""
    if not corpus.exists():
        return ()  # scoring says what is missing
    root = corpus if corpus.is_dir() else corpus.parent
    return files_stamp(sorted(p for p in root.rglob("*") if p.is_file()))


class Books:
    """The latest book of `paths` and its scores on `corpus`, each read again only when
    its files change; safe to use from several threads."""

    def __init__(self, paths: tuple[Path, ...], corpus: Path | None) -> None:
        self.paths = paths
        self.corpus = corpus
        self._book: RuleBook | None = None
        self._scores: tuple[tuple[Stamp, Stamp], CorpusScores] | None = None
        self._book_lock = threading.Lock()
        self._scores_lock = threading.Lock()

    def book(self) -> RuleBook:
        with self._book_lock:
            book = self._book
            if book is None or book.stamp != files_stamp(rule_files(self.paths)):
                book = self._book = read_book(self.paths)
            return book

    def scores_key(self, book: RuleBook) -> tuple[Stamp, Stamp] | None:
        if self.corpus is None or book.rules is None:
            return None
        return book.stamp, corpus_stamp(self.corpus)

    def cached_scores(self, book: RuleBook) -> CorpusScores | None:
        """The scores of `book`, when computed already."""
        key = self.scores_key(book)
        cached = self._scores
        return cached[1] if key is not None and cached and cached[0] == key else None

    def scores(self, book: RuleBook) -> CorpusScores | None:
        """The scores of `book` on the corpus (None without a corpus or rules); slow the
        first time for each version of the rules and the corpus."""
        with self._scores_lock:
            key = self.scores_key(book)
            if key is None or self.corpus is None or book.rules is None:
                return None
            cached = self._scores
            if cached is None or cached[0] != key:
                cached = self._scores = (key, score_corpus(self.corpus, book.rules))
            return cached[1]


@dataclass(frozen=True)
class RecentAlert:
    id: int
    created_at: datetime | None
    title: str
    url: str
    match: Match


def latest_alerts(
    store: Store, rule_ids: Iterable[str], limit: int = LATEST_ALERTS
) -> dict[str, list[RecentAlert]]:
    """The latest `limit` alerts of each rule, newest first (ix_alerts_rule: rule, id)."""
    found: dict[str, list[RecentAlert]] = {}
    with store.engine.connect() as conn:
        for rule_id in rule_ids:
            rows = conn.execute(
                select(
                    alerts.c.id,
                    alerts.c.created_at,
                    alerts.c.match,
                    articles.c.title,
                    articles.c.url,
                )
                .join(articles, articles.c.id == alerts.c.article_id)
                .where(alerts.c.rule == rule_id)
                .order_by(alerts.c.id.desc())
                .limit(limit)
            ).all()
            found[rule_id] = [
                RecentAlert(r.id, as_utc(r.created_at), r.title, r.url, match_from_json(r.match))
                for r in rows
            ]
    return found
