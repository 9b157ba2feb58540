"""Claims that scale: the configured set lives in the table (`active`), claims are batches
with LIMIT served by an index, and on PostgreSQL a claim skips rows another holds (SKIP
LOCKED). Every test runs on SQLite and on PostgreSQL."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, text

from monitor.models import PollResult
from monitor.store import LEASE, Store
from monitor.store.schema import feeds, outbox
from monitor.store.workers import CLAIM_LIMIT
from tests.conftest import queue_digest

NOW = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
# enough rows that a planner prefers an index to reading the table (claims take 20)
BIG = 20_000


@pytest.fixture
def store(database_url):
    store = Store(database_url, settle=timedelta(0))
    yield store
    store.close()


def urls(count, prefix="https://example.org/feed"):
    return [f"{prefix}/{n}.xml" for n in range(count)]


def claimed_urls(store, now=NOW, **options):
    return [f.url for f in store.claim_due_feeds(now=now, **options)]


def test_only_the_configured_feeds_are_claimed(store):
    a, b, c, d = urls(4)
    store.sync_feeds([a, b, c], NOW)
    [first] = store.claim_due_feeds(now=NOW, limit=1)
    store.record_poll(first.id, PollResult(a, status=200), NOW, new_items=3, now=NOW)

    store.sync_feeds([b, c, d], NOW)  # a is taken out of the config, d comes in
    states = {s.url: s for s in store.feed_states()}
    assert [u for u, s in states.items() if s.active] == [b, c, d]
    assert states[a].items_seen == 3  # a keeps its row and history, inactive
    polled = store.claim_due_feeds(now=NOW, poll_all=True)
    assert sorted(f.url for f in polled) == [b, c, d]
    for state in polled:  # not due again for ten minutes
        result = PollResult(state.url, status=200)
        store.record_poll(state.id, result, NOW + timedelta(minutes=10), 0, NOW)

    store.sync_feeds([a, b, c, d], NOW + LEASE)  # a is back: due again, history kept
    assert claimed_urls(store, NOW + LEASE) == [a]
    assert {s.url: s.items_seen for s in store.feed_states()}[a] == 3


def test_a_claim_ignores_the_urls_of_the_old_signature(store):
    """`claim_due_feeds(urls, now)` still works: the active flag decides, not the list."""
    configured = urls(3)
    store.sync_feeds(configured, NOW)
    assert [f.url for f in store.claim_due_feeds(configured[:1], NOW)] == configured


def test_feed_claims_take_at_most_their_limit_and_never_a_feed_twice(store):
    store.sync_feeds(urls(30), NOW)
    batches = [claimed_urls(store, limit=7) for _ in range(5)]
    assert [len(b) for b in batches] == [7, 7, 7, 7, 2]
    every = [u for b in batches for u in b]
    assert sorted(every) == sorted(urls(30))
    assert store.claim_due_feeds(now=NOW, limit=0) == []


def test_a_claim_without_a_limit_is_a_batch_not_the_table(store):
    store.sync_feeds(urls(CLAIM_LIMIT + 5), NOW)
    assert len(store.claim_due_feeds(now=NOW)) == CLAIM_LIMIT
    assert len(store.claim_due_feeds(now=NOW)) == 5


def test_never_polled_feeds_come_first_then_the_longest_due(store):
    configured = urls(5)
    store.sync_feeds(configured, NOW)
    states = store.claim_due_feeds(now=NOW)
    due = {0: 3, 1: 1, 2: 2}  # feed index -> minutes overdue; 3 not due; 4 never polled
    for n, state in enumerate(states[:4]):
        when = NOW - timedelta(minutes=due[n]) if n in due else NOW + timedelta(minutes=5)
        store.record_poll(state.id, PollResult(state.url, status=200), when, 0, NOW)
    store.let_lease_lapse(states[4].id)
    later = NOW + LEASE  # the lapsed lease of the never-polled feed has run out
    assert claimed_urls(store, later, limit=3) == [configured[4], configured[0], configured[2]]
    assert claimed_urls(store, later) == [configured[1]]
    assert claimed_urls(store, later, poll_all=True) == [configured[3]]


def test_a_pass_over_every_feed_claims_each_once_without_a_list_of_ids(store):
    """`monitor once --all`: the feeds polled since the pass began are not claimed again."""
    store.sync_feeds(urls(5), NOW)
    seen = []
    while batch := store.claim_due_feeds(now=NOW, poll_all=True, limit=2, not_polled_since=NOW):
        for state in batch:  # polled, and due again at once (a Retry-After of 0, say)
            store.record_poll(state.id, PollResult(state.url, status=200), NOW, 0, NOW)
        seen += [f.url for f in batch]
    assert sorted(seen) == sorted(urls(5))
    assert len(store.claim_due_feeds(now=NOW + LEASE, not_polled_since=NOW + LEASE)) == 5


def test_outbox_claims_take_the_longest_due_first_within_their_limit(store):
    store.subscription_state("desk", NOW)
    keys = [queue_digest(store, "desk", [], 0, NOW - timedelta(minutes=m)) for m in (1, 5, 3)]
    later = queue_digest(store, "desk", [], 0, NOW + timedelta(seconds=30))
    assert [r.key for r in store.due_deliveries(NOW, limit=2)] == [keys[1], keys[2]]
    assert [r.key for r in store.due_deliveries(NOW, limit=2)] == [keys[0]]
    assert store.due_deliveries(NOW, limit=0) == []
    # the others are leased for a minute yet
    assert [r.key for r in store.due_deliveries(NOW + timedelta(seconds=30))] == [later]


def test_workers_claiming_in_small_batches_share_the_feeds_exactly(database_url):
    """Three workers (threads, a store each) claim batches of 4 until nothing is due: every
    configured feed goes to exactly one, and no inactive feed to any."""
    stores = [Store(database_url) for _ in range(3)]
    configured = urls(60)
    try:
        stores[0].sync_feeds(urls(20, "https://gone.example.org") + configured, NOW)
        stores[0].sync_feeds(configured, NOW)
        start = threading.Barrier(len(stores))
        taken: list[list[str]] = [[] for _ in stores]

        def claim(i):
            start.wait()
            while batch := stores[i].claim_due_feeds(now=NOW, limit=4):
                assert len(batch) <= 4
                taken[i] += [f.url for f in batch]

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        every = [u for t in taken for u in t]
        assert sorted(every) == sorted(configured)  # all claimed, none twice, none inactive
    finally:
        for store in stores:
            store.close()


def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no row locks: a claim takes the write lock (BEGIN IMMEDIATE)")


def _impatient(database_url):
    """A store whose statements give up after 2 s of waiting for a lock (none should wait)."""
    store = Store(database_url)

    def set_timeout(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        dbapi_connection.commit()

    event.listen(store.engine, "connect", set_timeout)
    store.engine.dispose()  # the connection that migrated goes; new ones get the timeout
    return store


def test_a_feed_claim_skips_the_rows_another_claim_holds(database_url):
    """PostgreSQL: while one claim holds its rows locked (not committed yet), another takes
    the next ones at once, neither waiting nor taking the same."""
    _postgres_only(database_url)
    first, second = Store(database_url), _impatient(database_url)
    try:
        first.sync_feeds(urls(10), NOW)
        with first.engine.connect() as conn, conn.begin():
            locked = select(feeds.c.id).order_by(feeds.c.id).limit(4).with_for_update()
            held = set(conn.execute(locked).scalars())
            taken = {f.id for f in second.claim_due_feeds(now=NOW, limit=10)}
        assert len(held) == 4 and len(taken) == 6 and held.isdisjoint(taken)
        assert len(first.claim_due_feeds(now=NOW)) == 4  # the first claim's rows, once free
    finally:
        first.close()
        second.close()


def test_an_outbox_claim_skips_the_rows_another_claim_holds(database_url):
    _postgres_only(database_url)
    first, second = Store(database_url), _impatient(database_url)
    try:
        first.subscription_state("desk", NOW)
        for _ in range(3):
            queue_digest(first, "desk", [], 0, NOW)
        with first.engine.connect() as conn, conn.begin():
            locked = select(outbox.c.id).order_by(outbox.c.id).limit(2).with_for_update()
            held = set(conn.execute(locked).scalars())
            taken = {r.id for r in second.due_deliveries(NOW, limit=3)}
        assert len(taken) == 1 and held.isdisjoint(taken)
    finally:
        first.close()
        second.close()


# -- the plans: indexes, not scans of the table ------------------------------------------------


def _fill_feeds(store, count):
    """`count` feeds, 1 in 50 inactive, 1 in 1,000 never polled, due over +-15 minutes."""
    rows = [
        {
            "url": f"https://example.org/{n}.xml",
            "active": n % 50 != 1,
            "next_poll_at": None if n % 1000 == 0 else NOW + timedelta(seconds=n % 1800 - 900),
            "consecutive_failures": 0,
            "items_seen": 0,
            "created_at": NOW,
        }
        for n in range(count)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(feeds), rows)


def _analyze(store):
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _statements(store, call):
    """The statements `call` sends, with their parameters."""
    seen = []

    def listen(_conn, _cursor, statement, params, *_):
        if not statement.lstrip().upper().startswith(("SET", "BEGIN", "COMMIT")):
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)
    return seen


def _plan(store, statement, params):
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN " + statement, params)
            return "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(detail for *_, detail in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()


def _assert_uses(plan, index, table):
    assert index in plan, plan
    assert "Seq Scan" not in plan and f"SCAN {table}\n" not in plan + "\n", plan


def test_feed_claims_read_their_index_on_a_big_table(store):
    _fill_feeds(store, BIG)
    _analyze(store)
    store.claim_due_feeds(now=NOW, limit=25)  # the 20 never-polled feeds, and 5 due ones
    statements = _statements(store, lambda: store.claim_due_feeds(now=NOW, limit=20))
    selects = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # never polled (none left), then due
    for statement, params in selects:
        _assert_uses(_plan(store, statement, params), "ix_feeds_due", "feeds")


def test_a_heartbeat_reads_only_the_leases_it_holds_on_a_big_table(store):
    _fill_feeds(store, BIG)
    _analyze(store)
    store.claim_due_feeds(now=NOW, limit=20)
    statements = _statements(store, lambda: store.heartbeat(NOW))
    [renew] = [(s, p) for s, p in statements if "UPDATE feeds" in s]
    _assert_uses(_plan(store, *renew), "ix_feeds_leased_by", "feeds")


def test_outbox_claims_read_their_index_however_many_rows_were_sent(store):
    row = {
        "digest": "dig",
        "subscription": "desk",
        "channel": "email",
        "target": "desk@example.org",
        "alert_ids": [],
        "story_ids": [],
        "subject": "s",
        "body": b"t",
        "content_type": "text/plain",
        "attempts": 1,
        "next_attempt_at": NOW - timedelta(days=1),
        "created_at": NOW - timedelta(days=1),
    }
    rows = [{**row, "key": f"msg_{n}", "status": "sent"} for n in range(BIG)]
    rows += [{**row, "key": f"msg_p{n}", "status": "pending"} for n in range(30)]
    with store.engine.begin() as conn:
        conn.execute(insert(outbox), rows)
    _analyze(store)
    statements = _statements(store, lambda: store.due_deliveries(NOW, limit=20))
    [claim] = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    _assert_uses(_plan(store, *claim), "ix_outbox_due", "outbox")


def test_migration_0007_keeps_the_known_feeds_active(database_url, tmp_path):
    """A database of the schema before: its feeds stay claimable after the upgrade."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import create_engine

    from monitor.store.base import MIGRATIONS

    engine = create_engine(database_url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        conn.execute(
            text(
                "INSERT INTO feeds (url, consecutive_failures, items_seen, created_at) "
                "VALUES ('https://example.org/rss', 0, 0, :now)"
            ),
            {"now": NOW.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
    engine.dispose()
    store = Store(database_url)  # migrates to the newest
    try:
        [feed] = store.feed_states()
        assert feed.active
        assert [f.url for f in store.claim_due_feeds(now=NOW)] == ["https://example.org/rss"]
    finally:
        store.close()
