"""Migration 0012: each village's ticket sequence carries over from the numbers it gave."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlmodel import Session

from mailflow.store import migrate, queries
from mailflow.store.db import make_engine
from tests.harness.revisions import upgrade_to

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "db-v0.1.0.sqlite3"


def _to(path: Path, revision: str) -> None:
    upgrade_to(f"sqlite:///{path}", revision)


def _next(path: Path, scope: str, year: int) -> int:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            return queries.next_ticket_number_seq(session, scope, year)
    finally:
        engine.dispose()


def _sql(path: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(statement, args).fetchall()


def test_a_single_villages_sequence_goes_on_where_it_was(tmp_path: Path) -> None:
    path = tmp_path / "mailflow.sqlite3"
    shutil.copyfile(FIXTURE, path)  # tickets ADU-2026-00001..3, counter (2026, 3)
    migrate.upgrade(f"sqlite:///{path}")
    assert _sql(path, "SELECT scope, year, last FROM ticket_counter") == [("ADU", 2026, 3)]
    assert _next(path, "ADU", 2026) == 4
    assert _next(path, "KLR", 2026) == 1  # a new village starts its own sequence


def test_several_prefixes_each_keep_their_highest_number(tmp_path: Path) -> None:
    path = tmp_path / "mailflow.sqlite3"
    shutil.copyfile(FIXTURE, path)
    migrate.upgrade(f"sqlite:///{path}")
    _sql(path, "UPDATE alembic_version SET version_num = '0011'")
    # Back to the 0011 shape with two villages' numbers in it (a prefix changed once).
    _sql(path, "DROP TABLE ticket_counter")
    _sql(path, "CREATE TABLE ticket_counter (year INTEGER NOT NULL PRIMARY KEY, last INTEGER NOT NULL)")
    _sql(path, "INSERT INTO ticket_counter VALUES (2026, 9)")
    _sql(path, "ALTER TABLE outbox DROP COLUMN scope")
    _sql(path, "UPDATE ticket SET number = 'LAMA-2025-00007' WHERE id = 1")
    _to(path, "0012")
    assert sorted(_sql(path, "SELECT scope, year, last FROM ticket_counter")) == [
        ("ADU", 2026, 3), ("LAMA", 2025, 7)]
    assert _next(path, "LAMA", 2025) == 8
