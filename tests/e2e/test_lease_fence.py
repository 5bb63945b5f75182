"""An instance that loses its mailbox's lease in the middle of a pass (it stalled, a peer
took over) commits nothing more for the mailbox: the fence refuses the next group's
transaction, the pass ends without quarantining anything, and the peer takes the rest, each
complaint once. In-process, so that the moment of the takeover is exact."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import mailflow.runners.intake_batch
from mailflow.core.lease import LeaseRules
from mailflow.service import Service
from mailflow.store import intake_queries
from mailflow.store.db import make_engine
from mailflow.store.lease import Lease, read_lease
from mailflow.store.models import Quarantine
from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for, rows, tickets


def _complaint(n: int) -> bytes:
    sender = f"Siti Aminah <{SITI}>" if n % 2 else f"Budi <{BUDI}>"
    return complaint(sender=sender, body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\n"
                                         f"Jembatan di RT {n} retak sejak {n + 2} hari.\n")


def test_a_holder_that_lost_the_lease_mid_pass_commits_nothing_more(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config_for(mail_world, tmp_path, limits={"resident_per_hour": 100,
                                                  "resident_per_day": 100})
    for n in range(5):
        mail_world.deliver(INBOX, _complaint(n))
    peer = Lease(make_engine(cfg.database_url), f"{INBOX}@{cfg.imap.host}/INBOX", "peer:1:x",
                 LeaseRules(cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds))
    # Groups of two messages (runners/intake_batch.py). A peer can take the lease only
    # between two groups: a group's transaction holds SQLite's write lock from its first
    # statement, and on PostgreSQL the fence holds the lease's row until the group commits.
    monkeypatch.setattr(mailflow.runners.intake_batch, "GROUP_MESSAGES", 2)
    real_begin = intake_queries.begin_group
    groups: list[str] = []

    def stalled_then_taken_over(session: Any, mailbox: str) -> None:
        groups.append(mailbox)
        if len(groups) == 2:  # after the first group: the holder stalled, the peer took over
            assert peer.take(datetime.now(UTC) + timedelta(minutes=5)).held
        real_begin(session, mailbox)

    monkeypatch.setattr(intake_queries, "begin_group", stalled_then_taken_over)

    stalled = Service(cfg, keep_lease=True, instance="stalled:2:y")
    result = stalled.poll_once()
    stalled.engine.dispose()

    assert result.intake is None  # the pass ended early (LeaseLost), without its stats
    assert len(groups) == 2  # the second group was refused at its first statement
    assert len(tickets(cfg)) == 2
    assert rows(cfg, Quarantine) == []  # not the messages' fault
    row = read_lease(make_engine(cfg.database_url), peer.mailbox)
    assert row is not None and row.holder == "peer:1:x"

    peer.release(datetime.now(UTC) + timedelta(minutes=5))  # the peer's own pass follows
    monkeypatch.setattr(intake_queries, "begin_group", real_begin)
    after = Service(cfg).poll_once()
    assert after.intake is not None and after.intake.tickets == 3
    assert len({t.message_key for t in tickets(cfg)}) == 5


def test_check_names_the_instance_that_polls_the_mailbox(mail_world: Any, tmp_path: Path,
                                                          capsys: Any) -> None:
    from mailflow.cli.check import run_checks

    cfg = config_for(mail_world, tmp_path)
    Service(cfg).poll_once()  # the database exists; the pass released the lease
    released = {r.name: r for r in run_checks(cfg)}["lease"]
    assert released.ok and "no instance holds it" in released.detail
    peer = Lease(make_engine(cfg.database_url), f"{INBOX}@{cfg.imap.host}/INBOX", "node-7:42:ab",
                 LeaseRules())
    assert peer.take(datetime.now(UTC)).held
    held = {r.name: r for r in run_checks(cfg)}["lease"]
    assert held.ok and "polled by node-7:42:ab (lease renewed, 15s left)" in held.detail


def test_renewing_between_messages_never_waits_for_the_groups_own_lock(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's first statement takes SQLite's write lock. When the renewal falls due while a
    group holds it and has written no intake record yet (its first message was not a complaint,
    so only a trace row), renewing from a second connection would wait for that lock (30 s,
    then "database is locked" and a paused intake): the group's first statement checks and
    renews the lease itself (store/lease.py FENCE_OPTION), so nothing renews it meanwhile."""
    cfg = config_for(mail_world, tmp_path, intake={"lease_seconds": 2, "lease_renew_seconds": 1})
    mail_world.deliver(INBOX, complaint(subject="Undangan rapat RT"))  # skipped: not a complaint
    for n in range(3):
        mail_world.deliver(INBOX, _complaint(n))
    real_begin = intake_queries.begin_group

    def slow_begin(session: Any, mailbox: str) -> None:
        real_begin(session, mailbox)
        time.sleep(1.1)  # the group holds the lock; the renewal is due at its next message

    monkeypatch.setattr(intake_queries, "begin_group", slow_begin)
    daemon = Service(cfg, keep_lease=True, instance="busy:3:z")
    result = daemon.poll_once()
    daemon.engine.dispose()
    assert result.intake is not None and result.intake.tickets == 3
