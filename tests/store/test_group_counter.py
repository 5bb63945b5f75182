"""Ticket numbers in an intake group (store/intake_queries.next_ticket_number): the counter
is read once per transaction and counted up in memory, yet every number is given once, also
after a message's savepoint was rolled back, and the count is what the database keeps."""

from __future__ import annotations

from pathlib import Path

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
