"""mailflow/adapters/systemd.py: sd_notify's datagrams, abstract sockets, the watchdog interval,
and silence outside systemd."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailflow.adapters.systemd import Notifier, notify_address, watchdog_interval


def test_addresses_paths_and_the_abstract_namespace() -> None:
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert notify_address("@/org/freedesktop/systemd1/notify/42") == (
        "\0/org/freedesktop/systemd1/notify/42")
    assert notify_address("vsock:2:1234") is None


def test_the_watchdog_interval_is_a_quarter_of_watchdog_usec_for_this_process() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "180000000"}, pid=7) == 45.0
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"}, pid=7) == 0.5
    assert watchdog_interval({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "8"}, pid=7) is None
    assert watchdog_interval({}, pid=7) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}, pid=7) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid=7) is None


def test_without_notify_socket_everything_is_a_quiet_no_op(
        caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier({"WATCHDOG_USEC": "1000000"})
    assert not notifier.enabled and notifier.watchdog_seconds is None
    assert not notifier.ready("ready") and not notifier.watchdog() and not notifier.stopping()
    assert caplog.records == []


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.settimeout(5)
    yield str(path), sock
    sock.close()


def test_messages_reach_a_socket_path(listener: tuple[str, socket.socket]) -> None:
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000",
                         "WATCHDOG_PID": str(os.getpid())})
    assert notifier.watchdog_seconds == 0.1

    assert notifier.ready("ready; IMAP login ok")
    assert sock.recv(4096) == b"READY=1\nSTATUS=ready; IMAP login ok"
    notifier.status("storage unavailable:\n/var/lib/mailflow is read-only\n")
    assert sock.recv(4096) == b"STATUS=storage unavailable:; /var/lib/mailflow is read-only"
    notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    notifier.reloading()
    reloading = sock.recv(4096).decode().split("\n")
    assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
    notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


def test_messages_reach_an_abstract_socket() -> None:
    name = f"mailflow-test-{uuid.uuid4()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready("ready")
        assert sock.recv(4096) == b"READY=1\nSTATUS=ready"


def test_a_socket_that_is_gone_is_logged_once_and_never_raises(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    with caplog.at_level(logging.WARNING):
        assert not notifier.watchdog()
        assert not notifier.watchdog()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        f"cannot notify systemd at '{tmp_path / 'gone'}'"]
