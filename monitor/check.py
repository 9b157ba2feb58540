"""`monitor check`: a config file and the rules it names, checked together, every problem
found in one run.

    the config       every key, `${VAR}`s and `*_env` secrets, email addresses, webhook URLs,
                     schedules and their time zones (`monitor.config.inspect_config`)
    the rules        every file, every rule, even past a rule's first error
                     (`monitor.rules.load`), plus the lint warnings
    across them      subscriptions naming a rule that does not exist, or a tag that no rule
                     and no feed carries (they would receive nothing from it)
    the database     opened and closed again (an SQLite file read-only), unless its key is
                     itself in error

Nothing is written: a database that does not exist yet is only checked for a folder it can
be created in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from monitor.config import Config, inspect_config
from monitor.database import database_problem, safe_url
from monitor.errors import Problem, RuleError
from monitor.rules import BUILTIN_RULES, FEED_HEALTH
from monitor.rules.lint import lint_rules
from monitor.rules.load import ParsedFile, compile_rule_files, parse_rule_files, rule_files


@dataclass
class CheckReport:
    config_path: Path
    # located problems (`path:line:col: message`); `unlocated` holds the few that have no
    # place in a file (a MONITOR_DATABASE_URL that cannot be opened)
    problems: list[Problem] = field(default_factory=list)
    unlocated: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    feeds: int = 0
    subscriptions: int = 0
    rules: int = 0
    rule_files: int = 0
    database: str | None = None  # the URL checked (without its password)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unlocated

    def lines(self) -> list[str]:
        """Every problem, the config file's first, each file's in order of place."""
        config = str(self.config_path)
        ordered = sorted(self.problems, key=lambda p: (p.path != config, p.path, p.line, p.col))
        return [str(p) for p in dict.fromkeys(ordered)] + self.unlocated

    def summary(self) -> str:
        if not self.ok:
            count = len(self.lines())
            return f"{self.config_path}: {count} problem{'s' if count != 1 else ''}"
        parts = [
            f"{self.feeds} feed{'s' if self.feeds != 1 else ''}",
            f"{self.subscriptions} subscription{'s' if self.subscriptions != 1 else ''}",
            f"{self.rules} rule{'s' if self.rules != 1 else ''} in {self.rule_files} "
            f"file{'s' if self.rule_files != 1 else ''}",
            f"database {self.database} reachable",
        ]
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}")
        return f"{self.config_path}: OK ({', '.join(parts)})"


def check(config_path: Path, environ: Mapping[str, str] | None = None) -> CheckReport:
    """Check `config_path`, its rules and its database; the report holds every problem."""
    report = CheckReport(config_path)
    found = inspect_config(config_path, environ)
    report.problems.extend(found.problems)
    config = found.config
    if config is None:
        return report
    report.feeds, report.subscriptions = len(config.feeds), len(config.subscriptions)
    if "rules" not in found.broken:
        parsed = _check_rules(config, report)
        _check_subscriptions(config, parsed, report)
    if "database" not in found.broken:
        report.database = safe_url(config.database_url)
        cause = database_problem(config.database_url)
        if cause is not None:
            message = f"cannot open {report.database} ({cause})"
            where = config.database_at
            if where is None:
                report.unlocated.append(f"MONITOR_DATABASE_URL: {message}")
            else:
                report.problems.append(_at(where, f"{where.message}: {message}"))
    return report


def _check_rules(config: Config, report: CheckReport) -> list[ParsedFile]:
    problems: list[Problem] = []
    report.rule_files = len(rule_files(config.rule_paths))
    parsed = parse_rule_files(config.rule_paths, problems)
    try:
        report.rules = len(compile_rule_files(parsed, problems).rules)
    except RuleError as exc:
        report.problems.extend(exc.problems)
    report.warnings.extend(lint_rules(parsed))
    return parsed


def _check_subscriptions(config: Config, parsed: list[ParsedFile], report: CheckReport) -> None:
    """Rule ids that do not exist, and tags that nothing carries: a subscription would
    silently receive nothing from them."""
    rule_ids = {rule.id for file in parsed for rule in file.rules if rule.id is not None}
    rule_tags = {
        tag for file in parsed for rule in file.rules if rule.spec for tag in rule.spec.tags
    }
    feed_tags = {tag for feed in config.feeds for tag in feed.tags}
    known_rules = rule_ids | set(BUILTIN_RULES)
    carried = rule_tags | feed_tags | {FEED_HEALTH}
    for sub in config.subscriptions:
        for rule, where in zip(sub.rules, sub.rule_locations, strict=True):
            if rule not in known_rules:
                report.problems.append(
                    _at(where, f"subscription '{sub.name}': unknown rule '{rule}'")
                )
        for tag, where in zip(sub.tags, sub.tag_locations, strict=True):
            if tag not in carried:
                report.problems.append(
                    _at(
                        where,
                        f"subscription '{sub.name}': no rule and no feed has the tag '{tag}', "
                        "so it receives nothing by it",
                    )
                )


def _at(where: Problem, message: str) -> Problem:
    return Problem(where.path, where.line, where.col, message)
