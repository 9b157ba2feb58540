"""How the CLI logs: to stderr, times in UTC with their offset, as text or JSON Lines.

Text: `2026-12-02T07:30:00.123+00:00 INFO monitor.worker.deliver: delivered ... subscription=desk`
JSON: one object per line, `{"time", "level", "logger", "message", ...keys, "exception"}`,
for log shippers. The keys are the `extra=` context the pipeline attaches (feed_url,
article_url, rule, subscription, delivery_id).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["FORMATS", "setup_logging"]

FORMATS = ("text", "json")
CONTEXT_KEYS = ("feed_url", "article_url", "rule", "subscription", "delivery_id")

# Libraries that log every page they find hard; our own log says what failed.
NOISY = ("trafilatura", "htmldate", "courlan")


def _utc(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_utc(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = [f"{k}={getattr(record, k)}" for k in CONTEXT_KEYS if getattr(record, k, None)]
        text = " ".join([line, *extras])
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in CONTEXT_KEYS if getattr(record, k, None)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class SchedulerChatter(logging.Filter):
    """APScheduler warns when a run is skipped because the last one still runs, or late:
    the worker coalesces overlapping runs on purpose, so those are DEBUG lines here."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.debug
        return True


def setup_logging(verbose: int = 0, fmt: str = "text") -> None:
    """Warnings and errors by default (`monitor run` adds its own INFO lines), INFO with -v,
    DEBUG with -vv."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING if verbose < 2 else logging.INFO)
    chatter = SchedulerChatter(debug=verbose > 1)
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        scheduler_log = logging.getLogger(name)
        scheduler_log.filters[:] = [chatter]
        scheduler_log.setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
