"""Several `mailflow run` instances on one database share a mailbox through its lease
(store/lease.py): one polls it at a time; when that one is killed the other takes the mailbox
over within the lease's length, and when it stops cleanly at once; every complaint is a ticket
once and every reporter is acknowledged once.

The instances are real processes on one configuration and one SQLite database, each naming a
different machine (MAILFLOW_HOST), so the takeover after SIGKILL waits for the lease to run
out, as it would across machines (on one machine a dead holder's pid gives it away sooner).
They wait for mail in IMAP IDLE and poll only every 30 s, so each takeover is the waiting
instance's own watch on the lease, not a poll that happened to come.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from datetime import datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

from mailflow.store.models import IntakeRecord, OutboxMessage, Quarantine
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for, rows, tickets
from tests.e2e.test_cli import write_config
from tests.e2e.test_daemon import Daemon, NotifySocket, _wait_until, is_ready

#: The lease's length, renewed every third of it; MAILFLOW_TEST_LEASE=15 measures the default.
LEASE = float(os.environ.get("MAILFLOW_TEST_LEASE", "3"))
TAKEN = re.compile(r"mailbox lease taken mailbox=\S+ holder=(\S+)")


def _complaint(n: int) -> bytes:
    sender = f"Siti Aminah <{SITI}>" if n % 2 else f"Budi <{BUDI}>"
    return complaint(sender=sender, body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\n"
                          f"Lampu jalan di RT {n} padam sejak {n + 2} hari yang lalu.\n")


def _start(config: Path, place: Path, machine: str, started: list[Daemon]) -> Daemon:
    place.mkdir()
    notify = NotifySocket(place / "notify")
    running = Daemon(config, notify, place / "stderr.log", {"MAILFLOW_HOST": machine})
    started.append(running)
    notify.wait_for(is_ready, "READY=1")
    notify.read_in_background()
    return running


def _takes(running: Daemon) -> int:
    return len(TAKEN.findall(running.text()))


def _made(running: Daemon) -> int:
    return running.text().count("ticket created")


def _logged_at(running: Daemon, fragment: str) -> float:
    """The wall-clock time of the first log line with `fragment`."""
    line = next(line for line in running.text().splitlines() if fragment in line)
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _acknowledged_once(cfg: Any, mail_world: Any, count: int) -> None:
    made = tickets(cfg)
    assert len(made) == count and len({t.message_key for t in made}) == count
    def acks() -> list[OutboxMessage]:
        return [row for row in rows(cfg, OutboxMessage) if row.kind == OutboxKind.ACK]

    assert sorted(row.ticket_id for row in acks()) == sorted(t.id for t in made)
    _wait_until(lambda: {row.state for row in acks()} == {OutboxState.SENT},
                "every acknowledgement sent")
    sent = Counter(message_from_bytes(raw)["Message-ID"]
                   for _from, _rcpts, raw in mail_world.smtp.accepted)
    assert [sent[row.message_id] for row in acks()] == [1] * count


def test_two_instances_share_the_mailbox_and_take_over_from_a_dead_one(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={
        "poll_seconds": 30, "idle": True, "lock_wait_seconds": 1.0,
        "lease_seconds": LEASE, "lease_renew_seconds": LEASE / 3},
        limits={"resident_per_hour": 100, "resident_per_day": 100},
        # Intake commits a group at a time (runners/intake_batch.py); small groups let the
        # kill below land with most of the backlog still to take.
        imap={"fetch_chunk": 4})
    config = write_config(cfg, tmp_path / "config.toml")
    for n in range(3):
        mail_world.deliver(INBOX, _complaint(n))
    started: list[Daemon] = []
    try:
        first = _start(config, tmp_path / "a", "machine-a", started)
        _wait_until(lambda: len(tickets(cfg)) == 3, "three tickets")
        second = _start(config, tmp_path / "b", "machine-b", started)
        for n in range(3, 6):
            mail_world.deliver(INBOX, _complaint(n))
        _wait_until(lambda: len(tickets(cfg)) == 6, "six tickets")
        assert _takes(first) == 1 and _takes(second) == 0  # the holder kept it throughout

        # The holder dies mid-work: the other takes the mailbox over once the lease ran out.
        # (Held still while the backlog arrives, briefly: well within its lease.)
        first.signal(signal.SIGSTOP)
        for n in range(6, 26):
            mail_world.deliver(INBOX, _complaint(n))
        first.signal(signal.SIGCONT)
        while len(tickets(cfg)) == 6:
            time.sleep(0.01)
        killed = time.time()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        _wait_until(lambda: _takes(second) == 1, "the takeover", timeout=LEASE + 10)
        takeover = _logged_at(second, "mailbox lease taken") - killed
        print(f"takeover after SIGKILL: {takeover:.1f}s (lease {LEASE:g}s, renewed every "
              f"{LEASE / 3:g}s)")
        assert takeover <= LEASE + 1.5  # from its last renewal, which the fence makes often
        _wait_until(lambda: len(tickets(cfg)) == 26, "every complaint a ticket", timeout=30)
        assert _made(second) > 0  # the rest of the work was the survivor's

        # A clean stop releases the lease: a peer takes over at once.
        third = _start(config, tmp_path / "c", "machine-c", started)
        second.signal(signal.SIGTERM)
        assert second.process.wait(timeout=10) == 0
        _wait_until(lambda: _takes(third) == 1, "the takeover after a clean stop", timeout=5)
        handover = (_logged_at(third, "mailbox lease taken")
                    - _logged_at(second, "mailbox lease released"))
        print(f"takeover after a clean stop: {handover:.1f}s")
        assert handover < 1.5
        mail_world.deliver(INBOX, _complaint(26))
        _wait_until(lambda: len(tickets(cfg)) == 27, "the new holder's ticket")
        _acknowledged_once(cfg, mail_world, 27)
        third.signal(signal.SIGTERM)
        assert third.process.wait(timeout=10) == 0
    finally:
        for running in started:
            if running.process.poll() is None:
                running.process.kill()
                running.process.wait()
    logs = first.text() + second.text() + third.text()
    assert "Traceback" not in logs and "poll failed unexpectedly" not in logs, logs
    assert rows(cfg, Quarantine) == []
    records = Counter((r.uidvalidity, r.uid) for r in rows(cfg, IntakeRecord))
    assert set(records.values()) == {1}
