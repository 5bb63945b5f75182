"""The rows of an intake group's plain new complaints, written together, once per table.

Each new ticket costs six INSERTs and an UPDATE of the village's counter, and its message a
SAVEPOINT and its RELEASE: some 35 % of a complaint's intake went to those round trips
(issue 10). A complaint that needs nothing read from the database (no thread, no command,
no repeat: runners/intake_batch.py decides which) has them kept here instead, and the
group's transaction gets them as one executemany per table just before it commits, or
before anything reads the database in between (a mail limit's count, the next message
that is not plain): a read never misses a row kept here.

Each message is still all-or-nothing without a savepoint: its rows join here only as its
handling goes on, between `begin_message` and `end_message`, and `drop_message` forgets them
(and gives its ticket number back, as a rolled-back savepoint gives back its counter's
UPDATE). A read in the middle of a message writes only what the messages before it kept.
Ticket ids are taken ahead: on SQLite the next after the table's largest, under the group's
write lock; on PostgreSQL from the table's own sequence, a batch at a time. A write of the
kept rows that fails for a reason not of the environment's raises `GroupRowsFailed`: the group
is rolled back and taken again message by message, each in its savepoint, where the one at
fault is quarantined alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import Insert, bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, SQLModel

from mailflow.errors import TransientError
from mailflow.store.db import outage_as_unavailable
from mailflow.store.models import Ticket, TicketCounter

__all__ = ["GroupRows", "GroupRowsFailed", "buffering", "insert_into", "kept_by"]

# Written in this order: each table after those its rows point to.
_TABLES = ("ticket", "reporter", "attachment", "ticket_event", "outbox", "intake")
_KEY = "mailflow.group_rows"  # where a session holds its GroupRows while it keeps rows

_COUNTER = TicketCounter.__table__  # type: ignore[attr-defined]
# Reads the counter and locks its row until the transaction ends (PostgreSQL), as the
# one-by-one UPDATE ... RETURNING did; SQLite's writer already holds the database.
_READ_COUNTER = update(_COUNTER).where(
    _COUNTER.c.scope == bindparam("b_scope"), _COUNTER.c.year == bindparam("b_year"),
).values(last=_COUNTER.c.last).returning(_COUNTER.c.last)
_SET_COUNTER = update(_COUNTER).where(
    _COUNTER.c.scope == bindparam("b_scope"), _COUNTER.c.year == bindparam("b_year"),
).values(last=bindparam("b_last"))
_TICKET = Ticket.__table__  # type: ignore[attr-defined]
_PG_TICKET_IDS = text("SELECT nextval(pg_get_serial_sequence('ticket', 'id')) "
                      "FROM generate_series(1, :n)")


class GroupRowsFailed(Exception):
    """The kept rows could not be written, not for the environment's sake (a constraint, a
    value the database refuses): the group is taken again message by message."""


@dataclass(frozen=True)
class Mark:
    """Where a message began: each table's count of rows, the numbers given, the next id."""

    sizes: tuple[int, ...]
    numbers: tuple[tuple[tuple[str, int], int], ...]
    next_id: int | None


