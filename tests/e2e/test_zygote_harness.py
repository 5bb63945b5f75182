"""The forked `mailflow` of tests/harness/zygote.py behaves as `python -m mailflow` would: the
command's own status and output, the caller's environment and directory, and a timeout that
ends the command without ending the helper. Most end-to-end tests run their commands this way,
so a harness that got these wrong would let them pass for the wrong reason."""

from __future__ import annotations

import os
import subprocess
import sys
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
    # `run` against an IMAP port nobody listens on keeps retrying: it never ends by itself.
    config = write_config(config_for(NO_SERVERS, tmp_path).model_dump(mode="json"),
                          tmp_path / "config.toml")
    env = {**os.environ, "MAILFLOW_CONFIG": ""}
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(["--config", str(config), "run"], env=env, cwd=tmp_path, timeout=3)
    assert zygote.run(["--version"], env=env, cwd=tmp_path, timeout=60).returncode == 0
