"""The intake records the hot path writes by a Core INSERT (store/intake_queries.py) pass
through the lease fence like the ORM's: refused once the lease is lost, and rolled back
with the message's savepoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailflow.core.lease import LeaseRules
from mailflow.store import intake_queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.lease import Lease, LeaseLost, install_fence
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MAILBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"


def _record(session: Session, uid: int) -> None:
    intake_queries.add_intake_record(session, mailbox=MAILBOX, uidvalidity=1, uid=uid,
                                     message_key=f"k{uid}", decision=IntakeOutcome.IGNORED,
                                     created_at=NOW)


def test_core_intake_rows_are_fenced_and_roll_back_with_their_savepoint(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    prepare(engine)
    a = Lease(engine, MAILBOX, "a", LeaseRules(15, 5))
    b = Lease(make_engine(str(engine.url)), MAILBOX, "b", LeaseRules(15, 5))
    install_fence(engine, {MAILBOX: a}, lambda: NOW)
    assert a.take(NOW).held
    with transaction(engine) as session:
        _record(session, 1)
        with pytest.raises(RuntimeError), session.begin_nested():
            _record(session, 2)
            raise RuntimeError("the message failed")
    assert b.take(NOW + timedelta(seconds=100)).held  # a stalls; b takes over
    with pytest.raises(LeaseLost), transaction(engine) as session:
        _record(session, 3)
    with Session(engine) as session:
        assert sorted(session.exec(select(IntakeRecord.uid)).all()) == [1]
        record = session.exec(select(IntakeRecord)).one()
        assert record.marked is False and record.reason == "" and record.ticket_id is None
    engine.dispose()
