"""Schema migrations on real SQLite files: creating, refusing, upgrading, and no drift.

`future` below copies the real migrations directory and adds a revision on top of head
in the copy, so that upgrades over a schema change (a batch rebuild of `ticket`, which
other tables reference) and a revision that fails are exercised whatever the real
revisions are. No test names the head revision: adding one needs no test changes.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from mailflow.cli import main
from mailflow.demo.mail import to_toml
from mailflow.errors import MailflowError, SchemaError
from mailflow.store import migrate
from mailflow.store.db import make_engine
from mailflow.store.models import Reporter, Ticket, TicketEvent
from tests.harness.revisions import upgrade_to

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "db-v0.1.0.sqlite3"
MINIMAL_CONFIG: dict[str, Any] = {
    "village": {"name": "Desa Klero"},
    "imap": {"host": "127.0.0.1", "username": "desa", "password": "x", "security": "plain"},
    "smtp": {"host": "127.0.0.1", "from_address": "pengaduan@klero.desa.id", "security": "plain"},
    "staff": [{"email": "sekdes@klero.desa.id", "name": "Sekdes", "roles": ["verifikator"]}],
}
BACKUP_NAME = re.compile(r"mailflow\.sqlite3\.before-upgrade-from-(?P<rev>[\w]+)-\d{8}T\d{6}Z$")


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _engine(path: Path, engines: list[Engine]) -> Engine:
    engine = make_engine(_url(path))
    engines.append(engine)
    return engine


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _old_database(tmp_path: Path) -> Path:
    """A copy of the database mailflow 0.1.0 made (tests/fixtures/README.md)."""
    path = tmp_path / "mailflow.sqlite3"
    shutil.copyfile(FIXTURE, path)
    return path


def _query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _tables(path: Path) -> set[str]:
    return {name for (name,) in _query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def _schema(path: Path) -> dict[str, str]:
    """Every table and index as SQLite stores its CREATE statement, by name."""
    rows = _query(path, "SELECT name, sql FROM sqlite_master "
                        "WHERE sql IS NOT NULL AND name != 'alembic_version'")
    return dict(rows)


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table 0.1.0 had, in its columns, by table."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    for table in sorted(migrate.BASELINE_TABLES):
        columns = [c for (_, c, *_rest) in _query(FIXTURE, f"PRAGMA table_info({table})")]
        found[table] = _query(path, f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
    return found


def _stamp(path: Path, revision: str) -> None:
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _backups(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if ".before-upgrade-from-" in p.name)


# -- a brand-new database ------------------------------------------------------------------

def test_an_empty_database_is_created_at_head(tmp_path: Path, engines: list[Engine]) -> None:
    path = tmp_path / "mailflow.sqlite3"
    engine = _engine(path, engines)
    assert migrate.current(engine) is None
    assert migrate.status(engine).kind == "empty"

    migrate.prepare(engine)

    assert migrate.current(engine) == migrate.head()
    assert _tables(path) == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert _backups(tmp_path) == []  # nothing to copy
    migrate.prepare(engine)  # at head: a second start changes nothing
    assert migrate.current(engine) == migrate.head()


# SQLite's reflection cannot read an index on an expression, so autogenerate skips it (and
# says so): the test below reads that index's SQL itself; PostgreSQL compares it in full
# (tests/store/test_postgres.py).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_head_matches_the_models(tmp_path: Path, engines: list[Engine]) -> None:
    """Models and migrations cannot drift: autogenerate finds nothing to add, drop or alter."""
    engine = _engine(tmp_path / "mailflow.sqlite3", engines)
    migrate.prepare(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        made = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = "
                                    "'ix_outbox_recipient_day'").scalar_one()
    assert made == "CREATE INDEX ix_outbox_recipient_day ON outbox (lower(recipient), created_at)"


def test_baseline_is_exactly_the_schema_0_1_0_made(tmp_path: Path) -> None:
    """Stamping a pre-migration database 0001 is right only if 0001 builds the same schema."""
    path = tmp_path / "baseline.sqlite3"
    upgrade_to(_url(path), migrate.BASELINE)
    # Compared by name: create_all emits a table's indexes in no fixed order.
    assert _schema(path) == _schema(FIXTURE)


# -- what start-up refuses -------------------------------------------------------------------

def test_start_refuses_a_0_1_0_database_and_names_the_command(tmp_path: Path,
                                                               engines: list[Engine]) -> None:
    path = _old_database(tmp_path)
    engine = _engine(path, engines)
    assert migrate.status(engine).kind == "unversioned"

    with pytest.raises(SchemaError, match=r"before schema migrations; run `mailflow db upgrade`"):
        migrate.prepare(engine)

    assert "alembic_version" not in _tables(path)  # refused, not stamped or changed
    assert _rows(path) == _rows(FIXTURE)


def test_start_refuses_a_database_newer_than_this_mailflow(tmp_path: Path,
                                                           engines: list[Engine]) -> None:
    path = tmp_path / "mailflow.sqlite3"
    engine = _engine(path, engines)
    migrate.prepare(engine)
    _stamp(path, "9999")

    with pytest.raises(SchemaError, match=r"revision 9999, which is newer than this mailflow") as err:
        migrate.prepare(engine)
    assert "\n" not in str(err.value)
    assert "restore the copy made before that upgrade" in str(err.value)
    with pytest.raises(SchemaError, match="newer than this mailflow"):
        migrate.upgrade(_url(path))  # an older mailflow cannot upgrade it either
    assert migrate.current(engine) == "9999"
    assert _backups(tmp_path) == []


def test_start_refuses_a_database_with_only_some_of_the_tables(tmp_path: Path,
                                                               engines: list[Engine]) -> None:
    path = tmp_path / "mailflow.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE ticket (id INTEGER PRIMARY KEY)")
    engine = _engine(path, engines)

    with pytest.raises(SchemaError, match=r"some of mailflow's tables \(ticket\) but not all"):
        migrate.prepare(engine)
    with pytest.raises(SchemaError, match="not mailflow's database"):
        migrate.upgrade(_url(path))


# -- upgrading the database 0.1.0 made ------------------------------------------------------

def test_upgrade_keeps_every_row_of_a_0_1_0_database(tmp_path: Path, engines: list[Engine]) -> None:
    path = _old_database(tmp_path)

    done = migrate.upgrade(_url(path))

    assert done.before.kind == "unversioned"
    assert done.to_revision == migrate.head()
    engine = _engine(path, engines)
    assert migrate.current(engine) == migrate.head()
    migrate.prepare(engine)  # the service now starts on it
    assert _rows(path) == _rows(FIXTURE)
    # ... and today's models read what 0.1.0 wrote.
    with Session(engine) as session:
        tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        assert [t.number for t in tickets] == ["ADU-2026-00001", "ADU-2026-00002", "ADU-2026-00003"]
        assert [t.status for t in tickets] == ["diverifikasi", "perlu_data", "diterima"]
        assert all(t.received_at.tzinfo is UTC for t in tickets)
        assert len(session.exec(select(Reporter)).all()) == 3
        assert len(session.exec(select(TicketEvent)).all()) == 6


def test_upgrade_copies_the_database_aside_first(tmp_path: Path) -> None:
    path = _old_database(tmp_path)
    path.chmod(0o640)

    done = migrate.upgrade(_url(path))

    [backup] = _backups(tmp_path)
    assert done.backup == backup
    match = BACKUP_NAME.match(backup.name)
    assert match and match["rev"] == "unversioned"
    assert backup.stat().st_mode & 0o777 == 0o640  # it holds the same identities
    assert "alembic_version" not in _tables(backup)  # the state before the upgrade
    assert _rows(backup) == _rows(FIXTURE)
    assert _schema(backup) == _schema(FIXTURE)


def test_upgrade_at_head_changes_and_copies_nothing(tmp_path: Path) -> None:
    path = _old_database(tmp_path)
    migrate.upgrade(_url(path))
    [first] = _backups(tmp_path)

    again = migrate.upgrade(_url(path))

    assert not again.changed and again.backup is None
    assert _backups(tmp_path) == [first]


def test_a_failed_upgrade_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = _old_database(tmp_path)
    with closing(sqlite3.connect(path)) as conn, conn:  # foreign keys are off by default here
        conn.execute("INSERT INTO attachment (ticket_id, filename, content_type, size, sha256, path)"
                     " VALUES (999, 'x', 'text/plain', 0, '', 'x')")
    before = _rows(path)

    with pytest.raises(MailflowError, match=r"pointing at missing rows .*nothing was changed"):
        migrate.upgrade(_url(path))

    assert "alembic_version" not in _tables(path)  # the stamp was rolled back with the rest
    assert _rows(path) == before


# -- a later revision (written into a copy of the migrations directory) ---------------------

FUTURE_REVISION = '''"""Add ticket.category (a test's revision)."""

import sqlalchemy as sa
from alembic import op

revision = "future"
down_revision = "HEAD"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", recreate="always") as batch:
        batch.add_column(sa.Column("category", sa.String(), nullable=False, server_default="umum"))
    FAIL
'''


Rewrite = Callable[[str], None]


@pytest.fixture
def future(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rewrite:
    """Revision "future" on top of the real head; call it with a statement to run at its end."""
    base = migrate.head()
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))

    def write(fail: str) -> None:
        text = FUTURE_REVISION.replace("HEAD", base).replace("FAIL", fail)
        (scripts / "versions" / "future_category.py").write_text(text)

    write("")
    monkeypatch.setattr(migrate, "MIGRATIONS", scripts)
    return write


def _at_0001(tmp_path: Path) -> Path:
    path = _old_database(tmp_path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    return path


def test_start_refuses_a_database_behind_head(tmp_path: Path, future: Rewrite,
                                              engines: list[Engine]) -> None:
    path = _at_0001(tmp_path)
    engine = _engine(path, engines)
    assert migrate.head() == "future"

    with pytest.raises(SchemaError, match=r"revision 0001, this mailflow needs future; "
                                          r"run `mailflow db upgrade`"):
        migrate.prepare(engine)
    assert migrate.current(engine) == "0001"


def test_upgrade_rebuilds_a_referenced_table_and_keeps_the_rows(tmp_path: Path, future: Rewrite,
                                                                engines: list[Engine]) -> None:
    path = _at_0001(tmp_path)

    done = migrate.upgrade(_url(path))

    assert (done.before.revision, done.to_revision) == ("0001", "future")
    [backup] = _backups(tmp_path)
    assert BACKUP_NAME.match(backup.name)["rev"] == "0001"  # type: ignore[index]
    assert migrate.current(_engine(path, engines)) == "future"
    assert _rows(path) == _rows(FIXTURE)
    assert _query(path, "SELECT DISTINCT category FROM ticket") == [("umum",)]
    assert _query(path, "PRAGMA foreign_key_check") == []
    # The rebuilt ticket table is still what the other tables' foreign keys point at.
    assert ("ticket",) in _query(path, "SELECT \"table\" FROM pragma_foreign_key_list('reporter')")


def test_upgrade_from_0_1_0_stamps_the_baseline_then_upgrades(tmp_path: Path, future: Rewrite) -> None:
    path = _old_database(tmp_path)

    done = migrate.upgrade(_url(path))

    assert done.before.kind == "unversioned" and done.to_revision == "future"
    assert _query(path, "SELECT version_num FROM alembic_version") == [("future",)]
    assert _rows(path) == _rows(FIXTURE)


def test_a_revision_that_fails_half_way_changes_nothing(tmp_path: Path, future: Rewrite) -> None:
    future('raise RuntimeError("half way")')
    path = _at_0001(tmp_path)

    with pytest.raises(RuntimeError, match="half way"):
        migrate.upgrade(_url(path))

    columns = [c for (_, c, *_rest) in _query(path, "PRAGMA table_info(ticket)")]
    assert "category" not in columns  # the table rebuild was rolled back
    assert _query(path, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert _rows(path) == _rows(FIXTURE)


def test_db_upgrade_reports_a_failed_revision_with_exit_70(tmp_path: Path, future: Rewrite,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    future('raise RuntimeError("half way")')
    path = _at_0001(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(to_toml({**MINIMAL_CONFIG, "database": {"url": _url(path)}}))

    status = main(["--config", str(config), "db", "upgrade"])

    assert status == 70
    assert "the upgrade failed (RuntimeError: half way); nothing was changed" in capsys.readouterr().err
    assert _query(path, "SELECT version_num FROM alembic_version") == [("0001",)]


def test_a_postgresql_database_too_new_points_at_the_dump_not_a_copy() -> None:
    # No copy is made of a PostgreSQL database: its way back is the pg_dump the README asks for.
    newer = migrate.Status("newer", "9999", "0017", "postgresql://db/mailflow", copied=False)
    assert newer.problem().endswith("restore the pg_dump taken before that upgrade")
