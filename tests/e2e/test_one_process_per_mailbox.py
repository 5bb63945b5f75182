"""One process per mailbox: `mailflow poll --once` beside the running service waits for its
pass or says that the service is serving the mailbox (exit 75), never a traceback, and no
complaint is lost, doubled or quarantined."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from mailflow.store.lock import MailboxLock
from mailflow.store.models import Quarantine
from tests.e2e.support import INBOX, complaint, config_for, rows, tickets
from tests.e2e.test_cli import mailflow, write_config
from tests.e2e.test_daemon import _wait_until, daemon, is_ready


def _complaint(n: int) -> bytes:
    return complaint(sender=f"Warga {n} <warga{n}@warga.example>",
                     body=f"Nama: Warga {n}\nAlamat: Dusun Krajan RT {n}\n\n"
                          f"Saluran air di RT {n} tersumbat sejak {n + 2} hari yang lalu.\n")


def test_poll_once_beside_the_service_never_collides(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": 0.2, "idle": False,
                                                   "lock_wait_seconds": 5.0})
    path = tmp_path / "config.toml"
    for n in range(2):
        mail_world.deliver(INBOX, _complaint(n))
    with daemon(cfg, tmp_path) as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.read_in_background()
        for n in range(2, 8):
            mail_world.deliver(INBOX, _complaint(n))
            if n % 2:
                result = mailflow("poll", "--once", "--config", str(path))
                assert result.returncode in (0, 75), result.stderr
                assert "Traceback" not in result.stderr, result.stderr
        _wait_until(lambda: len(tickets(cfg)) == 8, "eight tickets")
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
    assert write_config  # the daemon helper wrote `path`
    log = running.text()
    assert "Traceback" not in log and "poll failed unexpectedly" not in log, log
    assert len({ticket.message_key for ticket in tickets(cfg)}) == 8
    assert rows(cfg, Quarantine) == []


def test_poll_once_while_another_process_holds_the_mailbox_says_so_and_exits_75(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"lock_wait_seconds": 0.5})
    path = write_config(cfg, tmp_path / "config.toml")
    assert mailflow("poll", "--once", "--config", str(path)).returncode == 0  # makes the state
    mail_world.deliver(INBOX, complaint())
    held = MailboxLock(cfg.storage_dir, f"{INBOX}@{cfg.imap.host}/INBOX")
    assert held.acquire(0)
    try:
        result = mailflow("poll", "--once", "--config", str(path))
    finally:
        held.release()
    assert result.returncode == 75, result.stderr
    assert f"(pid {os.getpid()}) is serving the mailbox {INBOX}@" in result.stderr
    assert "Traceback" not in result.stderr
    assert tickets(cfg) == []  # it did nothing

    assert mailflow("poll", "--once", "--config", str(path)).returncode == 0
    assert len(tickets(cfg)) == 1


def test_racing_writers_past_the_lock_neither_crash_nor_quarantine(mail_world: Any,
                                                                   tmp_path: Path) -> None:
    """Two intakes on one mailbox at once, as if the lock were not there (another host, a
    copied configuration): whoever loses a unique key ends its pass with MailboxBusy, nothing
    is quarantined, and the next pass takes what is left, each complaint once."""
    import threading

    from mailflow.errors import MailboxBusy, StorageUnavailable
    from mailflow.service import Service

    cfg = config_for(mail_world, tmp_path, limits={"resident_per_hour": 100,
                                                  "resident_per_day": 100})
    Service(cfg).poll_once()  # the mailbox's state exists: the race is over complaints
    for n in range(20):
        mail_world.deliver(INBOX, _complaint(n))
    racers, surprises = [Service(cfg), Service(cfg)], []

    def take(service: Service) -> None:
        try:
            service.intake.run(service.source)  # no lock: what the lock prevents
        except (MailboxBusy, StorageUnavailable):
            pass  # ends the pass; the next one goes on
        except Exception as exc:  # noqa: BLE001 - what the test is looking for
            surprises.append(exc)

    threads = [threading.Thread(target=take, args=(service,)) for service in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert surprises == []
    Service(cfg).poll_once()
    assert len(tickets(cfg)) == 20
    assert len({ticket.message_key for ticket in tickets(cfg)}) == 20
    assert rows(cfg, Quarantine) == []
