"""The database as an operator meets it: whether it opens (and why not, in one line), and
which schema revision it is at. The store itself is `monitor.store`; this module only looks.

    database_problem(url)   -> None, or why the database cannot be opened (`monitor check`)
    describe_error(exc)     -> the cause of a failure to open, without a traceback
    schema_revisions(url)   -> (the database's revision, the newest one we ship)
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from monitor.errors import MonitorError
from monitor.store.base import MIGRATIONS

# Errors that mean "the database cannot be opened or used", as opposed to a bug of ours.
OPEN_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, CommandError, ImportError)
# How long `monitor check` waits for a database server to answer.
CONNECT_TIMEOUT = 5


class DatabaseUnavailable(MonitorError):
    """The configured database cannot be opened; the message is one line saying where the
    URL comes from (the `database:` key or MONITOR_DATABASE_URL) and why."""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def open_failure(origin: str, url: str, exc: BaseException) -> DatabaseUnavailable:
    """`origin: cannot open URL (cause)` as an error for the command line."""
    cause = describe_error(exc)
    path = sqlite_path(url)
    if path is not None and not path.parent.is_dir():  # SQLite only says "unable to open"
        cause = f"the folder {path.parent} does not exist"
    return DatabaseUnavailable(f"{origin}: cannot open {safe_url(url)} ({cause})")


def describe_error(exc: BaseException) -> str:
    """Why a database could not be opened, in a few words (the driver's first line)."""
    if isinstance(exc, NoSuchModuleError):
        return f"unknown kind of database ({exc}); expected sqlite:/// or postgresql://"
    if isinstance(exc, ArgumentError):
        return "not a database URL (expected sqlite:///FILE or postgresql://USER@HOST/DB)"
    if isinstance(exc, ImportError):
        return f"its driver is not installed ({exc})"
    if isinstance(exc, CommandError):
        found = re.search(r"Can't locate revision identified by '([^']+)'", str(exc))
        if found:
            return (
                f"its schema is at revision {found.group(1)}, which this version of "
                "news-monitor does not know: a newer version migrated it"
            )
        return f"schema migration failed: {exc}"
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _driver_message(exc.orig)
    return _first_line(str(exc)) or type(exc).__name__


def _driver_message(orig: BaseException) -> str:
    message = _first_line(str(orig)).removeprefix("connection failed: ")
    return re.sub(r"\s+", " ", message).replace("FATAL: ", "")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0].strip() if message.strip() else ""


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for another database, or one in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def database_problem(url: str) -> str | None:
    """Why the database at `url` cannot be opened, or None when it can. A connection is
    opened (and closed): to an SQLite file read-only (a file yet to be created needs a folder
    it can be created in), to a server within CONNECT_TIMEOUT seconds."""
    path = sqlite_path(url)
    if path is not None:
        return _sqlite_problem(path)
    try:
        parsed = make_url(url)
        postgres = parsed.get_backend_name() == "postgresql"
        args = {"connect_timeout": CONNECT_TIMEOUT} if postgres else {}
        engine = create_engine(parsed, connect_args=args)
    except OPEN_ERRORS as exc:
        return describe_error(exc)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return _unknown_revision(engine)
    except OPEN_ERRORS as exc:
        return describe_error(exc)
    finally:
        engine.dispose()


def _sqlite_problem(path: Path) -> str | None:
    if not path.exists():
        folder = path.parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist"
        probe = folder / f".{path.name}.check"
        try:  # the file will be created at first start: the folder must let us write
            probe.touch()
            probe.unlink()
        except OSError as exc:
            return f"cannot create files in {folder} ({exc.strerror})"
        return None
    # read-only: checking never changes the file (nor turns a stray file into a database)
    engine = create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM sqlite_master"))
        return _unknown_revision(engine)
    except OPEN_ERRORS as exc:
        return describe_error(exc)
    finally:
        engine.dispose()


def _unknown_revision(engine: Engine) -> str | None:
    """A database migrated by a newer version than this one cannot be used by it."""
    current, _head = _revisions(engine)
    if current is not None and current not in known_revisions():
        return describe_error(CommandError(f"Can't locate revision identified by '{current}'"))
    return None


def schema_revisions(url: str) -> tuple[str | None, str]:
    """(the revision the database is at, None before the first migration; the newest
    revision this version ships). Reads only: an SQLite file that does not exist is None."""
    path = sqlite_path(url)
    if path is not None and not path.exists() and path.parent.is_dir():
        return None, head_revision()  # not created yet (a missing folder fails to connect)
    engine = create_engine(url)
    try:
        return _revisions(engine)
    finally:
        engine.dispose()


def _revisions(engine: Engine) -> tuple[str | None, str]:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head_revision()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None  # we ship migrations
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}
