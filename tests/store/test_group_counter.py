"""Ticket numbers in an intake group (store/queries.next_ticket_number_seq): one UPDATE ...
RETURNING a number, every number given once, also after a message's savepoint was rolled
back, and the count is what the database keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from mailflow.store import queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import TicketCounter
from tests.harness.postgres import store_url


def test_numbers_in_a_group_are_consecutive_and_a_rolled_back_one_is_given_again(
        tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    given: list[int] = []
    with transaction(engine) as session:
        with session.begin_nested():
            given.append(queries.next_ticket_number_seq(session, "ADU", 2026))
        with session.begin_nested():
            given.append(queries.next_ticket_number_seq(session, "ADU", 2026))
        try:
            with session.begin_nested():
                given.append(queries.next_ticket_number_seq(session, "ADU", 2026))
                session.flush()
                raise RuntimeError("the message failed")
        except RuntimeError:
            pass
        with session.begin_nested():
            given.append(queries.next_ticket_number_seq(session, "ADU", 2026))
    assert given == [1, 2, 3, 3]  # the rolled-back 3 was never kept, so it is given again
    with transaction(engine) as session:  # the next group, and the old query, go on from there
        assert queries.next_ticket_number_seq(session, "ADU", 2026) == 4
        assert queries.next_ticket_number_seq(session, "ADU", 2026) == 5
    with Session(engine) as session:
        counter = session.get(TicketCounter, ("ADU", 2026))
        assert counter is not None and counter.last == 5
    engine.dispose()


def test_a_number_is_one_statement_and_the_counter_is_never_read_apart(tmp_path: Path) -> None:
    # The ORM's way read the row, then flushed an UPDATE with the message's savepoint: a
    # sixteenth of a ticket's cost in the intake bench. One UPDATE ... RETURNING now.
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "ticket_counter" in statement:
            statements.append(statement.lstrip().split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    with transaction(engine) as session:
        numbers = []
        for _ in range(5):
            with session.begin_nested():
                numbers.append(queries.next_ticket_number_seq(session, "ADU", 2026))
        numbers.append(queries.next_ticket_number_seq(session, "ADU", 2027))
    assert numbers == [1, 2, 3, 4, 5, 1]
    # The year's first: an UPDATE that finds no row, then the INSERT; then one UPDATE each.
    assert statements == ["UPDATE", "INSERT", *["UPDATE"] * 4, "UPDATE", "INSERT"]
    engine.dispose()
