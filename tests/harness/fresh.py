"""Python code run by an interpreter of its own, for what one process has loaded: what a
module imports is only to be seen in a process that has not imported it yet."""

from __future__ import annotations

import subprocess
import sys


def printed_by(code: str) -> list[str]:
    """The lines `code` prints, run by a new interpreter; CalledProcessError if it fails,
    after passing on what the interpreter wrote to stderr (its traceback)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=60)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout,
                                            done.stderr)
    return done.stdout.splitlines()
