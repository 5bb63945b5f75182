"""Queries over lists whose length a message or a backlog chooses never fail (real SQLite).

SQLite refuses a statement with more variables than its limit (32,766 by default,
250,000 in Debian's build); before these lists were bounded, a References header of
260,000 ids raised "too many SQL variables", and so would a large enough backlog of
records to mark. The test engine lowers the limit to SQLite's historical 999, so that a
few thousand values show what a few hundred thousand would do anywhere.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.store import queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord, OutboxMessage, Ticket
from mailflow.vocabulary import IntakeOutcome, OutboxKind, Status
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
VARIABLE_LIMIT = 999
MANY = 3 * VARIABLE_LIMIT


def _low_limit(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, VARIABLE_LIMIT)


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    if engine.dialect.name == "sqlite":  # PostgreSQL's limit is psycopg's 65,535 parameters
        event.listen(engine, "connect", _low_limit)
    prepare(engine)
    return engine


def _ticket(session: Session, number: str, source: str) -> Ticket:
    ticket = Ticket(number=number, status=Status.DITERIMA, received_at=NOW, due_date=date(2026, 12, 8),
                    subject="Pengaduan Masyarakat", description="jalan rusak",
                    source_message_id=source, message_key=f"mid:{source}", created_at=NOW)
    session.add(ticket)
    session.flush()
    return ticket


def test_a_reference_lookup_over_any_number_of_ids_finds_the_ticket(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with transaction(engine) as session:
        ours = _ticket(session, "ADU-2026-00001", "<keluhan@warga.example>")
        session.add(OutboxMessage(ticket_id=ours.id, kind=OutboxKind.ACK, message_id="<ack@desa>",
                                  recipient="siti@warga.example", raw=b"x", next_attempt_at=NOW,
                                  created_at=NOW))
        other = _ticket(session, "ADU-2026-00002", "<lain@warga.example>")
        elsewhere = _ticket(session, "TGL-2026-00001", "<tegal@warga.example>")
    junk = [f"<banjir-{n}@spam.example>" for n in range(MANY)]

    with Session(engine) as session:
        by_ack = queries.ticket_by_reference(session, [*junk, "<ack@desa>"], "ADU")
        by_source = queries.ticket_by_reference(session, [*junk, "<lain@warga.example>"], "ADU")
        nothing = queries.ticket_by_reference(session, junk, "ADU")
        # Another village's ticket is found by its own village only.
        not_ours = queries.ticket_by_reference(session, ["<tegal@warga.example>"], "ADU")
        theirs = queries.ticket_by_reference(session, ["<tegal@warga.example>"], "TGL")

    assert by_ack is not None and by_ack.id == ours.id
    assert by_source is not None and by_source.id == other.id
    assert nothing is None
    assert not_ours is None and theirs is not None and theirs.id == elsewhere.id


def test_a_backlog_of_any_size_is_marked(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with transaction(engine) as session:
        session.execute(insert(IntakeRecord), [
            {"mailbox": "inbox", "uidvalidity": 1, "uid": uid, "message_key": f"uid:{uid}",
             "decision": IntakeOutcome.IGNORED, "created_at": NOW} for uid in range(1, MANY + 1)])
    with Session(engine) as session:
        ids = [row for row in session.exec(select(IntakeRecord.id)).all() if row is not None]

    queries.set_marked(engine, ids)

    with Session(engine) as session:
        marked = session.exec(select(IntakeRecord.marked)).all()
    assert len(marked) == MANY and all(marked)
