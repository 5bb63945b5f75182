"""What `mailflow run` does with signals and systemd's watchdog, whether it serves one mailbox
(mailflow/daemon.py) or a regency's many (mailflow/fleet.py).

Signal handlers only set flags and wake the wait (adapters/wakeup.py): SIGTERM and SIGINT ask
for a stop after the message in hand, SIGHUP for a reload at the next turn of the loop. The
loop asks `stopping()` (which logs and tells systemd once, from the loop, since a handler
must not log) and calls `keepalive()` often enough to send WATCHDOG=1 twice per WatchdogSec.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

from mailflow.adapters.systemd import Notifier
from mailflow.adapters.wakeup import Wakeup

log = logging.getLogger("mailflow.daemon")


class ProcessControl:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.wakeup = Wakeup()
        self.stop_signal: str | None = None
        self.reload_requested = False
        self._stop_announced = False
        self._last_ping = time.monotonic()

    def install_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            self.stop_signal = self.stop_signal or signal.Signals(signum).name
            self.wakeup.wake()

        def reload(_signum: int, _frame: FrameType | None) -> None:
            self.reload_requested = True
            self.wakeup.wake()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def between_messages(self) -> bool:
        """Asked by the runners between messages: keeps the watchdog fed during a long poll,
        and True ends the poll there."""
        self.keepalive()
        return self.stopping()

    def stopping(self) -> bool:
        if self.stop_signal is None:
            return False
        self.notice_stop()
        return True

    def notice_stop(self) -> None:
        """Log and tell systemd once; from the loop, since a signal handler must not log."""
        if self._stop_announced:
            return
        self._stop_announced = True
        if self.stop_signal:
            log.info("signal %s received, stopping after the message in hand", self.stop_signal)
        self.notifier.stopping("stopping: finishing the message in hand")

    def keepalive(self) -> None:
        interval = self.notifier.watchdog_seconds
        now = time.monotonic()
        if interval and now - self._last_ping >= interval * 0.9:
            self.notifier.watchdog()
            self._last_ping = now

    def wait(self, seconds: float, piece: Callable[[float], float] = lambda left: left,
             turn: Callable[[], bool] = lambda: False) -> None:
        """The pause between passes, in pieces no longer than the watchdog interval (and
        `piece(left)`); a signal ends it at once, and so does `turn()` returning True."""
        end = time.monotonic() + seconds
        while not (self.stopping() or self.reload_requested):
            self.keepalive()
            left = end - time.monotonic()
            if left <= 0 or turn():
                return
            self.wakeup.wait(piece(min(left, self.notifier.watchdog_seconds or left)))

    def close(self) -> None:
        self.wakeup.close()
