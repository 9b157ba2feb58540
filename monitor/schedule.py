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
            return Schedule(text, cron=CronTrigger.from_crontab(words[1], timezone=zone))
        except ValueError as exc:
            raise ValueError(f"invalid cron expression '{words[1]}' ({exc})") from None
    raise ValueError(
        f"invalid schedule '{text}' (expected immediate, hourly, every 30m, "
        "daily 07:30 Europe/Berlin"
        ' or cron "0 */4 * * *")'
    )


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{name}' (expected an IANA name like Europe/Berlin)"
        ) from None
