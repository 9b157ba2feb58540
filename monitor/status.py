"""`monitor status`: one screen on the state of a deployment, read from its store.

    workers         each worker seen, when it started and its last heartbeat
    feeds           failing first (with the last error), then never polled, then healthy
    rules           how many load from the config's rule paths
    outbox          deliveries by state, the age of the oldest pending one
    subscriptions   the last digest sent, and when the next one is due

Every time is UTC, written with its `Z`. Reads only (`gather` issues SELECTs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from monitor.config import Config
from monitor.database import safe_url
from monitor.errors import RuleError
from monitor.rules.load import load_rules, rule_files
from monitor.store import HEARTBEAT, Store
from monitor.store.schema import outbox, subscriptions, workers
from monitor.timeutil import as_utc, utcnow

# A worker whose heartbeat is older than this has stopped (or hangs): it beats every HEARTBEAT.
SILENT_AFTER = 3 * HEARTBEAT
OUTBOX_STATES = ("pending", "dead", "sent", "skipped")


@dataclass(frozen=True)
class WorkerStatus:
    id: str
    process: str
    started_at: datetime
    heartbeat_at: datetime
    alive: bool
    # its last poll pass (None before the first)
    last_cycle_at: datetime | None = None


@dataclass(frozen=True)
class FeedStatus:
    url: str
    health: str  # failing | never polled | ok
    consecutive_failures: int
    last_polled_at: datetime | None
    last_status: int | None
    last_error: str | None
    next_poll_at: datetime | None


@dataclass(frozen=True)
class SubscriptionStatus:
    name: str
    schedule: str
    last_sent_at: datetime | None
    # None: at every cycle (immediate); else when the next digest is due
    next_due_at: datetime | None
    immediate: bool


@dataclass(frozen=True)
class Status:
    now: datetime
    database: str
    workers: list[WorkerStatus]
    feeds: list[FeedStatus]
    rules: int | None  # None when the rules do not load
    rule_files: int
    rule_problems: int
    outbox: dict[str, int]
    oldest_pending_at: datetime | None
    last_poll_at: datetime | None
    subscriptions: list[SubscriptionStatus]


def gather(config: Config, store: Store, now: datetime | None = None) -> Status:
    """Everything `monitor status` shows, read from the store and the rule files."""
    now = now or utcnow()
    with store.engine.connect() as conn:
        worker_rows = conn.execute(select(workers).order_by(workers.c.started_at)).all()
        counts: dict[str, int] = {
            state: count
            for state, count in conn.execute(
                select(outbox.c.status, func.count()).group_by(outbox.c.status)
            )
        }
        oldest = conn.scalar(
            select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
        )
        sent = dict(
            conn.execute(
                select(outbox.c.subscription, func.max(outbox.c.sent_at))
                .where(outbox.c.status == "sent")
                .group_by(outbox.c.subscription)
            ).all()
        )
        last_digest = dict(
            conn.execute(select(subscriptions.c.name, subscriptions.c.last_digest_at)).all()
        )
    feeds = _feeds(config, store)
    rules, problems = _rules(config)
    polled = [f.last_polled_at for f in feeds if f.last_polled_at]
    return Status(
        now=now,
        database=safe_url(config.database_url),
        workers=[_worker(row, now) for row in worker_rows],
        feeds=feeds,
        rules=rules,
        rule_files=len(rule_files(config.rule_paths)),
        rule_problems=problems,
        outbox={state: counts.get(state, 0) for state in OUTBOX_STATES},
        oldest_pending_at=as_utc(oldest),
        last_poll_at=max(polled, default=None),
        subscriptions=[
            _subscription(sub, as_utc(sent.get(sub.name)), as_utc(last_digest.get(sub.name)))
            for sub in config.subscriptions
        ],
    )


def _worker(row: Any, now: datetime) -> WorkerStatus:
    beat = as_utc(row.heartbeat_at) or now
    return WorkerStatus(
        row.id,
        row.process,
        as_utc(row.started_at) or now,
        beat,
        now - beat <= SILENT_AFTER,
        as_utc(row.last_cycle_at),
    )


def _feeds(config: Config, store: Store) -> list[FeedStatus]:
    states = {state.url: state for state in store.feed_states()}
    found: list[FeedStatus] = []
    for feed in config.feeds:
        state = states.get(feed.url)
        if state is None or state.last_polled_at is None:
            found.append(FeedStatus(feed.url, "never polled", 0, None, None, None, _next(state)))
            continue
        failing = state.consecutive_failures > 0
        found.append(
            FeedStatus(
                feed.url,
                "failing" if failing else "ok",
                state.consecutive_failures,
                state.last_polled_at,
                state.last_status,
                state.last_error if failing else None,
                state.next_poll_at,
            )
        )
    order = {"failing": 0, "never polled": 1, "ok": 2}
    return sorted(found, key=lambda f: (order[f.health], -f.consecutive_failures, f.url))


def _next(state: Any) -> datetime | None:
    return state.next_poll_at if state is not None else None


# (rule paths, their files' mtimes and sizes) -> what _rules found: compiling a rule set
# takes tens of milliseconds, and the console asks at every overview
_RULES_SEEN: dict[tuple[object, ...], tuple[int | None, int]] = {}


def _rules(config: Config) -> tuple[int | None, int]:
    stamp = (config.rule_paths, *(_stat(f) for f in rule_files(config.rule_paths)))
    if stamp not in _RULES_SEEN:
        try:
            found: tuple[int | None, int] = (len(load_rules(config.rule_paths).rules), 0)
        except RuleError as exc:
            found = (None, len(exc.problems))
        _RULES_SEEN.clear()  # one rule set at a time is enough
        _RULES_SEEN[stamp] = found
    return _RULES_SEEN[stamp]


def _stat(file: Path) -> tuple[str, float, int]:
    try:
        info = file.stat()
    except OSError:
        return (str(file), 0.0, -1)
    return (str(file), info.st_mtime, info.st_size)


def _subscription(
    sub: Any, last_sent: datetime | None, last_digest: datetime | None
) -> SubscriptionStatus:
    schedule = sub.schedule
    if schedule.immediate:
        due = None
    elif last_digest is None:  # not seen by a worker yet: its clock starts then
        due = None
    else:
        due = schedule.next_after(last_digest)
    return SubscriptionStatus(sub.name, schedule.text, last_sent, due, schedule.immediate)


@dataclass(frozen=True)
class DeliveryState:
    status: str
    sent_at: datetime | None
    last_error: str | None


def delivery_states(store: Store, ids: Iterable[int]) -> dict[int, DeliveryState]:
    """The state of each outbox row among `ids` that exists."""
    query = select(outbox.c.id, outbox.c.status, outbox.c.sent_at, outbox.c.last_error).where(
        outbox.c.id.in_(list(ids))
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {row.id: DeliveryState(row.status, as_utc(row.sent_at), row.last_error) for row in rows}


def requeue_refusal(row_id: int, state: DeliveryState | None) -> str | None:
    """Why delivery `row_id` cannot be requeued (None when it can: dead-lettered or pending)."""
    if state is None:
        return f"outbox: no delivery {row_id} (monitor outbox --all lists them)"
    if state.status == "sent":
        return (
            f"outbox: delivery {row_id} was already sent ({utc_text(state.sent_at)}): not requeued"
        )
    if state.status == "skipped":
        why = f" ({state.last_error})" if state.last_error else ""
        return f"outbox: delivery {row_id} was skipped{why}: not requeued"
    if state.status in ("dead", "pending"):
        return None
    return f"outbox: delivery {row_id} is {state.status}: not requeued"


# -- rendering ----------------------------------------------------------------------------------


def utc_text(when: datetime | None, empty: str = "-") -> str:
    """`2025-03-01 07:30:00Z`: UTC, said so."""
    return f"{as_utc(when):%Y-%m-%d %H:%M:%S}Z" if when is not None else empty


def utc_json(when: datetime | None) -> str | None:
    return f"{as_utc(when):%Y-%m-%dT%H:%M:%S}Z" if when is not None else None


def age_text(delta: timedelta) -> str:
    """`3d 4h`, `2h 5m`, `4m 10s`, `12s`: the two largest units."""
    seconds = max(0, int(delta.total_seconds()))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    parts: list[str] = []
    for name, size in units:
        if seconds >= size or (name == "s" and not parts):
            parts.append(f"{seconds // size}{name}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def render(status: Status) -> str:
    now = status.now
    lines = [f"news-monitor status at {utc_text(now)}  database {status.database}", ""]
    lines.append(f"workers ({len(status.workers)})")
    if not status.workers:
        lines.append("  none running")
    for w in status.workers:
        state = "alive" if w.alive else f"silent for {age_text(now - w.heartbeat_at)}"
        lines.append(
            f"  {w.id[:12]}  {w.process}  started {utc_text(w.started_at)}  "
            f"heartbeat {utc_text(w.heartbeat_at)}  "
            f"last cycle {utc_text(w.last_cycle_at, 'none yet')}  {state}"
        )
    lines.append(f"  last poll (any worker) {utc_text(status.last_poll_at, 'never')}")
    lines.append("")
    health = _count(f.health for f in status.feeds)
    lines.append(
        f"feeds ({len(status.feeds)}: "
        + ", ".join(f"{n} {h}" for h in ("failing", "never polled", "ok") if (n := health.get(h)))
        + ")"
    )
    for f in status.feeds:
        failures = f"  failures {f.consecutive_failures}" if f.consecutive_failures else ""
        polled = utc_text(f.last_polled_at, "never")
        lines.append(
            f"  {f.health:<12} {f.url}  last poll {polled}  status {f.last_status or '-'}"
            f"{failures}  next poll {utc_text(f.next_poll_at, 'now')}"
        )
        if f.last_error:
            lines.append(f"               last error: {f.last_error}")
    lines.append("")
    if status.rules is None:
        lines.append(
            f"rules: do not load ({status.rule_problems} problems in {status.rule_files} files: "
            "monitor check lists them)"
        )
    else:
        lines.append(f"rules: {status.rules} loaded from {status.rule_files} files")
    lines.append("")
    counts = ", ".join(f"{status.outbox[s]} {s}" for s in OUTBOX_STATES)
    oldest = (
        f"; oldest pending {age_text(now - status.oldest_pending_at)} old "
        f"(queued {utc_text(status.oldest_pending_at)})"
        if status.oldest_pending_at
        else ""
    )
    lines.append(f"outbox: {counts}{oldest}")
    lines.append("")
    lines.append(f"subscriptions ({len(status.subscriptions)})")
    for s in status.subscriptions:
        lines.append(
            f"  {s.name}  {s.schedule}  last sent {utc_text(s.last_sent_at, 'never')}"
            f"  next due {_due_text(s, now)}"
        )
    return "\n".join(lines)


def _due_text(sub: SubscriptionStatus, now: datetime) -> str:
    if sub.immediate:
        return "at every cycle with new alerts"
    if sub.next_due_at is None:
        return "once a worker has seen it (its clock starts then)"
    return utc_text(sub.next_due_at) + (" (due now)" if sub.next_due_at <= now else "")


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def to_json(status: Status) -> dict[str, Any]:
    """The status as one JSON object (times `YYYY-MM-DDTHH:MM:SSZ`, ages in seconds)."""
    now = status.now
    oldest = status.oldest_pending_at
    return {
        "generated_at": utc_json(now),
        "database": status.database,
        "workers": [
            {
                "id": w.id,
                "process": w.process,
                "started_at": utc_json(w.started_at),
                "heartbeat_at": utc_json(w.heartbeat_at),
                "last_cycle_at": utc_json(w.last_cycle_at),
                "alive": w.alive,
            }
            for w in status.workers
        ],
        "last_poll_at": utc_json(status.last_poll_at),
        "feeds": [
            {
                "url": f.url,
                "health": f.health,
                "consecutive_failures": f.consecutive_failures,
                "last_polled_at": utc_json(f.last_polled_at),
                "last_status": f.last_status,
                "last_error": f.last_error,
                "next_poll_at": utc_json(f.next_poll_at),
            }
            for f in status.feeds
        ],
        "rules": {
            "loaded": status.rules,
            "files": status.rule_files,
            "problems": status.rule_problems,
        },
        "outbox": {
            **status.outbox,
            "oldest_pending_at": utc_json(oldest),
            "oldest_pending_age_seconds": int((now - oldest).total_seconds()) if oldest else None,
        },
        "subscriptions": [
            {
                "name": s.name,
                "schedule": s.schedule,
                "last_sent_at": utc_json(s.last_sent_at),
                "next_due_at": utc_json(s.next_due_at),
                "immediate": s.immediate,
            }
            for s in status.subscriptions
        ],
    }
