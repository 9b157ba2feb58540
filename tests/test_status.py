"""`monitor status`: one screen from a real store (SQLite and PostgreSQL) that workers,
polls and deliveries have written to; `--json` is one object; every time is UTC with `Z`."""

import json
import re
import subprocess
import sys
import textwrap
from datetime import timedelta

from click.testing import CliRunner

from monitor.cli import main
from monitor.digest.schedule import parse_schedule
from monitor.models import PollResult
from monitor.resources import rules_dir
from monitor.status import age_text, utc_text
from monitor.store import Store
from monitor.timeutil import utcnow
from tests.conftest import REPO, queue_digest

FEEDS = [
    "https://ok.example.org/rss",
    "https://down.example.org/rss",
    "https://new.example.org/rss",
]


def write_config(tmp_path, rules=None):
    path = tmp_path / "monitor.yaml"
    feeds = ", ".join(f'{{url: "{url}"}}' for url in FEEDS)
    path.write_text(
        textwrap.dedent(f"""\
        rules: {rules or rules_dir()}
        feeds: [{feeds}]
        smtp: {{host: localhost}}
        subscriptions:
          - {{name: desk, email: desk@example.org, rules: [ceasefire], schedule: daily 07:30 Europe/Berlin}}
          - {{name: chat, webhook: {{url: "https://example.org/hook"}}, rules: [ceasefire]}}
          - {{name: later, webhook: {{url: "https://example.org/hook"}}, rules: [ceasefire], schedule: every 2h}}
        """)
    )
    return path


def fill(store, now):
    """What a worker leaves behind: polls (one failing twice), a sent, a dead and a pending
    delivery, subscriptions' clocks."""
    store.register_worker(now - timedelta(seconds=10))
    store.heartbeat(now - timedelta(seconds=5), last_cycle=now - timedelta(seconds=6))
    store.sync_feeds(FEEDS)
    ids = {state.url: state.id for state in store.feed_states()}
    polled = now - timedelta(minutes=5)
    store.record_poll(
        ids[FEEDS[0]], PollResult(FEEDS[0], 200), now + timedelta(minutes=5), 3, polled
    )
    for _ in range(2):
        store.record_poll(
            ids[FEEDS[1]],
            PollResult(FEEDS[1], 503, error="fetch: server error (503 status code)"),
            now + timedelta(minutes=20),
            0,
            polled,
        )
    for name in ("desk", "chat"):  # seen by a worker ("later" is not yet)
        store.subscription_state(name, now - timedelta(days=1))
    queued = now - timedelta(hours=2, minutes=5)
    queue_digest(store, "desk", now=queued, subject="sent one")
    queue_digest(store, "desk", now=queued, subject="dead one", target="gone@example.org")
    sent, dead = store.due_deliveries(now)
    store.mark_sent(sent.id, now - timedelta(hours=2))
    store.mark_failed(dead.id, "email: 550 no such user", None)
    queue_digest(store, "chat", now=queued, subject="pending one")


def test_status_shows_workers_feeds_rules_outbox_and_digests(tmp_path, database_url):
    now = utcnow()
    config = write_config(tmp_path)
    store = Store(database_url)
    fill(store, now)
    store.close()
    env = {"MONITOR_DATABASE_URL": database_url}

    text = CliRunner().invoke(main, ["status", "-c", str(config)], env=env)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].startswith("news-monitor status at ") and lines[0].split()[4].endswith("Z")
    assert "workers (1)" in lines
    [worker] = [line for line in lines if "heartbeat" in line]
    assert worker.endswith("alive")
    assert re.search(r"last cycle \S+ \S+Z  alive$", worker), worker
    feeds = [line.split()[:2] for line in lines if "example.org/rss" in line]
    # failing first, then never polled, then healthy
    assert feeds == [
        ["failing", FEEDS[1]],
        ["never", "polled"],
        ["ok", FEEDS[0]],
    ]
    down = next(line for line in lines if FEEDS[1] in line)
    assert "status 503  failures 2  next poll " in down
    assert "last error: fetch: server error (503 status code)" in text.output
    assert "rules: 3 loaded from 2 files" in lines
    assert re.search(
        r"^outbox: 1 pending, 1 dead, 1 sent, 0 skipped; oldest pending 2h 5m old "
        r"\(queued \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\)$",
        text.output,
        re.M,
    )
    # desk's clock restarted when its digests were queued: due at the next 07:30 in Berlin
    due = parse_schedule("daily 07:30 Europe/Berlin").next_after(
        now - timedelta(hours=2, minutes=5)
    )
    assert due.minute == 30 and due.hour in (5, 6)  # CEST or CET
    assert f"  desk  daily 07:30 Europe/Berlin  last sent {utc_text(now - timedelta(hours=2))}" in (
        text.output
    )
    assert f"next due {due:%Y-%m-%d %H:%M:%S}Z" in text.output
    assert "  chat  immediate  last sent never  next due at every cycle with new alerts" in lines
    assert "  later  every 2h  last sent never  next due once a worker has seen it" in (text.output)
    # every time on the screen says it is UTC
    stamps = re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?\S?", text.output)
    assert stamps and all(stamp.endswith("Z") for stamp in stamps)

    result = CliRunner().invoke(main, ["status", "-c", str(config), "--json"], env=env)
    assert result.exit_code == 0
    status = json.loads(result.output)  # one object
    assert [w["alive"] for w in status["workers"]] == [True]
    assert [(f["url"], f["health"]) for f in status["feeds"]] == [
        (FEEDS[1], "failing"),
        (FEEDS[2], "never polled"),
        (FEEDS[0], "ok"),
    ]
    assert status["feeds"][0]["consecutive_failures"] == 2
    assert status["rules"] == {"loaded": 3, "files": 2, "problems": 0}
    outbox = status["outbox"]
    assert (outbox["pending"], outbox["dead"], outbox["sent"], outbox["skipped"]) == (1, 1, 1, 0)
    assert 2 * 3600 + 5 * 60 - 5 <= outbox["oldest_pending_age_seconds"] <= 2 * 3600 + 5 * 60 + 60
    subs = {s["name"]: s for s in status["subscriptions"]}
    assert subs["desk"]["next_due_at"] == f"{due:%Y-%m-%dT%H:%M:%S}Z"
    assert subs["desk"]["last_sent_at"].endswith("Z")
    assert subs["chat"]["immediate"] and subs["chat"]["next_due_at"] is None
    for when in (status["generated_at"], status["last_poll_at"], outbox["oldest_pending_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when)


def test_a_silent_worker_and_rules_that_do_not_load(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("rules:\n  - id: x\n    match: {any: ['/(/']}\n")
    config = write_config(tmp_path, rules)
    store = Store(f"sqlite:///{tmp_path}/monitor.db")
    store.register_worker(utcnow() - timedelta(minutes=10))
    store.close()
    # the console script itself, as an operator runs it
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "status", "-c", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"heartbeat \S+ \S+Z  last cycle none yet  silent for 10m( \d+s)?$", result.stdout, re.M
    )
    assert "rules: do not load (1 problems in 1 files: monitor check lists them)" in result.stdout
    assert "outbox: 0 pending, 0 dead, 0 sent, 0 skipped\n" in result.stdout


def test_ages_read_in_two_units():
    assert [
        age_text(timedelta(seconds=s)) for s in (0, 12, 250, 7500, 3 * 86400 + 4 * 3600 + 9)
    ] == ["0s", "12s", "4m 10s", "2h 5m", "3d 4h"]
