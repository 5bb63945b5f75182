"""Ticket numbers in an intake group (store/intake_queries.next_ticket_number): the counter
is read once per transaction and counted up in memory, yet every number is given once, also
after a message's savepoint was rolled back, and the count is what the database keeps."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from mailflow.store import intake_queries, queries
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
            given.append(intake_queries.next_ticket_number(session, "ADU", 2026))
        with session.begin_nested():
            given.append(intake_queries.next_ticket_number(session, "ADU", 2026))
        try:
            with session.begin_nested():
                given.append(intake_queries.next_ticket_number(session, "ADU", 2026))
                session.flush()
                raise RuntimeError("the message failed")
        except RuntimeError:
            pass
        with session.begin_nested():
            given.append(intake_queries.next_ticket_number(session, "ADU", 2026))
    assert given == [1, 2, 3, 3]  # the rolled-back 3 was never kept, so it is given again
    with transaction(engine) as session:  # the next group, and the old query, go on from there
        assert intake_queries.next_ticket_number(session, "ADU", 2026) == 4
        assert queries.next_ticket_number_seq(session, "ADU", 2026) == 5
    with Session(engine) as session:
        counter = session.get(TicketCounter, ("ADU", 2026))
        assert counter is not None and counter.last == 5
    engine.dispose()


def test_the_counter_is_read_once_per_group_however_often_it_is_flushed(tmp_path: Path) -> None:
    # The identity map holds objects weakly: a flushed counter nobody refers to is dropped
    # from it, and each ticket read it again (1,667 SELECTs for 1,667 tickets in the bench).
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "ticket_counter" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    with transaction(engine) as session:
        session.add(TicketCounter(scope="ADU", year=2026, last=0))
        session.flush()
        session.expunge_all()
        numbers = []
        for _ in range(5):
            with session.begin_nested():
                numbers.append(intake_queries.next_ticket_number(session, "ADU", 2026))
                session.flush()
            gc.collect()
    assert numbers == [1, 2, 3, 4, 5]
    assert len(reads) == 1, reads
    engine.dispose()
