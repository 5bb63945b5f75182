"""The whole lease table at one look, and the presence rows of a fleet (store/lease_table.py),
with one fence over several leases on one engine (mailflow/fleet.py's shape)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from mailflow.core.fleet_share import plan_share, presence_key
from mailflow.core.lease import LeaseRules
from mailflow.store.db import make_engine, transaction
from mailflow.store.lease import Lease, LeaseLost, install_fence
from mailflow.store.lease_table import forget_presences, lease_rows
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RULES = LeaseRules(15, 5)
BOXES = [f"desa{n}@127.0.0.1/INBOX" for n in range(4)]


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def test_the_table_read_whole_gives_the_plan_what_each_instance_holds(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    for me, boxes in (("a", BOXES[:3]), ("b", BOXES[3:])):
        Lease(engine, presence_key(me), me, RULES).take(NOW)
        for box in boxes:
            assert Lease(engine, box, me, RULES).take(NOW).held
    rows = lease_rows(engine)
    assert {key: row.holder for key, row in rows.items()} == {
        presence_key("a"): "a", presence_key("b"): "b", **dict.fromkeys(BOXES[:3], "a"),
        BOXES[3]: "b"}
    plan = plan_share(BOXES, rows, "a", NOW + timedelta(seconds=1))
    assert plan.instances == 2 and plan.share == 2 and len(plan.release) == 1


def test_old_presence_rows_are_forgotten_and_nothing_else(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    Lease(engine, presence_key("gone"), "gone", RULES).take(NOW - timedelta(days=2))
    Lease(engine, presence_key("live"), "live", RULES).take(NOW)
    Lease(engine, BOXES[0], "gone", RULES).take(NOW - timedelta(days=2))
    assert forget_presences(engine, NOW - timedelta(days=1)) == 1
    assert set(lease_rows(engine)) == {presence_key("live"), BOXES[0]}


def test_one_fence_over_several_leases_refuses_only_the_lost_ones_writes(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    leases = {box: Lease(engine, box, "a", RULES) for box in BOXES[:2]}
    install_fence(engine, leases, lambda: NOW)
    for lease in leases.values():
        lease.take(NOW)
    # Another instance takes the second mailbox once its lease ran out.
    assert Lease(engine, BOXES[1], "b", RULES).take(NOW + timedelta(seconds=16)).held

    def record(box: str, uid: int) -> None:
        with transaction(engine) as session:
            session.add(IntakeRecord(mailbox=box, uidvalidity=1, uid=uid, message_key=f"k{uid}",
                                     decision=IntakeOutcome.IGNORED, reason="t", created_at=NOW))

    record(BOXES[0], 1)
    with pytest.raises(LeaseLost):
        record(BOXES[1], 2)
    record(BOXES[0], 3)  # the held one goes on


def test_a_many_row_insert_is_fenced_for_every_mailbox_it_names(tmp_path: Path) -> None:
    """One executemany of intake records for two mailboxes: refused when the second one's
    lease was lost, however far down its rows come; taken whole when both are held."""
    engine = _engine(tmp_path)
    leases = {box: Lease(engine, box, "a", RULES) for box in BOXES[:2]}
    install_fence(engine, leases, lambda: NOW)
    for lease in leases.values():
        lease.take(NOW)

    def records(boxes: list[str], first: int) -> None:
        with transaction(engine) as session:
            session.add_all(IntakeRecord(mailbox=box, uidvalidity=1, uid=first + n,
                                         message_key=f"k{first + n}", created_at=NOW,
                                         decision=IntakeOutcome.IGNORED, reason="t")
                            for n, box in enumerate(boxes))

    records([BOXES[0]] * 500 + [BOXES[1]] * 500, 1)
    assert leases[BOXES[0]].open_fences == leases[BOXES[1]].open_fences == 0
    assert Lease(engine, BOXES[1], "b", RULES).take(NOW + timedelta(seconds=16)).held
    with pytest.raises(LeaseLost):
        records([BOXES[0]] * 500 + [BOXES[1]], 2001)
    with transaction(engine) as session:
        count = session.execute(select(func.count()).select_from(IntakeRecord)).scalar_one()
    assert count == 1000  # none of the refused batch
