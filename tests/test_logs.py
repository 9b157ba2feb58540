"""Log lines: UTC times with their offset, the pipeline's context keys, text or JSON Lines;
APScheduler's notes about coalesced runs are DEBUG lines."""

import json
import logging

import pytest

from monitor.logs import JsonFormatter, SchedulerChatter, TextFormatter, setup_logging


def record(message="delivered", level=logging.INFO, **extra):
    entry = logging.LogRecord("monitor.worker.deliver", level, __file__, 1, message, (), None)
    entry.created = 1764660600.25  # 2025-12-02T07:30:00.250Z
    entry.__dict__.update(extra)
    return entry


def test_text_lines_say_utc_with_offset_and_the_context():
    line = TextFormatter().format(record(subscription="desk", delivery_id="msg_1"))
    assert line == (
        "2025-12-02T07:30:00.250+00:00 INFO monitor.worker.deliver: delivered "
        "subscription=desk delivery_id=msg_1"
    )


def test_json_lines_are_one_object_each_with_the_traceback():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        failed = record("polling failed", logging.ERROR, feed_url="https://example.org/rss")
        failed.exc_info = sys.exc_info()
    line = JsonFormatter().format(failed)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"] == "2025-12-02T07:30:00.250+00:00"
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "monitor.worker.deliver",
        "polling failed",
    )
    assert entry["feed_url"] == "https://example.org/rss"
    assert "ValueError: bad" in entry["exception"]


@pytest.mark.parametrize("debug", [False, True])
def test_coalesced_scheduler_runs_are_debug_lines(debug):
    chatter = SchedulerChatter(debug=debug)
    skipped = record("skipped: maximum number of running instances reached (1)", logging.WARNING)
    assert chatter.filter(skipped) is debug
    assert skipped.levelname == "DEBUG"
    failed = record("Job raised an exception", logging.ERROR)
    assert chatter.filter(failed) is True and failed.levelname == "ERROR"


def test_setup_logging_installs_one_handler_in_the_asked_format(capsys):
    setup_logging(1, "json")
    logging.getLogger("monitor.test").info("hello", extra={"rule": "ceasefire"})
    logging.getLogger("apscheduler.scheduler").warning("maximum number of running instances")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and json.loads(err[0])["rule"] == "ceasefire"
    setup_logging(0, "text")


async def test_monitor_once_logs_json_lines(
    seed_site, smtp_sink, webhook_sink, write_config, environ
):
    import asyncio
    import sys

    from tests.worker.test_pipeline import config_text

    path = write_config(config_text([f"{seed_site}/rss"], smtp_sink.port, webhook_sink.url))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--log-format",
        "json",
        "once",
        "--all",
        "-c",
        str(path),
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    entries = [json.loads(line) for line in err.decode().splitlines()]
    assert all(e["time"].endswith("+00:00") for e in entries)
    [cycle] = [e for e in entries if e["message"].startswith("cycle done: ")]
    assert cycle["message"] == (
        "cycle done: polled 1 feeds (0 failed), 1 new articles, 3 alerts, 2 digests, 2 delivered"
    )
    assert any(e.get("subscription") == "humanitarian-desk" for e in entries)
