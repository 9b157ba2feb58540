"""What every part of the store shares: the engine, transactions, dialect helpers, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, CursorResult, Engine, Table, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


class StoreBase:
    engine: Engine
    settle: timedelta
    worker_id: str

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several calls (`conn=`): an article, its alerts and their
        figure history are stored together or not at all, so a crash in between loses no
        alert (the entry is simply new again at the next poll)."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _claiming(self) -> Iterator[Connection]:
        """A transaction that claims rows: on PostgreSQL `FOR UPDATE SKIP LOCKED` does it; on
        SQLite the transaction takes the write lock before it reads (BEGIN IMMEDIATE), so two
        processes on one file never both claim the same feeds."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _using(self, conn: Connection | None, *, write: bool = True) -> Iterator[Connection]:
        """The caller's transaction, or one of this call's own."""
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() if write else self.engine.connect() as own:
                yield own


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Workers sharing PostgreSQL take this advisory lock, so only one of them migrates at a time.
_MIGRATION_LOCK = 0x6E6D6967  # "nmig"


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest migration (Alembic, `monitor/store/migrations/`)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def insert_or_ignore(conn: Connection, table: Table) -> Any:
    """INSERT that skips rows whose unique key exists (SQLite and PostgreSQL alike)."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    return dialect_insert(table).on_conflict_do_nothing()


def inserted_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL loses at most the last commits on power loss, never consistency
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # transactions are begun by `_sqlite_begin`, so that claims can take the write lock at once
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """pysqlite's own BEGIN is off (`_sqlite_pragmas`): every transaction begins here, and
    takes the write lock first (BEGIN IMMEDIATE), waiting for it up to the busy timeout.

    A deferred BEGIN cannot wait: once it has read, its first write fails at once with
    "database is locked" if another process wrote meanwhile (SQLITE_BUSY_SNAPSHOT). Two
    workers started together on a new file did (migrating it, registering). Readers
    now wait for the writer too, for the few milliseconds a store transaction takes."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")
