"""Digest schedules: `immediate | hourly | every 30m | daily HH:MM [TZ] | cron "EXPR" [TZ]`.

APScheduler's triggers compute the fire times; when a digest was last sent lives in our store,
so a restarted worker knows what is due without any scheduler state of its own.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from monitor.timeutil import parse_duration


@dataclass(frozen=True)
class Schedule:
    text: str
    interval: timedelta | None = None  # every N
    cron: CronTrigger | None = None  # hourly, daily, cron

    @property
    def immediate(self) -> bool:
        return self.interval is None and self.cron is None

    @property
    def timezone(self) -> tzinfo:
        """The zone the schedule is written in (UTC unless it names one): digests show
        their times in it."""
        zone = getattr(self.cron, "timezone", None)
        return zone if isinstance(zone, tzinfo) else UTC

    def next_after(self, since: datetime) -> datetime:
        """When a digest is next due after one was sent (or the subscription began) at `since`."""
        if self.interval is not None:
            return since + self.interval
        if self.cron is not None:
            fire: datetime | None = self.cron.get_next_fire_time(None, since + timedelta(seconds=1))
            assert fire is not None  # our cron expressions always fire again
            return fire.astimezone(UTC)
        return since

    def is_due(self, since: datetime, now: datetime) -> bool:
        return self.immediate or self.next_after(since) <= now


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule; ValueError says what was expected."""
    words = shlex.split(text.strip()) if text.strip() else []
    if words == ["immediate"]:
        return Schedule(text)
    if words == ["hourly"]:
        return Schedule(text, cron=CronTrigger(minute=0, timezone=UTC))
    if len(words) == 2 and words[0] == "every":
        return Schedule(text, interval=parse_duration(words[1]))
    if len(words) in (2, 3) and words[0] == "daily":
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", words[1])
        if not m:
            raise ValueError(
                f"invalid time '{words[1]}' in schedule (expected HH:MM, like daily 07:30)"
            )
        zone = _zone(words[2]) if len(words) == 3 else UTC
        return Schedule(
            text, cron=CronTrigger(hour=int(m.group(1)), minute=int(m.group(2)), timezone=zone)
        )
    if len(words) in (2, 3) and words[0] == "cron":
        zone = _zone(words[2]) if len(words) == 3 else UTC
        try:
            return Schedule(text, cron=_crontab(words[1], zone))
        except ValueError as exc:
            raise ValueError(f"invalid cron expression '{words[1]}' ({exc})") from None
    raise ValueError(
        f"invalid schedule '{text}' (expected immediate, hourly, every 30m, "
        "daily 07:30 Europe/Berlin"
        ' or cron "0 */4 * * *")'
    )


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab(expression: str, zone: tzinfo) -> CronTrigger:
    """A standard 5-field crontab. APScheduler numbers weekdays from Monday = 0, crontab from
    Sunday = 0 (and 7), so the weekday field is translated to day names first."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"Wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=zone,
    )


def _weekdays(field: str) -> str:
    """Crontab weekdays ("1-5", "0,6", "*/2", "sun") as APScheduler day names."""
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        spec, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if spec == "*":
            first, last = 0, 6
        else:
            first_text, _, last_text = spec.partition("-")
            first = _weekday_number(first_text)
            last = _weekday_number(last_text) if last_text else (6 if step_text else first)
        if step < 1 or last < first:
            raise ValueError(f"invalid weekday range '{item}'")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _weekday_number(text: str) -> int:
    name = text.lower()[:3]
    if name in _DAY_NAMES:
        return _DAY_NAMES.index(name)
    if text.isdigit() and int(text) <= 7:
        return int(text)
    raise ValueError(f"invalid weekday '{text}'")


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{name}' (expected an IANA name like Europe/Berlin)"
        ) from None
