"""The daemon's watch on its mailbox's lease (runners/lease_keeper.py), on real SQLite."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from mailflow.core.lease import LeaseRules
from mailflow.runners.lease_keeper import LeaseKeeper
from mailflow.store.db import make_engine
from mailflow.store.lease import Lease
from mailflow.store.migrate import prepare
from tests.harness.postgres import store_url

MAILBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"


def test_a_waiting_instance_tries_when_the_peers_lease_may_run_out(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    rules = LeaseRules(1.0, 0.3)
    peer, mine = Lease(engine, MAILBOX, "peer", rules), Lease(engine, MAILBOX, "me", rules)
    assert peer.take(datetime.now(UTC)).held
    keeper = LeaseKeeper(lambda: datetime.now(UTC))
    keeper.lease = mine

    status = keeper.follow(mine.take(datetime.now(UTC)))
    assert status == "the mailbox is served by another instance (peer); waiting"
    assert keeper.waiting and 0 < keeper.piece(60.0) <= rules.renew
    assert not keeper.turn()  # not yet: the peer's lease runs for a second
    started = time.monotonic()
    while not keeper.turn():  # the peer is gone (it renews no more)
        assert time.monotonic() - started < rules.length + rules.renew + 0.5
        time.sleep(keeper.piece(60.0))
    assert mine.held and not keeper.waiting
    assert keeper.piece(60.0) == rules.renew  # now it renews every period
    assert not keeper.turn()  # held, nothing to do before the next renewal


def test_a_holder_that_lost_its_lease_starts_a_pass_at_once(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    rules = LeaseRules(1.0, 0.01)
    mine, peer = Lease(engine, MAILBOX, "me", rules), Lease(engine, MAILBOX, "peer", rules)
    keeper = LeaseKeeper(lambda: datetime.now(UTC))
    keeper.lease = mine
    assert mine.take(datetime.now(UTC)).held
    time.sleep(1.05)
    assert peer.take(datetime.now(UTC)).held  # it stalled past its lease; the peer took it
    assert keeper.turn()  # the renewal failed: a pass now, which finds the peer
