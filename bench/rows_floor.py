"""The floor under intake's speed: the CPU to write each complaint's rows and nothing else.

A ticket committed "with its acknowledgement and notification queued" (issue 10) is, at the
least, six rows: the ticket, its reporter, its first event, two outbox rows (each holding a
composed mail of some 4 KB), and the intake record of the message. This writes those rows for
`--complaints` complaints into mailflow's own schema (made by its migrations, with its SQLite
settings), the cheapest way the design card's stack offers: SQLAlchemy Core, one executemany
per table for each group of 100 complaints, one commit per group, the rows built before the
clock starts. No mail is fetched or parsed, no rule runs, nothing is composed.

With imap-tools' own rate r (which fetches and parses each message), a pass that did only
this could reach 1 / (1/r + rows per message): intake_bench.py prints that ceiling beside the
0.5 x target.

    .venv/bin/python bench/rows_floor.py --complaints 2000 [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GROUP = 100
_TABLES = ("ticket", "reporter", "ticket_event", "outbox", "outbox", "intake")
_MAIL = b"x" * 4096  # a composed acknowledgement or notification, about this size
_ID_BASE = 50_000_000  # above any id the intake pass before it may have used


def _value(column: Any, n: int, ticket_id: int) -> Any:
    """A value of the column's type; unique where the schema wants it (from `n`)."""
    if column.foreign_keys:
        return ticket_id
    enum = getattr(column.type, "enum", None)  # models.EnumValue: a vocabulary word
    if isinstance(enum, type) and issubclass(enum, Enum):
        return next(iter(enum))
    kind = getattr(column.type, "impl", column.type).python_type  # a TypeDecorator's own
    if kind is bool:
        return False
    if kind is int:
        return n
    if kind is datetime:
        return datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    if kind is date:
        return date(2026, 12, 8)
    if kind is bytes:
        return _MAIL
    return f"floor-{column.name}-{n}"


def _rows(tables: dict[str, Any], first: int, count: int) -> list[tuple[Any, list[dict[str, Any]]]]:
    """One group's rows, table by table, as mailflow writes them (two outbox rows a ticket)."""
    done = []
    for index, name in enumerate(_TABLES):
        table = tables[name]
        rows = []
        for n in range(first, first + count):
            ticket_id = _ID_BASE + n
            row_n = n * len(_TABLES) + index  # distinct across the two outbox rows
            row = {c.name: _value(c, row_n, ticket_id) for c in table.columns
                   if not c.nullable or c.foreign_keys}
            row["id"] = ticket_id if name == "ticket" else _ID_BASE * 2 + row_n
            rows.append(row)
        done.append((table, rows))
    return done


def rows_floor(database_url: str, complaints: int) -> dict[str, float]:
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    import mailflow.store.models  # noqa: F401 - the tables, whether or not a migration runs
    from mailflow.store.migrate import open_database

    with tempfile.TemporaryDirectory(prefix="mailflow-floor-") as tmp:
        engine = open_database(database_url or f"sqlite:///{tmp}/floor.db")
        try:
            tables = dict(SQLModel.metadata.tables)
            groups = [_rows(tables, first, min(GROUP, complaints - first))
                      for first in range(0, complaints, GROUP)]
            cpu, wall = time.process_time(), time.perf_counter()
            for group in groups:
                with engine.begin() as connection:
                    for table, rows in group:
                        connection.execute(insert(table), rows)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            engine.dispose()
    return {"complaints": complaints, "cpu_us_per_complaint": cpu / complaints * 1e6,
            "wall_us_per_complaint": wall / complaints * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=2000)
    parser.add_argument("--database-url", default="",
                        help="a database at mailflow's schema (default a fresh SQLite file)")
    args = parser.parse_args()
    print(json.dumps(rows_floor(args.database_url, args.complaints)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
