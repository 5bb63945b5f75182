"""Which database errors are the environment's fault (retry later) and which the message's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from mailflow.store.db import make_engine, storage_failure
from tests.harness.postgres import store_url


def _sqlite(message: str) -> OperationalError:
    return OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize("message", [
    "database is locked", "disk I/O error", "database or disk is full",
    "attempt to write a readonly database", "unable to open database file",
])
def test_sqlite_environment_failures_are_storage_failures(message: str) -> None:
    assert storage_failure(_sqlite(message))


def test_a_query_a_message_made_too_big_is_the_messages_fault() -> None:
    assert not storage_failure(_sqlite("too many SQL variables"))


def test_other_errors_are_not_storage_failures() -> None:
    assert not storage_failure(ValueError("bad header"))
    assert not storage_failure(IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE")))


def test_a_failed_statement_never_quotes_its_parameters(tmp_path: Path) -> None:
    """A new ticket's parameters are its reporter's name, NIK, phone and address, and the error
    of a database that fails mid-insert is logged ("storage unavailable ... database: ...").
    Without hide_parameters SQLAlchemy's message ends with "[parameters: ('Budi Santoso', ...)]"."""
    engine = make_engine(store_url(tmp_path))
    try:
        with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
            conn.execute(text("INSERT INTO no_such_table (name, nik) VALUES (:name, :nik)"),
                         {"name": "Budi Santoso", "nik": "3322011203850001"})
    finally:
        engine.dispose()
    said = str(caught.value)
    assert "no_such_table" in said and "parameters hidden" in said
    assert "Budi" not in said and "3322011203850001" not in said