class GroupRows:
    def __init__(self, expected_tickets: int = 1) -> None:
        """`expected_tickets`: how many ids to take from a PostgreSQL sequence at once."""
        self._rows: dict[str, list[dict[str, Any]]] = {table: [] for table in _TABLES}
        self._numbers: dict[tuple[str, int], int] = {}  # (scope, year) -> last number given
        self._read: dict[tuple[str, int], int] = {}  # ... and what the database said
        self._next_id: int | None = None  # SQLite: the next ticket id to give
        self._ids: list[int] = []  # PostgreSQL: ids taken from the sequence, not yet given
        self._expected = max(1, expected_tickets)
        self._open: Mark | None = None  # where the message being taken began

    def __bool__(self) -> bool:
        return any(self._rows.values()) or self._numbers != self._read

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        self._rows[table].extend(rows)

    def begin_message(self) -> None:
        """What is kept from now on is one message's, until `end_message` or `drop_message`."""
        self._open = Mark(tuple(len(self._rows[t]) for t in _TABLES),
                          tuple(self._numbers.items()), self._next_id)

    def end_message(self) -> None:
        self._open = None

    def drop_message(self) -> None:
        """Forget what the open message kept: its rows, its number (given again), its id."""
        mark, self._open = self._open, None
        if mark is None:
            return
        for table, size in zip(_TABLES, mark.sizes, strict=True):
            del self._rows[table][size:]
        before = dict(mark.numbers)
        for key in self._numbers:  # a year first asked for since the mark: as it was read
            self._numbers[key] = before.get(key, self._read[key])
        self._next_id = mark.next_id

    def ticket_number(self, session: Session, scope: str, year: int) -> int:
        """The village's next number in `year` (store/queries.py next_ticket_number_seq)."""
        key = (scope, year)
        if key not in self._numbers:
            conn = session.connection()
            last = conn.execute(_READ_COUNTER, {"b_scope": scope, "b_year": year}).scalar()
            if last is None:
                # A year's first number: the row is made now, as next_ticket_number_seq
                # would (a second process making it at the same moment fails on its key).
                conn.execute(insert(_COUNTER).values(scope=scope, year=year, last=0))
                last = 0
            self._numbers[key] = self._read[key] = int(last)
        self._numbers[key] += 1
        return self._numbers[key]

    def ticket_id(self, session: Session) -> int:
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            if not self._ids:
                found = conn.execute(_PG_TICKET_IDS, {"n": self._expected}).scalars()
                self._ids = [int(value) for value in found]
            return self._ids.pop(0)
        if self._next_id is None:
            largest = conn.execute(select(func.max(_TICKET.c.id))).scalar()
            self._next_id = int(largest or 0) + 1
        given, self._next_id = self._next_id, self._next_id + 1
        return given

    def flush(self, session: Session) -> None:
        """Write what is kept, in the session's transaction. Within a message (a read while it
        is taken), only what the messages before it kept: its own rows stay kept, so that its
        failure still takes them back."""
        mark = self._open
        if mark is None:
            sizes = tuple(len(self._rows[t]) for t in _TABLES)
            numbers = dict(self._numbers)
        else:
            sizes, numbers = mark.sizes, dict(mark.numbers)
        changed = {key: last for key, last in numbers.items() if last != self._read.get(key)}
        if any(sizes) or changed:
            self._write(session, sizes, changed)
            for table, size in zip(_TABLES, sizes, strict=True):
                del self._rows[table][:size]
            self._read.update(changed)
        if mark is not None:
            # The open message's rows are all that is left; its number and id stay its own.
            self._open = Mark((0,) * len(_TABLES), mark.numbers, mark.next_id)
            return
        # Read again at the next number or id asked for, also when nothing was written (a
        # dropped message's number was read): a message taken one by one in between may take
        # some. The sequence's ids not given are left unused, so that ids keep following the
        # order tickets are made in.
        self._numbers.clear()
        self._read.clear()
        self._next_id = None
        self._ids.clear()

    def _write(self, session: Session, sizes: tuple[int, ...],
               counters: dict[tuple[str, int], int]) -> None:
        conn = session.connection()
        try:
            with outage_as_unavailable():
                for table, size in zip(_TABLES, sizes, strict=True):
                    statement = insert_into(table)
                    # One executemany per run of rows with the same columns (all of them, as
                    # the writers give every column; in order, which events of one moment
                    # rely on).
                    for _, same in groupby(self._rows[table][:size], key=_columns):
                        conn.execute(statement, list(same))
                for (scope, year), last in counters.items():
                    conn.execute(_SET_COUNTER,
                                 {"b_scope": scope, "b_year": year, "b_last": last})
        except TransientError:
            raise  # the database or the disk, or the lease lost: not the rows' fault
        except Exception as exc:
            raise GroupRowsFailed(f"{type(exc).__name__} writing the group's rows") from exc


@cache
def insert_into(table: str) -> Insert:
    """The INSERT of every row of `table` the hot path writes, built once (its compiled form
    is SQLAlchemy's to keep)."""
    return insert(SQLModel.metadata.tables[table])


def _columns(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(row)


def kept_by(session: Session) -> GroupRows | None:
    """The GroupRows keeping `session`'s new rows, if it keeps them now."""
    found = session.info.get(_KEY)
    return found if isinstance(found, GroupRows) else None


@contextmanager
def buffering(session: Session, rows: GroupRows) -> Iterator[None]:
    """Within: the hot path's writers (store/intake_queries.py, queries.py) keep their rows
    in `rows` instead of writing them."""
    session.info[_KEY] = rows
    try:
        yield
    finally:
        session.info.pop(_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _written_before_reading(state: ORMExecuteState) -> None:
    """Every ORM statement of a session that keeps rows first writes them: a read never
    misses a kept row (a mail limit's count), and a write never precedes the rows it needs."""
    rows = kept_by(state.session)  # type: ignore[arg-type]
    if rows:
        rows.flush(state.session)  # type: ignore[arg-type]
