"""`mailflow run` as systemd runs it: notifications, the watchdog, SIGTERM and SIGHUP.

The daemon runs as a real process against the test mail servers, with a datagram socket of
the test's own as $NOTIFY_SOCKET, so every assertion is on what systemd itself would receive.
The stop between messages is tested in-process (test_stop_between_messages.py), where the
moment of the stop can be chosen.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for, tickets
from tests.e2e.test_cli import ROOT, write_config
from tests.harness import wx

#: Long enough that no second poll happens during a test: whatever happens, a signal caused.
LONG_POLL = 3600.0


class NotifySocket:
    """systemd's end of sd_notify: a datagram socket that keeps every message, with arrival time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[tuple[float, list[str]]] = []

    def read_in_background(self) -> None:
        """Keep reading while the test does other things (runs commands, waits on files): the
        socket holds 10 datagrams, and a daemon that finds it full blocks, as under a stalled
        systemd."""
        def read() -> None:
            while self.sock.fileno() != -1:
                with contextlib.suppress(OSError):
                    self._drain(0.05)

        threading.Thread(target=read, daemon=True).start()

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)  # a second daemon in the same test binds it again

    def _drain(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return
        self.received.append((time.monotonic(), data.decode().split("\n")))

    def lines(self) -> list[str]:
        return [line for _, lines in self.received for line in lines]

    def wait_for(self, wanted: Callable[[str], bool], what: str, *, count: int = 1,
                 timeout: float = 20) -> None:
        """Until `count` lines satisfy `wanted` (collecting everything that arrives meanwhile)."""
        deadline = time.monotonic() + timeout
        while sum(map(wanted, self.lines())) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no {what} (#{count}) from the daemon; got {self.lines()}"
            self._drain(left)

    def collect(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._drain(left)


class Daemon:
    """`mailflow run` in a process of its own, its stderr in a file the test can read at any time."""

    def __init__(self, config: Path, notify: NotifySocket, log: Path, env: dict[str, str],
                 options: tuple[str, ...] = ()) -> None:
        self.log = log
        # Under W^X where the kernel can, as MemoryDenyWriteExecute=yes runs it.
        self.process = subprocess.Popen(
            [*wx.prefix(), sys.executable, "-m", "mailflow", *options, "--config", str(config),
             "run"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=log.open("w"),
            env={**os.environ, "MAILFLOW_CONFIG": "", "NOTIFY_SOCKET": str(notify.path), **env})

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_log(self, fragment: str, timeout: float = 20,
                     notify: NotifySocket | None = None) -> None:
        """Until `fragment` is in the log; with `notify`, reading what the daemon sends
        meanwhile (a daemon that retries fast would otherwise fill the socket and block)."""
        deadline = time.monotonic() + timeout
        while fragment not in self.text():
            assert self.process.poll() is None, f"daemon exited: {self.text()}"
            assert time.monotonic() < deadline, f"no {fragment!r} in the log: {self.text()}"
            if notify is None:
                time.sleep(0.05)
            else:
                notify.collect(0.05)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)


@contextmanager
def daemon(cfg: Any, tmp_path: Path, *options: str,
           **env: str) -> Iterator[tuple[Daemon, NotifySocket]]:
    """`mailflow [options] run` on `cfg`; options such as "-v" go before the subcommand."""
    notify = NotifySocket(tmp_path / "notify")
    running = Daemon(write_config(cfg, tmp_path / "config.toml"), notify, tmp_path / "stderr.log",
                     env, options)
    try:
        yield running, notify
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()
        notify.close()


def is_ready(line: str) -> bool:
    return line == "READY=1"


def test_ready_status_watchdog_then_a_prompt_stop_on_sigterm(mail_world: Any,
                                                             tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL})
    mail_world.deliver(INBOX, complaint())
    with daemon(cfg, tmp_path, WATCHDOG_USEC="400000") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        assert "STATUS=ready; IMAP login ok, first pass starting" in notify.lines()
        notify.wait_for(lambda line: line.startswith("STATUS=idle; last pass "), "idle STATUS")
        [idle] = [line for line in notify.lines() if line.startswith("STATUS=idle")]
        assert idle.endswith(", 1 new, 0 replies, 2 sent"), idle  # the ack and the verifier's note
        assert len(mail_world.messages(SITI)) == 1

        # Idle in a wait of an hour, the daemon must still ping: twice per WatchdogSec (0.4 s).
        notify.received.clear()
        notify.collect(1.2)
        pings = [at for at, lines in notify.received if "WATCHDOG=1" in lines]
        assert len(pings) >= 4, notify.received
        assert max(b - a for a, b in pairwise(pings)) < 0.4

        started = time.monotonic()
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        notify.collect(0.1)
        assert "STOPPING=1" in notify.lines()
        log = running.text()
        assert "signal SIGTERM received, stopping after the message in hand" in log
        assert "mailflow stopped" in log


def test_sighup_takes_a_good_configuration_and_refuses_a_bad_one(mail_world: Any,
                                                                 tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL})
    path = tmp_path / "config.toml"
    with daemon(cfg, tmp_path) as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(lambda line: line.startswith("STATUS=idle"), "idle STATUS")

        # A good configuration: residents may now also write "Laporan Warga".
        write_config(config_for(mail_world, tmp_path, intake={
            "poll_seconds": LONG_POLL, "subject_phrases": ["Pengaduan Masyarakat", "Laporan Warga"]}),
            path)
        mail_world.deliver(INBOX, complaint(subject="Laporan Warga"))
        running.signal(signal.SIGHUP)
        notify.wait_for(lambda line: line == "RELOADING=1", "RELOADING=1")
        notify.wait_for(is_ready, "READY=1 after the reload", count=2)
        running.wait_for_log(f"configuration reloaded from {path}")
        _wait_until(lambda: len(mail_world.messages(SITI)) == 1, "the new phrase's ack")

        # Loads, but names a CA file that is not there: refused; the running one still serves.
        good = path.read_text()
        path.write_text(good.replace('security = "plain"', 'security = "ssl"\ntls_ca_file = '
                                     f'"{tmp_path / "missing-ca.pem"}"', 1))
        mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>"))
        running.signal(signal.SIGHUP)
        notify.wait_for(is_ready, "READY=1 after the refused reload", count=3)
        running.wait_for_log("configuration reload refused, the running configuration stays: ")
        assert "missing-ca.pem" in _line_with(running.text(), "reload refused")
        _wait_until(lambda: len(mail_world.messages(BUDI)) == 1, "an ack with the old config")

        # Does not load at all: a misspelt key, named in the one ERROR line.
        path.write_text(good.replace("[intake]", "[intake]\npoll_second = 5", 1))
        running.signal(signal.SIGHUP)
        notify.wait_for(is_ready, "READY=1 after the second refused reload", count=4)
        _wait_until(lambda: running.text().count("reload refused") == 2, "a second refusal")
        line = _line_with(running.text(), "reload refused")
        assert " ERROR " in line and "[intake] poll_second: unknown key" in line, line
        assert running.process.poll() is None

        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
    assert len(tickets(cfg)) == 2


#: Mail servers that are not there: port 1 refuses connections.
NOWHERE = SimpleNamespace(imap_host="127.0.0.1", imap_port=1, smtp_host="127.0.0.1", smtp_port=1,
                          users={INBOX: "x"})


def test_with_imap_down_at_start_it_is_ready_all_the_same_and_says_so(tmp_path: Path) -> None:
    """The outbox must keep sending while IMAP is down, so READY does not wait for IMAP."""
    cfg = config_for(NOWHERE, tmp_path, intake={"poll_seconds": LONG_POLL})
    with daemon(cfg, tmp_path) as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(lambda line: line.startswith("STATUS=IMAP unreachable since "), "STATUS",
                        count=2)  # with READY, then after the first poll
        [with_ready, after_poll] = [line for line in notify.lines() if "unreachable" in line]
        assert "; next try " in with_ready and with_ready.endswith("; the outbox works"), with_ready
        assert "; last pass " in after_poll and after_poll.endswith(", 0 sent"), after_poll
        assert "imap unreachable at start" in running.text()

        # What systemd's watchdog sends to a hung daemon: the log must show where it was.
        running.signal(signal.SIGABRT)
        running.process.wait(timeout=10)
        assert "Fatal Python error: Aborted" in running.text()
        assert "mailflow/daemon.py" in running.text()


def test_a_configuration_error_at_start_exits_78_before_ready(tmp_path: Path) -> None:
    """The exit status systemd's RestartPreventExitStatus=78 sees: the main process's own."""
    cfg = config_for(NOWHERE, tmp_path, imap={"security": "ssl",
                                              "tls_ca_file": str(tmp_path / "missing-ca.pem")})
    with daemon(cfg, tmp_path) as (running, notify):
        assert running.process.wait(timeout=30) == 78
        notify.collect(0.1)
        assert "READY=1" not in notify.lines()
        assert any(line.startswith("STATUS=not started: ") and "missing-ca.pem" in line
                   for line in notify.lines()), notify.lines()
        assert "tls: [imap] tls_ca_file" in running.text()


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 20,
                notify: NotifySocket | None = None) -> None:
    """Until `condition`; with `notify`, reading the daemon's notifications meanwhile (the
    socket holds only a few, and a daemon pinging the watchdog would block on a full one)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if notify is None:
            time.sleep(0.1)
        else:
            notify.collect(0.1)


def _line_with(text: str, fragment: str) -> str:
    return next(line for line in reversed(text.splitlines()) if fragment in line)


@pytest.fixture(autouse=True)
def _short_socket_path(tmp_path: Path) -> None:
    """AF_UNIX paths stop at 107 bytes; fail with that reason, not an obscure OSError."""
    assert len(str(tmp_path / "notify")) < 100, tmp_path
