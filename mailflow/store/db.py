"""The database engine and the unit of work; the only place that knows the SQL dialect.

Two engines: SQLite (the default, a file in the storage directory) and PostgreSQL through
psycopg 3 (`postgresql://...` or `postgresql+psycopg://...`). The password of a PostgreSQL
role is never in the URL: libpq reads it from its password file (`?passfile=...` in the
URL, $PGPASSFILE, or the service user's ~/.pgpass) or from a service file (`?service=...`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, create_engine

from mailflow.errors import ConfigError, StorageUnavailable
from mailflow.store.files import create_private_file, private_directories

# The rest of mailflow reaches the database through these names, never through sqlalchemy
# or sqlmodel directly (an import contract checks it).
__all__ = ["Engine", "IntegrityError", "OperationalError", "Session", "lock_wait_ended",
           "make_engine", "outage_as_unavailable", "statement_refused", "storage_failure",
           "transaction", "unavailable"]


def make_engine(url: str) -> Engine:
    """An engine for `url`; it creates no tables (mailflow.store.migrate.prepare does).

    A new SQLite file is created 0600 in 0700 directories before SQLite opens it, since
    SQLite would create it 0644 less the umask; its -wal and -shm files take its mode.

    hide_parameters: SQLAlchemy's errors quote a failed statement's parameters, and those of
    a new ticket are its reporter's name, NIK, phone and address; a database that fails mid-
    insert (a full disk, a restart) is logged, and its error must not carry them.
    """
    if url.startswith("sqlite:///"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            private_directories(Path(database).parent)
            create_private_file(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    parsed = postgresql_url(url)
    try:
        import psycopg  # noqa: F401  (SQLAlchemy imports it on first connect; say it here)
    except ImportError as exc:
        raise ConfigError(
            "[database] url is PostgreSQL, but psycopg 3 is not installed: install mailflow "
            "with its PostgreSQL extra (pip install 'mailflow[postgresql]'; for scripts/"
            "install.sh: /opt/mailflow/.venv/bin/pip install 'psycopg[binary]>=3.1,<4')") from exc
    # A daemon holds a few connections for hours: pre_ping finds one a restarted server
    # closed, recycle retires connections before a firewall's idle timeout cuts them, and
    # the connect timeout turns an unreachable server into an error instead of a hang.
    engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5,
                           pool_recycle=1800, pool_timeout=30, hide_parameters=True,
                           connect_args={"connect_timeout": 10, "application_name": "mailflow",
                                         **_CLIENT_KEEPALIVE})
    event.listen(engine, "connect", _postgres_session)
    return engine


# A lost network (a machine gone, a cable pulled) is noticed in about 25 s on both ends of a
# connection, not after the kernel's 2 hours: the server then ends the dead client's session
# and its transaction, and with it the lock on a mailbox's lease row that an intake
# transaction holds (store/lease.py), so a peer takes that mailbox over; the client stops
# waiting on a server that vanished mid-query. TCP only: a Unix socket ignores them.
_CLIENT_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
                     "keepalives_count": 3, "tcp_user_timeout": 30_000}
_SERVER_KEEPALIVE = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5",
                     "SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 30000")


def _postgres_session(dbapi_conn: Any, _record: Any) -> None:
    # Session settings rather than libpq's `options`, which connection poolers refuse.
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    try:
        for statement in _SERVER_KEEPALIVE:
            dbapi_conn.execute(statement)
    finally:
        dbapi_conn.autocommit = autocommit


def postgresql_url(url: str) -> URL:
    """`url` for SQLAlchemy's psycopg 3 dialect; plain `postgresql://` means psycopg 3 too.

    Raises ConfigError for another engine or driver (mailflow is tested with SQLite and
    PostgreSQL through psycopg 3 only).
    """
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("postgresql", "postgres") or driver not in ("", "psycopg"):
        raise ConfigError(f"[database] url {parsed.render_as_string()!r} is not supported: use "
                          "sqlite:///<file> or postgresql://<user>@<host>/<database>")
    return parsed.set(drivername="postgresql+psycopg")


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
            # When the connection died (the database server restarted), the rollback fails
            # too; the transaction died with the connection, and the error that ended it is
            # the one to report (a StorageUnavailable, say), not the failed rollback's.
            with suppress(SQLAlchemyError):
                session.rollback()
            raise


# SQLite reports an environment failure as OperationalError with one of these messages;
# other OperationalErrors ("too many SQL variables") are caused by what a message asked.
_SQLITE_ENVIRONMENT = ("locked", "disk", "readonly", "unable to open", "full", "busy")


# PostgreSQL's SQLSTATE classes that are the server's or the connection's fault: 08
# connection exception, 40 transaction rollback (deadlock, serialization: retry), 53
# insufficient resources (disk full, out of memory, too many connections), 57 operator
# intervention (shutdown, restart, cancel), 58 system error (I/O), and 55P03 lock not available.
_PG_ENVIRONMENT_CLASSES = ("08", "40", "53", "57", "58")
# psycopg's own error (no SQLSTATE) for a query with more than 65,535 parameters: the message's.
_PG_MESSAGE_FAULTS = ("number of parameters must be between",)


def driver_said(exc: BaseException) -> str:
    """What the database driver said, its first line: not SQLAlchemy's wrapper around it,
    whose further lines name the statement, for a log line or an exit message."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def storage_failure(exc: BaseException) -> bool:
    """Whether `exc` is the database's or the disk's fault rather than the message's."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if orig is not None and type(orig).__module__.startswith("sqlite3"):
        return isinstance(exc, OperationalError) and any(
            word in str(orig).lower() for word in _SQLITE_ENVIRONMENT)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _PG_ENVIRONMENT_CLASSES or sqlstate == "55P03"
    # No SQLSTATE: psycopg could not reach the server or lost it (refused, reset, timeout).
    return isinstance(exc, OperationalError) and not any(
        fault in str(orig) for fault in _PG_MESSAGE_FAULTS)


def lock_wait_ended(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL ending a wait for a lock (lock_timeout, SQLSTATE 55P03)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    return getattr(orig, "sqlstate", None) == "55P03"


def statement_refused(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing a statement (a constraint, a bad value, a
    missing table), after which PostgreSQL refuses the rest of the transaction too unless a
    savepoint is rolled back."""
    return isinstance(exc, DBAPIError) and not storage_failure(exc)


def unavailable(exc: BaseException) -> StorageUnavailable | None:
    """For a database's or disk's failure (`storage_failure`), the StorageUnavailable that
    says so in one line (`driver_said`: no statement, no parameters); None for any other."""
    return StorageUnavailable(f"database: {driver_said(exc)}") if storage_failure(exc) else None


@contextmanager
def outage_as_unavailable() -> Iterator[None]:
    """Inside, a database's or disk's failure becomes `unavailable(exc)`; anything else,
    a MailflowError included, goes through as it is."""
    try:
        yield
    except Exception as exc:
        outage = unavailable(exc)
        if outage is None:
            raise
        raise outage from exc
