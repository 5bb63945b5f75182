"""One process per mailbox: an exclusive lock that a process holds for each pass.

`mailflow run` and an administrator's `mailflow poll --once` on the same mailbox would
otherwise take the same messages at the same moment and collide on the database's unique
keys. The lock is an flock(2) on a file in the storage directory, named after the mailbox
(so different mailboxes never wait for each other), holding the holder's pid for the
message of whoever waits. The kernel releases it when the holder exits, however it exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from pathlib import Path

from mailflow.errors import StorageUnavailable
from mailflow.store.files import PRIVATE_FILE


class MailboxLock:
    def __init__(self, directory: Path, mailbox: str) -> None:
        digest = hashlib.sha256(mailbox.encode()).hexdigest()[:16]
        self.path = directory / f"mailbox-{digest}.lock"
        self._fd: int | None = None

    def acquire(self, wait: float, *, step: float = 0.1) -> bool:
        """Take the lock, waiting up to `wait` seconds for another holder; False if it held on."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        except OSError as exc:
            raise StorageUnavailable(f"lock file {str(self.path)!r}: {exc.strerror or exc}") from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(min(step, max(0.0, deadline - time.monotonic())))
        with contextlib.suppress(OSError):  # the pid is for messages only
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder(self) -> int | None:
        """The pid of the process that took the lock last (while it is held: the holder)."""
        try:
            return int(self.path.read_text().strip() or "0") or None
        except (OSError, ValueError):
            return None
