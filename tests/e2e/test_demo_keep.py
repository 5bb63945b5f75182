"""`mailflow demo --keep DIR`: only into a directory the demo made, never twice, and a closing
hint that works as printed (a real ticket number, and `demo --serve DIR` to start the demo's
mail servers again on the kept ports)."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import tomllib
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailflow.demo.mail import INBOX
from tests.harness import zygote

ROOT = Path(__file__).resolve().parents[2]
# The demo makes its own SQLite file whatever MAILFLOW_TEST_DB says.
pytestmark = pytest.mark.no_test_database


def mailflow(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return zygote.run(list(args), timeout=timeout, cwd=ROOT,
                      env={**os.environ, "MAILFLOW_CONFIG": ""})


def ticket_ids(config: Path) -> list[str]:
    listed = mailflow("--config", str(config), "tickets", "--json")
    assert listed.returncode == 0, listed.stderr
    return [row["id"] for row in json.loads(listed.stdout)]


def test_kept_demo_is_refused_a_second_time_and_its_hint_names_a_real_ticket(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    first = mailflow("demo", "--keep", str(kept))
    assert first.returncode == 0, first.stderr[-2000:]
    config = kept / "config.toml"
    assert (kept / ".mailflow-demo").is_file()
    assert "show ADU-..." not in first.stdout
    assert f"mailflow --config {config} show ADU-2026-00001" in first.stdout
    assert "ports in that config are closed" in first.stdout
    shown = mailflow("--config", str(config), "show", "ADU-2026-00001")
    assert shown.returncode == 0, shown.stderr
    before = ticket_ids(config)
    assert before == ["ADU-2026-00001", "ADU-2026-00002", "ADU-2026-00003"]
    written = config.read_bytes()

    again = mailflow("demo", "--keep", str(kept))

    assert again.returncode == 2
    assert f"{kept} already holds a demo; remove it" in again.stderr
    assert "Traceback" not in again.stderr
    assert ticket_ids(config) == before
    assert config.read_bytes() == written

    # `demo --serve DIR` starts the servers again on the kept ports: the kept config polls,
    # and a complaint sent to the SMTP port becomes the next ticket.
    assert f"mailflow demo --serve {kept}" in first.stdout
    ports = tomllib.loads(config.read_text())
    server = subprocess.Popen([sys.executable, "-m", "mailflow", "demo", "--serve", str(kept)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] not in ("", "Ctrl-C stops the servers.\n"):
            lines.append(server.stdout.readline())  # "" at EOF: the server ended
        assert lines[-1], "".join(lines) + (server.stderr.read() if server.stderr else "")
        message = EmailMessage()
        message["From"], message["To"] = "siti@warga.example", INBOX
        message["Subject"] = "Pengaduan Masyarakat"
        message.set_content("Nama: Siti Aminah\nSelokan di RT 04 tersumbat sejak kemarin.")
        with smtplib.SMTP("127.0.0.1", ports["smtp"]["port"], timeout=10) as smtp:
            smtp.send_message(message)
        polled = mailflow("--config", str(config), "poll", "--once")
        assert polled.returncode == 0, polled.stderr[-2000:]
        assert ticket_ids(config) == [*before, "ADU-2026-00004"]
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0


def test_a_directory_the_demo_did_not_make_is_left_alone(tmp_path: Path) -> None:
    foreign = tmp_path / "etc-mailflow"
    foreign.mkdir()
    (foreign / "config.toml").write_text("# my real config\n")

    result = mailflow("demo", "--keep", str(foreign))

    assert result.returncode == 2
    assert "is not empty and was not made by `mailflow demo`" in result.stderr
    assert (foreign / "config.toml").read_text() == "# my real config\n"
    assert sorted(p.name for p in foreign.iterdir()) == ["config.toml"]
    served = mailflow("demo", "--serve", str(foreign))
    assert served.returncode == 2
    assert "holds no demo kept by `mailflow demo --keep`" in served.stderr


def test_an_empty_directory_may_be_used(tmp_path: Path) -> None:
    from mailflow.demo.scenario import keep_refusal

    assert keep_refusal(tmp_path) is None
    assert keep_refusal(tmp_path / "new") is None
    (tmp_path / "file").write_text("x")
    assert "not a directory" in (keep_refusal(tmp_path / "file") or "")
