"""The daemon's self-pipe: signal handlers write to it, the wait between passes watches it."""

from __future__ import annotations

import contextlib
import os
import select


class Wakeup:
    """A self-pipe that signal handlers write to and the wait between polls watches.

    A signal handler runs in the main thread between two bytecodes, possibly while the main
    thread holds a threading.Event's lock, so Event.set() from a handler can deadlock; a write
    to a non-blocking pipe cannot, and a byte written before the wait starts is not lost.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full of wake-ups already
            os.write(self._write, b"\0")

    def wait(self, seconds: float) -> None:
        """Until `seconds` passed or wake() was called (now or since the last wait)."""
        ready, _, _ = select.select([self._read], [], [], max(0.0, seconds))
        if ready:
            self.drain()

    def fileno(self) -> int:
        """The end to watch beside other descriptors (the IMAP IDLE connection)."""
        return self._read

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 512):
                pass

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)
