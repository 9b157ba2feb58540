from datetime import UTC, datetime

import pytest

from monitor.digest.schedule import parse_schedule

SAT_0600 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)  # a Saturday


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hourly", datetime(2026, 11, 28, 7, 0, tzinfo=UTC)),
        ("every 30m", datetime(2026, 11, 28, 6, 30, tzinfo=UTC)),
        ("daily 07:30", datetime(2026, 11, 28, 7, 30, tzinfo=UTC)),
        ("daily 07:30 Europe/Berlin", datetime(2026, 11, 28, 6, 30, tzinfo=UTC)),
        ('cron "0 */4 * * *"', datetime(2026, 11, 28, 8, 0, tzinfo=UTC)),
        (
            'cron "0 9 * * 0"',
            datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        ),  # 0 is Sunday, as in crontab
        ('cron "0 9 * * 7"', datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),
        ('cron "0 9 * * 1-5"', datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),  # next Monday
        ('cron "0 9 * * sun"', datetime(2026, 11, 29, 9, 0, tzinfo=UTC)),
        ('cron "0 9 * * */3"', datetime(2026, 11, 28, 9, 0, tzinfo=UTC)),  # sun, wed, sat
        ('cron "30 8 * * 1" America/New_York', datetime(2026, 11, 30, 13, 30, tzinfo=UTC)),
    ],
)
def test_next_digest_time(text, expected):
    schedule = parse_schedule(text)
    assert schedule.next_after(SAT_0600) == expected
    assert not schedule.is_due(SAT_0600, SAT_0600)
    assert schedule.is_due(SAT_0600, expected)


def test_immediate_is_always_due():
    assert parse_schedule("immediate").is_due(SAT_0600, SAT_0600)


@pytest.mark.parametrize(
    "text, message",
    [
        ("weekly", "invalid schedule 'weekly'"),
        ("daily 25:00", "invalid time '25:00'"),
        ("daily 07:30 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ('cron "0 9 * *"', "invalid cron expression '0 9 * *' (Wrong number of fields"),
        ('cron "0 9 * * 8"', "invalid cron expression '0 9 * * 8' (invalid weekday '8')"),
        ("every 10x", "invalid duration '10x'"),
    ],
)
def test_invalid_schedules_say_what_was_expected(text, message):
    with pytest.raises(ValueError) as info:
        parse_schedule(text)
    assert str(info.value).startswith(message)
