"""A peer that finds the lease row locked by its holder's intake transaction moves on.

A review stopped (SIGSTOP) an instance in the middle of an intake group on PostgreSQL: the
group's transaction locks the lease row (the fence, store/lease.py), and the other
instance's attempt to take the mailbox waited on that lock the whole time, its one thread
blocked, so its other mailboxes, its outbox and its jobs stopped too. The attempt now waits
at most LOCK_WAIT and counts as "held by another". And a holder whose machine or network is
gone has its session, its transaction and that lock ended by the server's TCP keepalives.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from mailflow.core.lease import LeaseRules
from mailflow.store.db import make_engine
from mailflow.store.lease import Lease, LeaseState
from mailflow.store.migrate import prepare
from tests.harness.postgres import on_postgresql, store_url

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's lock waits and "
                                "session settings; SQLite's writers wait their busy timeout")

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MAILBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"
RULES = LeaseRules(15, 5)


def test_a_lease_row_locked_by_its_holders_transaction_is_left_for_later(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    holder, peer = Lease(engine, MAILBOX, "a:1:aa", RULES), Lease(engine, MAILBOX, "b:2:bb", RULES)
    assert holder.take(NOW).held
    later = NOW + timedelta(seconds=60)  # the holder's lease ran out meanwhile
    found: list[LeaseState] = []
    with engine.connect() as stalled:  # the holder's intake transaction, stopped mid-way
        stalled.execute(text("BEGIN"))
        stalled.execute(text("SELECT 1 FROM mailbox_lease WHERE mailbox = :m FOR UPDATE"),
                        {"m": MAILBOX})
        attempt = threading.Thread(target=lambda: found.append(peer.take(later)), daemon=True)
        attempt.start()
        attempt.join(timeout=20)  # ten times LOCK_WAIT
        waited = attempt.is_alive()
        stalled.execute(text("ROLLBACK"))
    attempt.join(timeout=60)
    assert not waited, "the peer waited for the holder's transaction"
    assert [state.held for state in found] == [False]
    assert peer.take(later).held  # the transaction over, the run-out lease is taken
    engine.dispose()


def test_sessions_ask_the_server_for_tcp_keepalives(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT name, source FROM pg_settings WHERE name IN ('tcp_keepalives_idle', "
                "'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout')")).all()
        assert sorted(rows) == [("tcp_keepalives_count", "session"),
                                ("tcp_keepalives_idle", "session"),
                                ("tcp_keepalives_interval", "session"),
                                ("tcp_user_timeout", "session")]
    finally:
        engine.dispose()
