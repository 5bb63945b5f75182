"""One process per mailbox: the lock file of store/lock.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mailflow.store.lock import MailboxLock

MAILBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"


def test_a_second_holder_waits_then_gives_up_and_learns_the_holders_pid(tmp_path: Path) -> None:
    first, second = MailboxLock(tmp_path, MAILBOX), MailboxLock(tmp_path, MAILBOX)
    assert first.acquire(0)
    assert not second.acquire(0.2)
    assert second.holder() == os.getpid()
    first.release()
    assert second.acquire(0)
    second.release()
    assert oct(first.path.stat().st_mode & 0o777) == "0o600"


def test_other_mailboxes_do_not_wait(tmp_path: Path) -> None:
    first, other = MailboxLock(tmp_path, MAILBOX), MailboxLock(tmp_path, "x@y/INBOX")
    assert first.acquire(0) and other.acquire(0)
    first.release()
    other.release()


def test_a_holder_that_dies_releases_it(tmp_path: Path) -> None:
    code = ("import sys, os; from pathlib import Path; from mailflow.store.lock import MailboxLock;"
            f"lock = MailboxLock(Path({str(tmp_path)!r}), {MAILBOX!r}); assert lock.acquire(0);"
            "print('held', flush=True); sys.stdin.readline(); os._exit(1)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    waiting = MailboxLock(tmp_path, MAILBOX)
    assert not waiting.acquire(0)
    assert waiting.holder() == holder.pid
    holder.communicate("go\n")
    assert waiting.acquire(1.0)
    waiting.release()
