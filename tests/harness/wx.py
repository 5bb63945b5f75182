"""Runs a command with memory that is writable never also executable, as the unit's
MemoryDenyWriteExecute=yes runs mailflow, so that the tests find a dependency that needs it.

    python tests/harness/wx.py PROGRAM [ARG ...]

systemd enforces MemoryDenyWriteExecute with a seccomp filter; Linux 6.3 and later offer the
same refusal to any process through prctl(PR_SET_MDWE), which survives execve. On an older
kernel `prefix()` is empty and the command runs unconfined (`supported()` says why).
"""

from __future__ import annotations

import ctypes
import functools
import os
import subprocess
import sys
from pathlib import Path

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
_SCRIPT = str(Path(__file__).resolve())


def deny_write_execute() -> None:
    """Refuse, from now on, any mapping that is (or becomes) both writable and executable."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE) failed (Linux 6.3 or later needed)")


@functools.cache
def supported() -> bool:
    """Whether this kernel has PR_SET_MDWE, tried in a throwaway process."""
    probe = subprocess.run([sys.executable, _SCRIPT, "true"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def prefix() -> list[str]:
    """What to put before a command to run it under W^X, or nothing when the kernel cannot."""
    return [sys.executable, _SCRIPT] if supported() else []


if __name__ == "__main__":
    deny_write_execute()
    os.execvp(sys.argv[1], sys.argv[1:])
