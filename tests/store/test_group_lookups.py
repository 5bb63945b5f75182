"""A group's "may this be known?" in one query each (store/group_lookups.py): a key is named
exactly when the per-message lookups it stands in for would find a ticket, in any village's
own tickets only, and the list may be longer than one statement's limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from mailflow.store import queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.group_lookups import known_contents, known_message_keys
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord, Ticket
from mailflow.store.scope import ticket_key
from mailflow.vocabulary import IntakeOutcome, Status
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)


def _ticket(session: Session, number: str, message_key: str, content: str | None = None,
            created: datetime = NOW) -> Ticket:
    ticket = Ticket(number=number, status=Status.DITERIMA, received_at=created,
                    due_date=date(2026, 12, 8), subject="Pengaduan Masyarakat",
                    description="jalan rusak", message_key=message_key, content_key=content,
                    created_at=created)
    session.add(ticket)
    session.flush()
    return ticket


def _reply(session: Session, ticket: Ticket, key: str, decision: IntakeOutcome, uid: int) -> None:
    session.add(IntakeRecord(mailbox="m", uidvalidity=1, uid=uid, message_key=key,
                             decision=decision, reason="", ticket_id=ticket.id, created_at=NOW))


def test_known_keys_are_exactly_what_the_lookups_per_message_find(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        old = _ticket(session, "ADU-2026-00001", "mid:<lama@warga>")  # before migration 0012
        _ticket(session, "ADU-2026-00002", ticket_key("ADU", "mid:<baru@warga>"))
        other = _ticket(session, "TGL-2026-00001", ticket_key("TGL", "mid:<tegal@warga>"))
        _reply(session, old, "mid:<balasan@warga>", IntakeOutcome.REPLY, 1)
        _reply(session, old, "mid:<staf@desa>", IntakeOutcome.STAFF, 2)
        _reply(session, old, "mid:<abaikan@warga>", IntakeOutcome.IGNORED, 3)
        _reply(session, other, "mid:<balasan-tegal@warga>", IntakeOutcome.REPLY, 4)
        asked = ["mid:<lama@warga>", "mid:<baru@warga>", "mid:<tegal@warga>",
                 "mid:<balasan@warga>", "mid:<staf@desa>", "mid:<abaikan@warga>",
                 "mid:<balasan-tegal@warga>", "mid:<baru-sekali@warga>",
                 *(f"mid:<isi-{n}@warga>" for n in range(1200))]  # over one IN list

        found = known_message_keys(session, "ADU", asked)

        one_by_one = {key for key in asked if queries.ticket_by_key(session, key, "ADU")
                      or queries.ticket_of_taken_reply(session, key, "ADU")}
        assert found == one_by_one == {"mid:<lama@warga>", "mid:<baru@warga>",
                                       "mid:<balasan@warga>", "mid:<staf@desa>"}
        assert known_message_keys(session, "TGL", asked) == {"mid:<tegal@warga>",
                                                             "mid:<balasan-tegal@warga>"}
    engine.dispose()


def test_known_contents_are_the_villages_own_within_the_window(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    since = NOW - timedelta(hours=24)
    with transaction(engine) as session:
        _ticket(session, "ADU-2026-00001", "mid:<a@w>", "content:baru", NOW - timedelta(hours=1))
        _ticket(session, "ADU-2026-00002", "mid:<b@w>", "content:lama", NOW - timedelta(hours=30))
        _ticket(session, "TGL-2026-00001", "mid:<c@w>", "content:tegal", NOW)
        asked = ["content:baru", "content:lama", "content:tegal", "content:tidak-ada"]

        found = known_contents(session, "ADU", asked, since)

        one_by_one = {key for key in asked
                      if queries.first_ticket_with_content(session, key, since, "ADU")}
        assert found == one_by_one == {"content:baru"}
    engine.dispose()
