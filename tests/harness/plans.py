"""The query plan of the very statement a store function sends (real SQLite or PostgreSQL).

Tests of the indexes that keep a question from reading a whole table (migrations 0013 to
0015) capture what the function sent, with its parameters as the driver got them, and ask
the database how it would run it: the plan is the engine's own, not our reading of the SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from mailflow.store.db import Session

T = TypeVar("T")


def asked(engine: Engine, ask: Callable[[Session], T], marker: str) -> tuple[T, str, Any]:
    """`ask`'s answer, and the one statement it sent that contains `marker` ("FROM outbox"),
    with its parameters."""
    answer, sent = sent_by(engine, ask)
    (statement, parameters), = [s for s in sent if marker in s[0]]
    return answer, statement, parameters


def sent_by(engine: Engine, ask: Callable[[Session], T]) -> tuple[T, list[tuple[str, Any]]]:
    """`ask`'s answer, and every statement it sent with its parameters, in order."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with Session(engine) as session:
            answer = ask(session)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return answer, sent


def plan(engine: Engine, statement: str, parameters: Any, *tables: str) -> str:
    """The engine's plan for the statement; on PostgreSQL after ANALYZE of `tables`, so that
    the planner knows their size."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
            cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(str(row) for row in cursor.fetchall())
    finally:
        raw.close()
