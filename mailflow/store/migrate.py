"""The database's schema revision: creating a database, checking it, upgrading it.

The only module that knows Alembic. The revisions live in `mailflow/store/migrations/`,
inside the package, and are driven from here with a configuration built in code, so an
installed mailflow upgrades its database without a checkout or an alembic.ini.

Who upgrades: the administrator, never the daemon.
    `mailflow run` and `mailflow poll` (and the views `tickets` and `show`) call `prepare`
    at start-up, which accepts a database at the head revision and creates an empty one
    (no mailflow tables) at head, so a first start and the demo just work. Anything else
    stops them with SchemaError (a ConfigError: exit 78, which the systemd unit does not
    restart) and a one-line message saying what to run:

    - made by mailflow 0.1.0, before migrations (the tables, no `alembic_version`): that
      schema is exactly the baseline revision 0001; run `mailflow db upgrade`;
    - at an older revision: run `mailflow db upgrade`;
    - at a revision this mailflow does not know: a newer mailflow upgraded it; run that
      version, or restore the copy taken before that upgrade;
    - some of mailflow's tables but not all, and no revision: not mailflow's database.

    An upgrade copies the database first and can take a while on a large one, so it is a
    deliberate step: stop the service, run `mailflow db upgrade` as the service's user,
    start it again. An administrator who wants upgrades at every start may add
    `ExecStartPre=mailflow db upgrade` to the systemd unit; mailflow does not decide that.

How `upgrade` works.
    SQLite: one transaction that holds the write lock from its first statement
    (BEGIN IMMEDIATE), so no writer slips in between the look and the change. Inside it the
    database is copied with SQLite's backup API (consistent in WAL mode too) to
    `<file>.before-upgrade-from-<revision>-<UTC time>` next to it, with the file's
    permissions; then the revisions run with foreign keys off (SQLite's procedure for
    rebuilding tables), the foreign keys are checked, and everything commits together. A
    failed upgrade leaves the database as it was. A database made before migrations is
    stamped 0001 in the same transaction and upgraded from there.
    PostgreSQL: DDL is transactional as well, so the revisions run in one transaction that
    first takes a transaction-level advisory lock (pg_advisory_xact_lock): two instances
    starting together on an empty database, or two `db upgrade`s, run one after the other,
    and the second finds the database at head. No copy is made (take a pg_dump first).
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from mailflow.errors import ConfigError, MailflowError, SchemaError, StorageUnavailable
from mailflow.store.backup import copy_sqlite
from mailflow.store.db import driver_said, make_engine, storage_failure
from mailflow.store.schema_head import plain_head

# Alembic logs INFO lines as it is imported and each time it looks at a database (every
# start of the service); mailflow logs one line per revision applied instead (env.py).
# Muted before the import, and left alone if something configured it already.
if logging.getLogger("alembic").level == logging.NOTSET:
    logging.getLogger("alembic").setLevel(logging.WARNING)

# Alembic is imported only where a migration runs (issue 10, memory: store/schema_head.py).
if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
#: The schema mailflow 0.1.0 made with create_all, before migrations.
BASELINE = "0001"
BASELINE_TABLES = frozenset({
    "mailbox_state", "ticket_counter", "ticket", "intake", "reporter", "attachment",
    "ticket_event", "outbox", "quarantine",
})
UPGRADE_COMMAND = "mailflow db upgrade"
#: PostgreSQL's advisory lock that serialises schema changes ("mailflow" as 8 bytes).
SCHEMA_LOCK_KEY = int.from_bytes(b"mailflow", "big") >> 1

Kind = Literal["empty", "unversioned", "head", "behind", "newer", "foreign"]


@dataclass(frozen=True)
class Status:
    """What the database holds, compared with what this mailflow needs."""

    kind: Kind
    revision: str | None  # from alembic_version; None when there is none
    head: str
    where: str  # the database, for messages (no password)
    tables: frozenset[str] = frozenset()  # mailflow's tables present, for "foreign"
    copied: bool = True  # whether `upgrade` copies the database aside first (SQLite)

    @property
    def runnable(self) -> bool:
        """True when `prepare` lets mailflow start: at head, or empty (it is created)."""
        return self.kind in ("empty", "head")

    def problem(self) -> str:
        """One line saying what is wrong and what to run; empty when nothing is."""
        copy, back = (("it copies the database aside first", "the copy made before") if self.copied
                      else ("take a pg_dump first", "the pg_dump taken before"))
        return {
            "empty": "",
            "head": "",
            "unversioned": f"the database {self.where} was made by mailflow 0.1.0, before schema "
                           f"migrations; run `{UPGRADE_COMMAND}` ({copy})",
            "behind": f"the database {self.where} is at schema revision {self.revision}, this "
                      f"mailflow needs {self.head}; run `{UPGRADE_COMMAND}` ({copy})",
            "newer": f"the database {self.where} is at schema revision {self.revision}, which is "
                     f"newer than this mailflow (head {self.head}): a newer mailflow upgraded it; "
                     f"run that version, or restore {back} that upgrade",
            "foreign": f"the database {self.where} has some of mailflow's tables "
                       f"({', '.join(sorted(self.tables))}) but not all and no schema revision: it "
                       "is not mailflow's database or it is damaged; restore a backup or point "
                       "[database] url at another database",
        }[self.kind]


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did."""

    before: Status
    to_revision: str
    backup: Path | None  # the copy taken first (SQLite only, not for an empty database)

    @property
    def changed(self) -> bool:
        return self.before.kind != "head"


