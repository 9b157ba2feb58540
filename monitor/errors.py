"""The exception tree of news-monitor.

    MonitorError                 anything news-monitor raises on purpose
    ├── ConfigError              invalid monitor.yaml (carries path:line:col)
    ├── RuleError                invalid rule file(s) (carries every problem found)
    ├── CorpusError              an unreadable labelled corpus (`rules eval`), path:line
    └── UnsafeURLError           a URL refused by the SSRF guard

Expected outcomes of I/O (timeouts, HTTP errors, oversized bodies, unparsable feeds) are not
exceptions: they come back as result objects (`FetchResult`, `PollResult`, `DeliveryResult`).
"""

from __future__ import annotations

from dataclasses import dataclass


class MonitorError(Exception):
    """Base class of every error news-monitor raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a YAML file: rendered as `path:line:col: message`."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class LocatedError(MonitorError):
    """An error carrying one or more located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigError(LocatedError):
    """monitor.yaml is invalid."""


class RuleError(LocatedError):
    """A rule file is invalid."""


class CorpusError(LocatedError):
    """A labelled corpus (labels.jsonl) cannot be read."""


class UnsafeURLError(MonitorError):
    """A URL points at an address the SSRF guard refuses."""
