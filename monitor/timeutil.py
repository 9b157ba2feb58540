"""Durations ("10m", "48h", "3d") and timezone-aware timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION_RE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """ "30s", "10m", "48h", "3d", "2w" -> timedelta; ValueError naming the text otherwise."""
    m = _DURATION_RE.match(str(text))
    if not m:
        raise ValueError(
            f"invalid duration '{text}' (expected a number and s, m, h, d or w, like 10m)"
        )
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes (as SQLite returns them) are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