def head() -> str:
    """The revision this mailflow's models are at."""
    found = _scripts().get_current_head()
    if found is None:
        raise RuntimeError(f"no migration revisions in {MIGRATIONS}")
    return found


def current(engine: Engine) -> str | None:
    """The database's revision; None if it has none (empty, or made before migrations)."""
    with engine.connect() as conn:
        return _revision(conn)


def status(engine: Engine) -> Status:
    """Where the database stands; reads only. StorageUnavailable if it cannot be reached."""
    try:
        with _connected(engine) as conn:
            return _status_at_head(conn, _where(engine)) or _status(conn, _where(engine))
    except DBAPIError as exc:  # connected, then lost
        if not storage_failure(exc):
            raise
        raise StorageUnavailable(f"lost the database {_where(engine)}: {exc.orig}") from exc


def prepare(engine: Engine) -> None:
    """At start-up: create an empty database at head, accept one at head, refuse the rest.

    Raises SchemaError with the command to run; never upgrades (see the module's docstring).
    """
    if status(engine).kind == "head":
        return  # else decided again under the schema lock: another may be creating it now
    _migrate(engine.url.render_as_string(hide_password=False), create_only=True)


def open_database(url: str) -> Engine:
    """An engine on a database this mailflow can run on (`prepare`d): what every command that
    reads or writes tickets starts with."""
    engine = make_engine(url)
    prepare(engine)
    return engine


def upgrade(url: str) -> Upgrade:
    """Bring the database at `url` to head, after copying it aside (SQLite); see the docstring.

    Raises SchemaError for a database this mailflow cannot upgrade (newer, or not mailflow's),
    StorageUnavailable if the copy cannot be written (then nothing was changed).
    """
    return _migrate(url, create_only=False)


def new_revision(message: str, rev_id: str) -> list[Path]:
    """For developers: write versions/<rev_id>_*.py with what the models add to head.

    Autogenerate compares a scratch SQLite database at head with the models; read and
    edit what it writes (it does not see renames, and data needs hand-written steps).
    """
    import tempfile

    from alembic import command

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/head.sqlite3"
        _migrate(url, create_only=True)
        with _locked(url) as conn:
            written = command.revision(_config(conn), message=message, autogenerate=True,
                                       rev_id=rev_id)
    scripts = written if isinstance(written, list) else [written]
    return [Path(s.path) for s in scripts if s is not None]


def _migrate(url: str, *, create_only: bool) -> Upgrade:
    with _locked(url) as conn:
        before = _status(conn, _where(conn.engine))
        if before.kind == "head":
            return Upgrade(before, before.head, None)
        if before.kind in ("newer", "foreign") or (create_only and before.kind != "empty"):
            raise SchemaError(before.problem())
        backup = None
        if before.kind != "empty":
            backup = _copy_aside(conn, before)
        from alembic import command

        cfg = _config(conn)
        if before.kind == "unversioned":
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, "head")
        _check_foreign_keys(conn)
    if before.kind == "empty":
        log.info("database created at schema revision %s: %s", before.head, before.where)
    else:
        log.info("database upgraded from schema revision %s to %s: %s",
                 before.revision or f"none ({before.kind})", before.head, before.where)
    return Upgrade(before, before.head, backup)


@contextmanager
def _locked(url: str) -> Iterator[Connection]:
    """A connection in one transaction that commits on success and rolls back on error.

    On SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE) and runs with
    foreign keys off, on an engine of its own so the service's connections stay as they are.
    """
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_for_migrations)
        event.listen(engine, "begin", _sqlite_begin_immediate)
    try:
        with _connected(engine) as conn:
            try:
                transaction = conn.begin()
            except OperationalError as exc:  # SQLite: still locked after the busy timeout
                raise StorageUnavailable(
                    f"the database {_where(engine)} stayed locked by another process ({exc.orig}); "
                    "stop the service before changing the schema") from exc
            with transaction:
                if conn.dialect.name == "postgresql":
                    # Held until this transaction ends: one upgrade at a time, cluster-wide.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": SCHEMA_LOCK_KEY})
                yield conn
    finally:
        engine.dispose()


