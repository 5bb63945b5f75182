"""Whose outbox claims an instance may take back, and what a pass does once its claims are gone.

A review sent 151 mails twice: two instances on one host name, set apart by MAILFLOW_HOST as
the README says containers must be, and the second's first pass took back the first's
claims, judging it dead by a pid of its own machine (the outbox named instances by the host
name alone). Then the first went on sending the page it had claimed, and the second sent it
as well. Now the outbox names and judges instances as the mailbox lease does, an outcome is
written only under its sender's claim, and a pass whose claim was taken back ends.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from mailflow.store.db import Engine, make_engine, transaction
from mailflow.store.instance import dead_here, instance_id
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.store.outbox_queries import OutboxStore
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
UNTIL = NOW + timedelta(minutes=5)


def _ended_pid() -> int:
    """The pid of a process that has ended (free, unless reused at once)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def _due_rows(tmp_path: Path, count: int) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        for n in range(count):
            session.add(OutboxMessage(kind=OutboxKind.ACK, message_id=f"<{n}@klero>",
                                      recipient=f"warga{n}@example.id", raw=b"x",
                                      next_attempt_at=NOW, created_at=NOW))
    return engine


def test_an_instance_is_judged_dead_only_on_its_own_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILFLOW_HOST", "box-a")
    ended = _ended_pid()
    assert instance_id().startswith("box-a:")
    assert dead_here(f"box-a:{ended}:ab12")
    # Another container (its own MAILFLOW_HOST) or machine: its pids are not this one's.
    assert not dead_here(f"box-b:{ended}:ab12")
    assert not dead_here(f"box-a:{os.getppid()}:ab12")  # alive here


def test_a_pass_whose_claims_were_taken_back_cannot_write_their_outcome(tmp_path: Path) -> None:
    engine = _due_rows(tmp_path, 3)
    try:
        with OutboxStore.connect(engine) as first, OutboxStore.connect(engine) as second:
            assert [r.id for r in first.claim(owner="a:1:x", now=NOW, until=UNTIL, limit=10)] == [
                1, 2, 3]
            assert first.sent(1, "a:1:x", NOW)
            assert not second.sent(2, "b:2:y", NOW)  # not b's claim
            assert second.release_all("a:1:x") == 2  # b judged a gone
            again = second.claim(owner="b:2:y", now=NOW, until=UNTIL, limit=10)
            assert [r.id for r in again] == [2, 3]
            assert not first.deferred(2, "a:1:x", "4.0.0 later", NOW)
            assert not first.parked(3, "a:1:x", "5.0.0 no")
            assert second.sent(2, "b:2:y", NOW) and second.sent(3, "b:2:y", NOW)
        with transaction(engine) as session:
            rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
            assert [(r.state, r.attempts) for r in rows] == [(OutboxState.SENT, 1)] * 3
    finally:
        engine.dispose()
