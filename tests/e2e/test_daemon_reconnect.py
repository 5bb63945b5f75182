"""An unreachable IMAP server: the daemon retries with capped exponential backoff and jitter,
and logs one line when the server goes away and one when it is back, not one per retry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import stop_imap
from tests.e2e.support import INBOX, SITI, complaint, config_for, tickets
from tests.e2e.test_daemon import LONG_POLL, _wait_until, daemon, is_ready

RETRY = re.compile(r"imap still unreachable \(failure (\d+)\), next try in ([\d.]+)s")


def test_an_unreachable_imap_server_is_retried_with_backoff_and_logged_per_change(
        mail_world: Any, tmp_path: Path) -> None:
    if mail_world.backend != "dovecot":
        pytest.skip("the embedded IMAP server forgets its mail when stopped")
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL},
                     retry={"reconnect_first_seconds": 0.1, "reconnect_max_seconds": 0.4})
    mail_world.deliver(INBOX, complaint())
    stop_imap(mail_world.imap)
    with daemon(cfg, tmp_path, "-v") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        running.wait_for_log("imap still unreachable (failure 6)", notify=notify)
        waits = {int(n): float(wait) for n, wait in RETRY.findall(running.text())}
        # 0.1 s doubling to 0.4 s, each between half and all of it: growing, then capped.
        assert all(min(0.4, 0.1 * 2 ** (n - 1)) / 2 <= wait <= 0.4 for n, wait in waits.items())
        assert waits[6] >= 0.2 and len(set(waits.values())) > 1, waits
        assert running.text().count("imap unreachable at start") == 1
        assert "WARNING" in running.text() and running.text().count(" WARNING ") == 1
        assert any(line.startswith("STATUS=IMAP unreachable since ") for line in notify.lines())

        mail_world.imap.start()
        running.wait_for_log("imap reachable again", notify=notify)
        _wait_until(lambda: len(mail_world.messages(SITI)) == 1, "the acknowledgement")
        assert running.text().count("imap reachable again") == 1
        assert running.text().count(" WARNING ") == 1

        # Down while the daemon waits in IDLE (the poll is an hour away): the dropped IDLE
        # connection starts a pass, which finds the server gone.
        running.wait_for_log("imap IDLE on", notify=notify)
        stop_imap(mail_world.imap)
        running.wait_for_log("imap unreachable, retrying with backoff", notify=notify)
        mail_world.imap.start()
        _wait_until(lambda: running.text().count("imap reachable again") == 2, "back again",
                    notify=notify)
        assert running.text().count(" WARNING ") == 2
    assert len(tickets(cfg)) == 1