@contextmanager
def _connected(engine: Engine) -> Iterator[Connection]:
    """A connection; PostgreSQL's refusals become ConfigError (fix the role, its password
    file or the url: exit 78) and an unreachable server StorageUnavailable (exit 74)."""
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        if not storage_failure(exc):
            raise
        text_ = driver_said(exc)
        reason = text_.rpartition(" failed: ")[2] or text_  # libpq's own words, at the end
        if any(words in reason for words in _REFUSED_LOGIN):
            raise ConfigError(f"the database {_where(engine)} refused mailflow: {reason} (check "
                              "[database] url, the role and its password file)") from exc
        raise StorageUnavailable(f"cannot reach the database {_where(engine)}: {reason}") from exc
    with conn:
        yield conn


# libpq's words when the server answers but will not let mailflow in: a configuration matter.
_REFUSED_LOGIN = ("password authentication failed", "no password supplied", "does not exist",
                  "pg_hba.conf", "permission denied", "authentication failed")


def _sqlite_for_migrations(dbapi_conn: Any, _record: Any) -> None:
    # The sqlite3 module begins transactions by itself only before INSERT/UPDATE/DELETE,
    # so DDL would commit statement by statement; mailflow begins them itself instead.
    dbapi_conn.isolation_level = None
    # Batch migrations rebuild tables; with foreign keys on, dropping the old table would
    # cascade or fail. SQLite's procedure: off, change, foreign_key_check, commit.
    dbapi_conn.execute("PRAGMA foreign_keys=OFF")


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return  # PostgreSQL checks them as it goes
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent = broken[0][0], broken[0][1], broken[0][2]
        raise MailflowError(
            f"the upgrade would leave {len(broken)} row(s) pointing at missing rows (first: "
            f"{table} row {rowid} -> {parent}); nothing was changed. Report this with the "
            "output of `mailflow db current`")


def _copy_aside(conn: Connection, before: Status) -> Path | None:
    """Copy the SQLite file next to itself, consistently, before anything changes."""
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or database == ":memory:":
        log.warning("no copy made before upgrading %s: back it up yourself", before.where)
        return None
    source = Path(database).resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(
        f"{source.name}.before-upgrade-from-{before.revision or before.kind}-{stamp}")
    try:
        # Created exclusively with the database's permissions (mailflow.store.backup); this
        # transaction holds the write lock, so the copy is exactly the state upgraded.
        copy_sqlite(source, target, mode=stat.S_IMODE(source.stat().st_mode))
    except (OSError, sqlite3.Error) as exc:
        raise StorageUnavailable(
            f"could not copy the database to {target} before upgrading ({exc}); "
            "nothing was changed") from exc
    log.info("copied the database before upgrading to %s", target)
    return target


def _status_at_head(conn: Connection, where: str) -> Status | None:
    """Status "head" without Alembic when the database is plainly there; None otherwise."""
    top = plain_head(MIGRATIONS / "versions")
    if top is None or not inspect(conn).has_table("alembic_version"):
        return None
    found = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if found != [top]:
        return None
    return Status("head", top, top, where, copied=conn.dialect.name == "sqlite")


def _status(conn: Connection, where: str) -> Status:
    # Tables, then revision: another instance's creation commits both at once, and read the
    # other way round it could land between them ("made before migrations", exit 78).
    tables = frozenset(inspect(conn).get_table_names())
    revision = _revision(conn)
    top = head()
    copied = conn.dialect.name == "sqlite"
    if revision is not None:
        if revision == top:
            return Status("head", revision, top, where, copied=copied)
        known = {script.revision for script in _scripts().walk_revisions()}
        return Status("behind" if revision in known else "newer", revision, top, where,
                      copied=copied)
    ours = tables & BASELINE_TABLES
    if not ours:
        return Status("empty", None, top, where, copied=copied)
    if ours == BASELINE_TABLES:
        return Status("unversioned", None, top, where, copied=copied)
    return Status("foreign", None, top, where, ours, copied=copied)


def _revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) > 1:
        raise SchemaError(f"the database has several schema revisions ({', '.join(heads)}); "
                          "mailflow's history is linear: restore the copy made before upgrading")
    return heads[0] if heads else None


def _config(conn: Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    # configparser would read "%" in the path as interpolation.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = conn
    return cfg


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def _where(engine: Engine) -> str:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return str(url.database or ":memory:")
    return url.render_as_string(hide_password=True)
