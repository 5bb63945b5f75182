"""The mailbox lease in the database (store/lease.py) and the fence on intake writes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.core.lease import LeaseRow, LeaseRules
from mailflow.store.db import make_engine, transaction
from mailflow.store.lease import Lease, LeaseLost, install_fence, read_lease
from mailflow.store.lease_table import renew_many
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MAILBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"
RULES = LeaseRules(15, 5)


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _lease(engine: Engine, me: str, mailbox: str = MAILBOX) -> Lease:
    return Lease(engine, mailbox, me, RULES)


def _record(engine: Engine, uid: int, mailbox: str = MAILBOX) -> None:
    with transaction(engine) as session:
        session.add(IntakeRecord(mailbox=mailbox, uidvalidity=1, uid=uid, message_key=f"k{uid}",
                                 decision=IntakeOutcome.IGNORED, reason="test", created_at=NOW))


def _uids(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return sorted(session.exec(select(IntakeRecord.uid)).all())


def test_one_holder_at_a_time_until_it_runs_out_or_is_released(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    a, b = _lease(engine, "a"), _lease(engine, "b")
    assert a.take(NOW).held
    refused = b.take(NOW + timedelta(seconds=14))
    assert not refused.held and refused.holder == "a"
    assert refused.expires_at == NOW + timedelta(seconds=15)
    assert a.take(NOW + timedelta(seconds=10)).held  # renewed: now until 08:00:25
    assert not b.take(NOW + timedelta(seconds=24)).held
    assert b.take(NOW + timedelta(seconds=25)).held  # ran out: taken over
    assert not a.take(NOW + timedelta(seconds=26)).held and not a.held
    b.release(NOW + timedelta(seconds=27))
    assert a.take(NOW + timedelta(seconds=27)).held  # released: at once
    assert _lease(engine, "c", "other@x/INBOX").take(NOW).held  # another mailbox is apart


def test_racing_instances_never_both_take_it(tmp_path: Path) -> None:
    """Eight instances, each on its own connection, try the same expired lease at the same
    moment, a few rounds: exactly one holds it each time."""
    engine = _engine(tmp_path)
    _lease(engine, "old").take(NOW)
    for round_ in range(1, 4):
        at = NOW + timedelta(seconds=20 * round_)
        barrier, won = threading.Barrier(8), []

        def race(name: str, at: datetime = at, barrier: threading.Barrier = barrier,
                 won: list[str] = won) -> None:
            mine = make_engine(str(engine.url))
            lease = _lease(mine, name)
            barrier.wait()
            if lease.take(at).held:
                won.append(name)
            mine.dispose()

        threads = [threading.Thread(target=race, args=(f"i{round_}-{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1, won
        row = read_lease(engine, MAILBOX)
        assert row is not None and row.holder == won[0]


def test_the_fence_refuses_intake_writes_once_the_lease_is_lost(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    clock = [NOW]
    a, b = _lease(engine, "a"), _lease(make_engine(str(engine.url)), "b")
    install_fence(engine, {MAILBOX: a}, lambda: clock[0])
    assert a.take(NOW).held
    clock[0] = NOW + timedelta(seconds=10)
    _record(engine, 1)  # held: written, and the lease renewed (until 08:00:25)
    assert not b.take(NOW + timedelta(seconds=20)).held
    clock[0] = NOW + timedelta(seconds=40)
    _record(engine, 2)  # ran out, but nobody took it: still its own
    assert b.take(NOW + timedelta(seconds=100)).held  # a stalls; b takes over
    with pytest.raises(LeaseLost, match="no longer holds the lease"):
        _record(engine, 3)
    with pytest.raises(LeaseLost):  # and the next one too: it must take the lease again
        _record(engine, 4)
    _record(engine, 5, mailbox="other@x/INBOX")  # not a leased mailbox: not fenced
    assert _uids(engine) == [1, 2, 5]


def test_no_takeover_between_the_fence_and_the_commit(tmp_path: Path) -> None:
    """The fence's check locks the lease until its transaction ends: a peer that tries to
    take the (expired) lease meanwhile waits for the commit, and the commit stands. (SQLite
    serializes every write anyway; on PostgreSQL it is the fence's row lock that does it.)"""
    engine = _engine(tmp_path)
    a = _lease(engine, "a")
    install_fence(engine, {MAILBOX: a}, lambda: NOW)
    assert a.take(NOW).held
    peer = _lease(make_engine(str(engine.url)), "b")
    order: list[str] = []

    def take_over() -> None:
        order.append("peer tries")
        assert peer.take(NOW + timedelta(seconds=60)).held
        order.append("peer took it")

    with transaction(engine) as session:
        session.add(IntakeRecord(mailbox=MAILBOX, uidvalidity=1, uid=7, message_key="k7",
                                 decision=IntakeOutcome.IGNORED, reason="test", created_at=NOW))
        session.flush()  # the fence runs here
        thread = threading.Thread(target=take_over)
        thread.start()
        time.sleep(0.5)
        order.append("committing")
    thread.join()
    assert order == ["peer tries", "committing", "peer took it"]
    assert _uids(engine) == [7]


def test_a_holder_whose_process_died_on_this_machine_is_replaced_at_once(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    code = ("import sys; from datetime import datetime, UTC; from mailflow.core.lease import "
            "LeaseRules; from mailflow.store.db import make_engine; from mailflow.store.lease "
            "import Lease; from mailflow.store.instance import instance_id; "
            "lease = Lease(make_engine(sys.argv[1]), sys.argv[2], "
            "instance_id(), LeaseRules()); assert lease.take(datetime.now(UTC)).held")
    subprocess.run([sys.executable, "-c", code, str(engine.url), MAILBOX], check=True)
    row = read_lease(engine, MAILBOX)
    assert row is not None and row.expires_at > datetime.now(UTC)  # not run out
    heir = _lease(engine, "heir")
    assert heir.take(datetime.now(UTC)).held

    # A live process on this machine (this one, under another instance id) keeps it.
    heir.release(datetime.now(UTC))
    from mailflow.store.instance import instance_id
    assert _lease(engine, instance_id()).take(datetime.now(UTC)).held
    assert not _lease(engine, "heir").take(datetime.now(UTC)).held


def test_renewing_waits_while_a_fenced_transaction_is_open(tmp_path: Path) -> None:
    """Between messages of a transaction that the fence checked (a batch), `keep` renews
    nothing: the open transaction locks the lease, and a renewal on another connection of
    the same process would wait for it (on PostgreSQL for ever)."""
    engine = _engine(tmp_path)
    a = Lease(engine, MAILBOX, "a", LeaseRules(2, 0.01))
    install_fence(engine, {MAILBOX: a}, lambda: NOW)
    assert a.take(NOW).held
    with transaction(engine) as session:
        session.add(IntakeRecord(mailbox=MAILBOX, uidvalidity=1, uid=8, message_key="k8",
                                 decision=IntakeOutcome.IGNORED, reason="test", created_at=NOW))
        session.flush()
        time.sleep(0.05)
        started = time.monotonic()
        assert a.keep(NOW)
        assert time.monotonic() - started < 1
    time.sleep(0.05)
    assert a.open_fences == 0 and a.keep(NOW)  # after the commit it renews again


def test_a_live_holder_on_this_machine_is_taken_over_only_when_asked(tmp_path: Path) -> None:
    """`poll --once` (holding the mailbox's lock file) may take the lease from a service on
    this machine that is between passes; nobody else takes a live holder's lease."""
    engine = _engine(tmp_path)
    code = ("import sys; from datetime import datetime, UTC; from mailflow.core.lease import "
            "LeaseRules; from mailflow.store.db import make_engine; from mailflow.store.lease "
            "import Lease; from mailflow.store.instance import instance_id; "
            "lease = Lease(make_engine(sys.argv[1]), sys.argv[2], "
            "instance_id(), LeaseRules()); assert lease.take(datetime.now(UTC)).held; "
            "print('held', flush=True); sys.stdin.readline()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(engine.url), MAILBOX],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        poll = _lease(engine, "poll")
        refused = poll.take(datetime.now(UTC))
        assert not refused.held and refused.holder is not None
        assert refused.holder.split(":")[1] == str(holder.pid)
        assert poll.take(datetime.now(UTC), local=True).held
    finally:
        holder.communicate("done\n", timeout=10)


def test_a_fleets_leases_are_renewed_together_and_a_lost_one_is_left_to_keep(
        tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    boxes = [f"pengaduan@desa{i}.example@127.0.0.1/INBOX" for i in range(3)]
    mine = [_lease(engine, "a", box) for box in boxes]
    for lease in mine:
        assert lease.take(NOW).held
    # The second ran out and another instance took it (generation 2).
    assert _lease(engine, "b", boxes[1]).take(NOW + timedelta(seconds=16)).held
    for lease in mine:
        lease._renewed = time.monotonic() - RULES.renew  # a renewal period went by
    assert all(lease.due() for lease in mine)
    later = NOW + timedelta(seconds=20)
    assert renew_many(engine, mine, later) == {boxes[0], boxes[2]}
    assert read_lease(engine, boxes[0]) == LeaseRow("a", later + timedelta(seconds=15))
    assert read_lease(engine, boxes[2]) == LeaseRow("a", later + timedelta(seconds=15))
    assert read_lease(engine, boxes[1]) == LeaseRow("b", NOW + timedelta(seconds=31))
    assert not mine[0].due() and mine[1].due()  # renewed just now; the lost one not
    assert not mine[1].keep(later) and not mine[1].held  # alone, it finds the loss


def test_leases_of_different_lengths_each_get_their_own_expiry(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    short = Lease(engine, "desa1", "a", RULES)
    long = Lease(engine, "desa2", "a", LeaseRules(60, 20))
    assert short.take(NOW).held and long.take(NOW).held
    later = NOW + timedelta(seconds=10)
    assert renew_many(engine, [short, long], later) == {"desa1", "desa2"}
    assert read_lease(engine, "desa1") == LeaseRow("a", later + timedelta(seconds=15))
    assert read_lease(engine, "desa2") == LeaseRow("a", later + timedelta(seconds=60))


def test_a_lease_falls_due_a_renewal_period_after_its_take_or_sooner_when_asked(
        tmp_path: Path) -> None:
    # A fleet renews, with the first lease due, those due within half a period (fleet.py).
    lease = _lease(_engine(tmp_path), "a")
    assert not lease.due(within=100)  # never taken
    assert lease.take(NOW).held
    assert not lease.due() and not lease.due(within=RULES.renew / 2)
    lease._renewed = time.monotonic() - 3
    assert not lease.due() and lease.due(within=RULES.renew / 2)
    lease._renewed -= 2
    assert lease.due()
    lease.release(NOW)
    assert not lease.due(within=100)
