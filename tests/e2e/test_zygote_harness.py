"""The forked `mailflow` of tests/harness/zygote.py behaves as `python -m mailflow` would: the
command's own status and output, the caller's environment and directory, and a timeout that
ends the command without ending the helper. Most end-to-end tests run their commands this way,
so a harness that got these wrong would let them pass for the wrong reason."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.e2e.support import config_for
from tests.e2e.test_backup import NO_SERVERS, write_config
from tests.harness import zygote

pytestmark = pytest.mark.no_test_database


def _both(args: list[str], env: dict[str, str], cwd: Path) -> list[tuple[int, str, str]]:
    forked = zygote.run(args, env=env, cwd=cwd, timeout=60)
    started = subprocess.run([sys.executable, "-m", "mailflow", *args], capture_output=True,
                             text=True, env=env, cwd=cwd, timeout=60, check=False)
    return [(r.returncode, r.stdout, r.stderr) for r in (forked, started)]


def test_status_and_output_are_the_commands_own() -> None:
    env = {**os.environ, "MAILFLOW_CONFIG": ""}
    forked, started = _both(["--version"], env, Path.cwd())
    assert forked == started == (0, f"mailflow {version('mailflow')}\n", "")
    forked, started = _both(["frobnicate"], env, Path.cwd())
    assert forked == started
    assert forked[0] == 2 and "invalid choice: 'frobnicate'" in forked[2]


def test_the_callers_environment_and_directory_decide(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("not = [toml\n")
    env = {**os.environ, "MAILFLOW_CONFIG": "bad.toml"}
    here, elsewhere = (zygote.run(["check", "--offline"], env=env, cwd=cwd, timeout=60)
                       for cwd in (tmp_path, tmp_path.parent))
    assert here.returncode == elsewhere.returncode == 78
    assert "bad.toml: not valid TOML" in here.stderr
    assert "bad.toml: file not found" in elsewhere.stderr
    assert _both(["check", "--offline"], env, tmp_path)[0] == (78, here.stdout, here.stderr)


def test_a_command_past_its_timeout_is_killed_and_the_next_one_runs(tmp_path: Path) -> None:
    env = {**os.environ, "MAILFLOW_CONFIG": ""}
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(_hanging_command(tmp_path), env=env, cwd=tmp_path, timeout=3)
    assert zygote.run(["--version"], env=env, cwd=tmp_path, timeout=60).returncode == 0


def _hanging_command(tmp_path: Path) -> list[str]:
    """`run` against an IMAP port nobody listens on keeps retrying: it never ends by itself."""
    config = write_config(config_for(NO_SERVERS, tmp_path).model_dump(mode="json"),
                          tmp_path / "config.toml")
    return ["--config", str(config), "run"]


def _processes_of(path: str) -> list[int]:
    """The processes whose command line names the zygote's socket `path`: the zygote and
    any child forked from it (a child keeps the zygote's command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and path.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def test_a_caller_that_gives_up_takes_its_command_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "MAILFLOW_CONFIG": ""}

    def give_up(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            zygote.run(_hanging_command(tmp_path), env=env, cwd=tmp_path, timeout=60)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    # Had the abandoned `run` lived on, the zygote would still be waiting for it.
    assert zygote.run(["--version"], env=env, cwd=tmp_path, timeout=10).returncode == 0


def test_a_zygote_that_dies_takes_its_command_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "MAILFLOW_CONFIG": ""}
    helper = zygote._zygote()
    path = helper.socket_path()
    killer = threading.Timer(2, lambda: helper._process and helper._process.kill())
    killer.start()
    with pytest.raises(RuntimeError, match="went away"):
        zygote.run(_hanging_command(tmp_path), env=env, cwd=tmp_path, timeout=60)
    killer.join()
    deadline = time.monotonic() + 10
    while _processes_of(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_of(path) == []
    assert zygote.run(["--version"], env=env, cwd=tmp_path, timeout=60).returncode == 0
