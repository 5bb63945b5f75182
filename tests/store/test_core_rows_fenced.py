"""The intake records the hot path writes by a Core INSERT (store/intake_queries.py) pass
through the lease fence like the ORM's: refused once the lease is lost, and rolled back
with the message's savepoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.core.lease import LeaseRules
from mailflow.store import intake_queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.lease import Lease, LeaseLost, UnfencedWrite, install_fence
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.postgres import store_url

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


def _lost(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    lease = Lease(engine, MAILBOX, "a", LeaseRules(15, 5))
    install_fence(engine, {MAILBOX: lease}, lambda: NOW)
    assert lease.take(NOW).held
    assert Lease(engine, MAILBOX, "b", LeaseRules(15, 5)).take(NOW + timedelta(seconds=16)).held
    return engine


def _row(uid: int) -> dict[str, object]:
    return {"mailbox": MAILBOX, "uidvalidity": 1, "uid": uid, "message_key": f"k{uid}",
            "decision": IntakeOutcome.IGNORED, "reason": "", "marked": False, "created_at": NOW}


_TABLE = IntakeRecord.__table__  # type: ignore[attr-defined]
# Every shape of intake INSERT: read by the fence (refused as the lease is lost), or refused
# because the fence cannot read it. None gets through unchecked.
SHAPES = {
    "one row": (LeaseLost, lambda s: s.connection().execute(insert(_TABLE), _row(1))),
    "executemany": (LeaseLost, lambda s: s.connection().execute(insert(_TABLE),
                                                                [_row(1), _row(2)])),
    "returning": (LeaseLost, lambda s: s.connection().execute(
        insert(_TABLE).returning(_TABLE.c.id), [_row(1), _row(2)]).all()),
    "orm bulk": (LeaseLost, lambda s: s.execute(insert(IntakeRecord), [_row(1), _row(2)])),
    "multi-row values": (UnfencedWrite, lambda s: s.connection().execute(
        insert(_TABLE).values([_row(1), _row(2)]))),
    "renamed bind": (UnfencedWrite, lambda s: s.connection().execute(
        insert(_TABLE).values(mailbox=bindparam("box")),
        {**{k: v for k, v in _row(1).items() if k != "mailbox"}, "box": MAILBOX})),
    "sql text": (UnfencedWrite, lambda s: s.connection().execute(text(
        'INSERT INTO "intake" (mailbox, uidvalidity, uid, message_key, decision, reason, marked,'
        " created_at) VALUES (:m, 1, 1, 'k1', 'IGNORED', '', false, :at)"),
        {"m": MAILBOX, "at": NOW})),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_no_shape_of_intake_insert_passes_the_fence_unchecked(tmp_path: Path, shape: str) -> None:
    engine = _lost(tmp_path)
    refusal, write = SHAPES[shape]
    with pytest.raises(refusal), transaction(engine) as session:
        write(session)
    with Session(engine) as session:
        assert session.exec(select(IntakeRecord.uid)).all() == []
    engine.dispose()
