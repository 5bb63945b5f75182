"""An instance that loses its mailbox's lease in the middle of a pass (it stalled, a peer
took over) commits nothing more for the mailbox: the fence refuses the next message's
transaction, the pass ends without quarantining anything, and the peer takes the rest, each
complaint once. In-process, so that the moment of the takeover is exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailflow.core.lease import LeaseRules
from mailflow.service import Service
from mailflow.store.db import make_engine
from mailflow.store.lease import Lease, read_lease
from mailflow.store.models import Quarantine
from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for, rows, tickets


def _complaint(n: int) -> bytes:
    sender = f"Siti Aminah <{SITI}>" if n % 2 else f"Budi <{BUDI}>"
    return complaint(sender=sender, body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\n"
                                         f"Jembatan di RT {n} retak sejak {n + 2} hari.\n")


def test_a_holder_that_lost_the_lease_mid_pass_commits_nothing_more(mail_world: Any,
                                                                     tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, limits={"resident_per_hour": 100,
                                                  "resident_per_day": 100})
    for n in range(5):
        mail_world.deliver(INBOX, _complaint(n))
    asked: list[int] = []
    peer = Lease(make_engine(cfg.database_url), f"{INBOX}@{cfg.imap.host}/INBOX", "peer:1:x",
                 LeaseRules(cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds))

    def stalled_then_taken_over() -> bool:
        asked.append(1)
        if len(asked) == 3:  # after two messages: a peer finds the lease run out and takes it
            assert peer.take(datetime.now(UTC) + timedelta(minutes=5)).held
        return False  # no stop: only the fence can end this pass

    stalled = Service(cfg, stop_requested=stalled_then_taken_over, keep_lease=True,
                      instance="stalled:2:y")
    result = stalled.poll_once()
    stalled.engine.dispose()

    assert result.intake is None  # the pass ended early (LeaseLost), without its stats
    assert len(tickets(cfg)) == 2
    assert rows(cfg, Quarantine) == []  # not the messages' fault
    row = read_lease(make_engine(cfg.database_url), peer.mailbox)
    assert row is not None and row.holder == "peer:1:x"

    peer.release(datetime.now(UTC) + timedelta(minutes=5))  # the peer's own pass follows
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
