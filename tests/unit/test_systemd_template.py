"""systemd/mailflow@.service: one unit per configuration file (a regency's fleet), with
mailflow.service's hardening unchanged, and valid for systemd."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "systemd" / "mailflow@.service"
SINGLE = ROOT / "systemd" / "mailflow.service"
#: What the template may say otherwise: which file it runs, and how it describes itself.
OWN = {"Description", "Environment"}


def settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_instance_names_the_configuration_file() -> None:
    template = settings(TEMPLATE)
    assert template["Environment"] == ["MAILFLOW_CONFIG=/etc/mailflow/%i.toml"]
    assert template["ExecStart"] == ["/opt/mailflow/.venv/bin/mailflow run"]
    assert "%i" in template["Description"][0]


def test_the_template_keeps_every_hardening_and_service_setting_of_the_single_unit() -> None:
    template, single = settings(TEMPLATE), settings(SINGLE)
    assert {k: v for k, v in template.items() if k not in OWN} == \
        {k: v for k, v in single.items() if k not in OWN}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_rates_an_instance_like_the_single_unit(tmp_path: Path) -> None:
    unit = tmp_path / "mailflow@semarang.service"
    unit.write_text(TEMPLATE.read_text())
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                             "--no-pager", str(unit)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
