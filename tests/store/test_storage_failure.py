"""Which database errors are the environment's fault (retry later) and which the message's."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from mailflow.store.db import storage_failure


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
