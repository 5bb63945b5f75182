"""IMAP IDLE: with a poll of an hour, new mail is taken within seconds because the server
announces it; the IDLE is renewed, the watchdog fed, signals end the wait, and outgoing mail
that falls due is sent without waiting for the poll."""

from __future__ import annotations

import os
import signal
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from mailflow.adapters.imap import ImapSource
from mailflow.adapters.imap_idle import ImapWaiter
from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for, tickets
from tests.e2e.test_daemon import LONG_POLL, _wait_until, daemon, is_ready
from tests.e2e.test_tls import TlsWorld, _config, tls_world  # noqa: F401 - the fixture
from tests.harness.servers import dovecot_available

OTHER_BODY = ("Nama: Budi Santoso\nNIK: 3322110101900004\nAlamat: Dusun Ngaglik RT 01\n\n"
              "Lampu jalan di dusun Ngaglik mati sejak seminggu yang lalu.\n")


def _idle_status(line: str) -> bool:
    return line.startswith("STATUS=idle; last pass ")


def test_new_mail_is_taken_at_once_in_idle_which_is_renewed_and_interrupted(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path,
                     intake={"poll_seconds": LONG_POLL, "idle_renew_seconds": 0.5})
    with daemon(cfg, tmp_path, "-v", WATCHDOG_USEC="400000") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(_idle_status, "the first pass")
        running.wait_for_log("imap IDLE on", notify=notify)

        mail_world.deliver(INBOX, complaint())
        running.wait_for_log("imap IDLE: new mail, a pass starts", notify=notify)
        _wait_until(lambda: len(mail_world.messages(SITI)) == 1, "the acknowledgement", notify=notify)

        # Renewed every 0.5 s, and still announcing: a second complaint after renewals.
        running.wait_for_log("imap IDLE renewed", notify=notify)
        notify.received.clear()
        notify.collect(1.2)  # in IDLE, the watchdog is still fed twice per WatchdogSec
        pings = [at for at, lines in notify.received if "WATCHDOG=1" in lines]
        assert len(pings) >= 4 and max(b - a for a, b in pairwise(pings)) < 0.4, notify.received
        mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>", body=OTHER_BODY))
        _wait_until(lambda: len(mail_world.messages(BUDI)) == 1, "the second acknowledgement",
                    notify=notify)

        started = time.monotonic()
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
    assert len(tickets(cfg)) == 2
    assert "Traceback" not in running.text()


def test_without_idle_the_daemon_polls_and_mail_due_later_is_sent_when_due(
        mail_world: Any, tmp_path: Path) -> None:
    """`idle = false`: no IDLE connection; an acknowledgement refused for a moment is retried
    when its retry falls due, not an hour later at the next poll."""
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL, "idle": False},
                     outbox={"first_retry_seconds": 0.5})
    mail_world.smtp.tempfail = True
    mail_world.deliver(INBOX, complaint())
    with daemon(cfg, tmp_path, "-v") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        running.wait_for_log("mail deferred", notify=notify)
        mail_world.smtp.tempfail = False
        _wait_until(lambda: len(mail_world.messages(SITI)) == 1, "the retried acknowledgement",
                    notify=notify)
        assert "imap IDLE" not in running.text()
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0


def test_idle_over_implicit_tls_announces_new_mail(request: pytest.FixtureRequest,
                                                    tmp_path: Path) -> None:
    """The IDLE connection reads through TLS (buffered records included), not just plain TCP."""
    if not dovecot_available():
        pytest.skip("TLS tests run on Dovecot")
    world: TlsWorld = request.getfixturevalue("tls_world")
    cfg = _config(world, tmp_path, "ssl", world.imap.tls_port, world.ca_file)
    waiter = ImapWaiter(ImapSource(cfg.imap), renew_seconds=600)
    never, unused = os.pipe()
    try:
        assert waiter.open()
        assert waiter.wait(0.3, never) is False
        world.imap.deliver(INBOX, complaint())
        assert waiter.wait(10, never) is True
        waiter.close()
    finally:
        os.close(never)
        os.close(unused)
