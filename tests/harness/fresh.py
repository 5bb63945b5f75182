"""Python code run by an interpreter of its own, for what one process has loaded: what a
module imports is only to be seen in a process that has not imported it yet."""

from __future__ import annotations

import subprocess
import sys


def printed_by(code: str) -> list[str]:
    """The lines `code` prints, run by a new interpreter; CalledProcessError if it fails."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    return done.stdout.splitlines()
