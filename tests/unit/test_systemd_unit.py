"""systemd/mailflow.service: sandboxed (systemd's own rating, 2.0 or below), valid, and saying
what the daemon relies on (Type=notify, the watchdog, SIGHUP, exit 78 ends the restarts).

systemd-analyze works without systemd running (offline rating, verify), so these run on CI's
Debian 12 as on a developer's machine; they are skipped only where systemd-analyze is absent.
"""

from __future__ import annotations

import mmap
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import wx

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "mailflow.service"
INSTALLED_BINARY = "/opt/mailflow/.venv/bin/mailflow"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed "
                                   "(Debian package systemd); CI's Debian 12 has it")


def settings() -> dict[str, list[str]]:
    """Every `Key=value` of the unit, a key given twice keeping both values in order."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def exposure() -> tuple[str, subprocess.CompletedProcess[str]]:
    assert ANALYZE is not None
    result = subprocess.run([ANALYZE, "security", "--offline=yes", "--threshold=20", "--no-pager",
                             str(UNIT)], capture_output=True, text=True, timeout=60, check=False)
    found = re.search(r"Overall exposure level for mailflow\.service: (\d+\.\d) (\w+)", result.stdout)
    assert found, result.stdout + result.stderr
    return f"{found.group(1)} {found.group(2)}", result


@needs_analyze
def test_the_sandbox_rates_2_0_or_below_and_the_readme_says_so() -> None:
    rating, result = exposure()
    assert float(rating.split()[0]) <= 2.0, result.stdout
    assert result.returncode == 0, result.stdout  # --threshold=20: exit 1 above 2.0
    # The figure the administrator reads must be the one systemd gives.
    assert f"rates it {rating}" in (ROOT / "README.md").read_text()
    assert f"rates this unit {rating}" in UNIT.read_text()


@needs_analyze
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    """verify wants ExecStart's program to exist: a copy of the unit runs this checkout's."""
    program = shutil.which("mailflow", path=str(Path(sys.executable).parent))
    assert program, "mailflow is not installed in this environment: pip install -e '.[test]'"
    assert INSTALLED_BINARY in UNIT.read_text()
    copy = tmp_path / "mailflow.service"
    copy.write_text(UNIT.read_text().replace(INSTALLED_BINARY, program))
    assert ANALYZE is not None
    result = subprocess.run([ANALYZE, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60, check=False)
    ours = [line for line in result.stderr.splitlines() if "mailflow" in line]
    assert result.returncode == 0 and not ours, result.stderr


def test_the_unit_says_what_the_daemon_relies_on() -> None:
    unit = settings()
    assert unit["Type"] == ["notify"]
    assert unit["ExecStart"] == [f"{INSTALLED_BINARY} run"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["WatchdogSec"] and unit["RestartPreventExitStatus"] == ["78"]
    # systemd ignores RestartPreventExitStatus= for ExecStartPre=: the check is inside `run`.
    assert "ExecStartPre" not in unit
    assert unit["MemoryDenyWriteExecute"] == ["yes"]
    assert unit["StateDirectory"] == ["mailflow"] and unit["User"] == ["mailflow"]


def test_python_runs_with_write_xor_execute_memory() -> None:
    """The daemon's tests run mailflow under W^X (tests/harness/wx.py); this shows the refusal
    is real, so that MemoryDenyWriteExecute=yes is tested by them rather than assumed."""
    if not wx.supported():
        pytest.skip("this kernel has no prctl(PR_SET_MDWE) (Linux 6.3 or later)")
    probe = ("import mmap\ntry:\n    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | "
             "mmap.PROT_EXEC)\nexcept PermissionError:\n    print('refused')\n")
    result = subprocess.run([*wx.prefix(), sys.executable, "-c", probe], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.stdout.strip() == "refused", result.stderr
    # Without the prefix the same mapping is allowed: the refusal is W^X's, not this machine's.
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC).close()
