"""The database engine and the unit of work; the only place that knows the SQL dialect.

Kept free of SQLite-only SQL so that it also runs on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, create_engine

from mailflow.store.files import create_private_file, private_directories

# The rest of mailflow reaches the database through these names, never through sqlalchemy
# or sqlmodel directly (an import contract checks it).
__all__ = ["Engine", "IntegrityError", "Session", "make_engine", "storage_failure", "transaction"]


def make_engine(url: str) -> Engine:
    """An engine for `url`; it creates no tables (mailflow.store.migrate.prepare does).

    A new SQLite file is created 0600 in 0700 directories before SQLite opens it, since
    SQLite would create it 0644 less the umask; its -wal and -shm files take its mode.
    """
    if url.startswith("sqlite:///"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_directories(Path(database).parent)
            create_private_file(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL with synchronous=NORMAL keeps every commit durable against a process crash
    # (the case that matters for a daemon) at ~40,000 commits/s instead of ~1,700.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: everything commits together or nothing does."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# SQLite reports an environment failure as OperationalError with one of these messages;
# other OperationalErrors ("too many SQL variables") are caused by what a message asked.
_SQLITE_ENVIRONMENT = ("locked", "disk", "readonly", "unable to open", "full", "busy")


def storage_failure(exc: BaseException) -> bool:
    """Whether `exc` is the database's or the disk's fault rather than the message's."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    if exc.orig is not None and type(exc.orig).__module__.startswith("sqlite3"):
        return any(word in str(exc.orig).lower() for word in _SQLITE_ENVIRONMENT)
    return True  # PostgreSQL: OperationalError is the server or the connection
