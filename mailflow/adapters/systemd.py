"""The systemd edge: sd_notify(3) messages to the service manager, without libsystemd.

Under `Type=notify` systemd passes a datagram socket in $NOTIFY_SOCKET (a path, or an
abstract name written with a leading '@') and reads newline-separated `KEY=value` lines from
it: READY=1, RELOADING=1, STOPPING=1, STATUS=..., WATCHDOG=1. The protocol is one
`sendto` per message, so it is written here in a few lines rather than adding a dependency:
systemd-python must be compiled against libsystemd's headers (a C toolchain on the village's
server), and the pure-Python sdnotify, unreleased since 2017, would save only these lines.

Outside systemd (a terminal, the tests without a socket, `poll --once`) every call is a
no-op, so the daemon calls these unconditionally. A failed send never stops the daemon:
systemd's own sd_notify() ignores a missing manager the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


def notify_address(value: str) -> str | None:
    """$NOTIFY_SOCKET as an AF_UNIX address: '@name' is Linux's abstract namespace ('\\0name');
    anything but an absolute path or '@' (e.g. systemd 254's vsock:) is not supported here."""
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 pings, or None when systemd expects none.

    systemd sets WATCHDOG_USEC from `WatchdogSec=` (and WATCHDOG_PID to the process it means);
    a quarter of it leaves room for a late ping, where sd_watchdog_enabled(3) asks for half.
    """
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    wanted_pid = environ.get("WATCHDOG_PID", "")
    if usec <= 0 or (wanted_pid and wanted_pid != str(pid)):
        return None
    return usec / 1_000_000 / 4


class Notifier:
    """Tells systemd what the daemon is doing; every method is a no-op without $NOTIFY_SOCKET."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        self.address = notify_address(raw) if raw else None
        if raw and self.address is None:
            log.warning("NOTIFY_SOCKET=%r is not a path or an abstract socket; systemd will not "
                        "hear from mailflow", raw)
        self.watchdog_seconds = watchdog_interval(env, os.getpid()) if self.address else None
        self._failed = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """One datagram of `KEY=value` lines; False when it could not be sent (logged once)."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("cannot notify systemd at %r: %s", self.address.replace("\0", "@"), exc)
                self._failed = True
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={_one_line(status)}")

    def reloading(self) -> bool:
        """RELOADING=1 with the MONOTONIC_USEC that systemd 253 and later ask for beside it."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}",
                         "STATUS=reloading the configuration")

    def stopping(self, status: str = "stopping") -> bool:
        return self.send("STOPPING=1", f"STATUS={_one_line(status)}")

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={_one_line(status)}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")


def _one_line(text: str) -> str:
    """STATUS= ends at the first newline; several problems are joined instead of cut off."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())
