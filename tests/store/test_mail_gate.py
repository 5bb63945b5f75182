"""The mail gate (runners/mail_gate.py) writes a message's outbox rows together, and what it
reads of the outbox meanwhile sees the rows it has not written yet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.compose.mime import composer_for
from mailflow.core.notices import Outgoing
from mailflow.runners.mail_gate import MailGate
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url
from tests.unit.plan_support import SEKDES, SITI, config

NOW = datetime(2026, 11, 30, 3, tzinfo=UTC)


def _ack(n: int) -> Outgoing:
    return Outgoing(OutboxKind.ACK, SITI, f"Pengaduan {n}", "notice",
                    {"greeting": "Bapak/Ibu", "paragraphs": [f"pesan {n}"],
                     "village": "Desa Klero"})


def _gate(tmp_path: Path, **limits: int) -> tuple[Engine, MailGate, list[bool]]:
    """A database, the gate, and whether each INSERT into the outbox was an executemany."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    cfg = config(limits=limits) if limits else config()
    inserts: list[bool] = []

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any,
              executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(executemany)

    event.listen(engine, "before_cursor_execute", count)
    return engine, MailGate(cfg, composer_for(cfg)), inserts


def _outbox(engine: Engine) -> list[tuple[OutboxKind, str]]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.kind, row.recipient) for row in rows]


def test_a_tickets_mail_is_written_in_one_statement(tmp_path: Path) -> None:
    engine, gate, inserts = _gate(tmp_path)
    notify = Outgoing(OutboxKind.NOTIFY, SEKDES, "Tiket baru", "notice", _ack(0).context)
    with transaction(engine) as session:
        gate.prefetch(session, [SITI, SEKDES], NOW)  # as an intake group does at its start
        assert gate.queue(session, None, [_ack(1), notify], NOW) == []
    assert _outbox(engine) == [(OutboxKind.ACK, SITI), (OutboxKind.NOTIFY, SEKDES)]
    assert inserts == [True]  # one executemany of both rows
    engine.dispose()


def test_a_limit_notice_queued_but_not_yet_written_is_seen_so_it_goes_once(
        tmp_path: Path) -> None:
    engine, gate, _ = _gate(tmp_path, resident_per_hour=1)
    with transaction(engine) as session:
        # Three mails to one resident whose limit is one an hour: the first goes, the second
        # and third are withheld, and the verifier hears of it once (the notice the second
        # queued is seen, though not yet written, when the third asks).
        withheld = gate.queue(session, None, [_ack(1), _ack(2), _ack(3)], NOW)
    assert len(withheld) == 2
    assert _outbox(engine) == [(OutboxKind.ACK, SITI), (OutboxKind.STAFF_NOTE, SEKDES)]
    engine.dispose()
