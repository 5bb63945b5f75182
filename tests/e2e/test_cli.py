"""The `mailflow` command as an administrator and scripts use it: real processes, real servers."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.first_start import promise
from mailflow.core.workdays import calendar_for
from mailflow.demo.mail import to_toml
from tests.e2e.support import INBOX, SITI, complaint, config_for, outbox
from tests.harness import zygote

ROOT = Path(__file__).resolve().parents[2]


def mailflow(*args: str, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return zygote.run(list(args), timeout=timeout, cwd=ROOT,
                      env={**os.environ, "MAILFLOW_CONFIG": "", **(env or {})})


def write_config(cfg: Any, path: Path) -> Path:
    """The validated config written back as TOML, as an administrator would keep it."""
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    return path


def test_deadline_without_config() -> None:
    result = mailflow("deadline", "2026-03-17T10:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["2026-04-02", "Kamis, 2 April 2026"]


def test_deadline_with_offset_uses_the_village_day() -> None:
    # 22:00 UTC on Friday is Saturday 05:00 in WIB: counted from Saturday.
    result = mailflow("deadline", "2026-11-27T22:00+00:00")
    assert result.stdout.splitlines()[0] == "2026-12-08"


def test_deadline_warns_about_estimated_holidays() -> None:
    result = mailflow("deadline", "2027-03-05T10:00")
    assert result.returncode == 0
    assert "estimates" in result.stdout


def test_deadline_rejects_a_bad_date() -> None:
    result = mailflow("deadline", "kemarin")
    assert result.returncode == 65
    assert "not ISO 8601" in result.stderr


def test_bad_config_exits_78_and_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[village]\nname = "Desa Klero"\nnama = "x"\n')
    result = mailflow("--config", str(bad), "check")
    assert result.returncode == 78
    assert "[village] nama: unknown key" in result.stderr
    assert "smtp: missing" in result.stderr


def test_a_start_up_failure_under_journald_is_logged_as_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[village]\nname = "Desa Klero"\nnama = "x"\n')
    result = mailflow("--config", str(bad), "run", env={"JOURNAL_STREAM": "8:1234"})
    assert result.returncode == 78
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("<3>") for line in lines), lines
    assert any("[village] nama: unknown key" in line for line in lines), lines


def test_unknown_command_is_a_usage_error() -> None:
    assert mailflow("frobnicate").returncode == 2


@pytest.mark.e2e
def test_poll_without_once_is_one_pass(mail_world: Any, tmp_path: Path) -> None:
    path = write_config(config_for(mail_world, tmp_path), tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint())
    poll = mailflow("--config", str(path), "poll")
    assert poll.returncode == 0, poll.stderr
    assert len(json.loads(mailflow("--config", str(path), "tickets", "--json").stdout)) == 1


@pytest.mark.e2e
def test_poll_tickets_and_show(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint(),
                       internaldate=datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta")))

    assert mailflow("--config", str(path), "check").returncode == 0
    poll = mailflow("--config", str(path), "poll", "--once")
    assert poll.returncode == 0, poll.stderr
    listed = mailflow("--config", str(path), "tickets", "--json")
    [row] = json.loads(listed.stdout)
    assert row["id"] == "ADU-2026-00001"
    assert row["status"] == "diterima"
    assert row["channel"] == "email"
    assert row["received_at"] == "2026-11-27T10:00:00+07:00"
    # 7 working days from receipt (2026-12-08), or from the day it is taken once that day has
    # come: the CLI runs on the real clock (core/first_start.py `promise`).
    received = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta"))
    expected = promise(received, datetime.now(UTC), calendar_for(cfg.calendar)).due_date
    assert row["due_date"] == expected.isoformat()
    assert expected == date(2026, 12, 8) or datetime.now(UTC).date() >= date(2026, 12, 8)
    assert row["subject"] == "Pengaduan Masyarakat"
    assert "Siti" not in listed.stdout and SITI not in listed.stdout

    shown = mailflow("--config", str(path), "show", "ADU-2026-00001")
    assert "Identitas pelapor dirahasiakan" in shown.stdout
    assert "3322114506890002" not in shown.stdout
    revealed = mailflow("--config", str(path), "show", "ADU-2026-00001", "--with-identity")
    assert "3322114506890002" in revealed.stdout
    assert "identity viewed ticket=ADU-2026-00001" in revealed.stderr
    assert mailflow("--config", str(path), "show", "ADU-2026-09999").returncode == 66
    assert mailflow("--config", str(path), "tickets", "--status", "perlu_data").stdout.strip() == (
        "Tidak ada tiket yang cocok dengan filter.")


@pytest.mark.e2e
def test_poll_reports_an_unreachable_server(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, imap={"port": 1})
    path = write_config(cfg, tmp_path / "config.toml")
    result = mailflow("--config", str(path), "poll", "--once")
    assert result.returncode == 69
    assert "imap unavailable" in result.stderr


@pytest.mark.e2e
def test_daemon_answers_then_stops_cleanly_on_sigterm(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": 0.3})
    path = write_config(cfg, tmp_path / "config.toml")
    daemon = subprocess.Popen([sys.executable, "-m", "mailflow", "--config", str(path), "run"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        mail_world.deliver(INBOX, complaint())
        deadline = time.monotonic() + 30
        while not mail_world.messages(SITI) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(mail_world.messages(SITI)) == 1
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0
    assert "signal SIGTERM received" in stderr
    assert "mailflow stopped" in stderr


@pytest.mark.e2e
def test_show_prints_the_audit_trail(mail_world: Any, tmp_path: Path) -> None:
    from email import message_from_bytes
    from email.policy import default

    from tests.e2e.support import SEKDES
    from tests.e2e.test_workflow_mail import staff_reply

    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint())
    assert mailflow("--config", str(path), "poll", "--once").returncode == 0
    note = message_from_bytes(mail_world.messages(SEKDES)[0].raw, policy=default)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status diverifikasi\nSudah kami periksa."))
    assert mailflow("--config", str(path), "poll", "--once").returncode == 0

    shown = mailflow("--config", str(path), "show", "ADU-2026-00001").stdout

    assert "tiket dibuat ->diterima  oleh sistem" in shown
    assert (f"status diubah diterima->diverifikasi  oleh {SEKDES} [alamat balasan bertanda] "
            "pesan <") in shown
    assert "Sudah kami periksa." in shown
    assert "Siti" not in shown


def test_demo_runs_the_whole_cycle_on_embedded_servers() -> None:
    result = mailflow("demo", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "--- siti@warga.example: [ADU-2026-00001] Pengaduan Bapak/Ibu telah diterima" in out
    assert "- NIK (16 digit, sesuai KTP)" in out  # the HTML-only complaint without NIK
    assert "[ADU-2026-00001] Status pengaduan: Sudah diverifikasi" in out
    assert "(identity hidden: yes)" in out
    assert "ADU-2026-00001  diverifikasi" in out
    assert "== mailflow report --month" in out and "   Pengaduan diterima: 3" in out
    # The next working day's digest, through the demo's SMTP server: the verifier's lists the
    # two unassigned tickets (Budi's waiting for his data), the officer's the one assigned.
    digest = out[out.index("== The next working day"):]
    assert re.search(r"sekdes@klero\.desa\.id: Daftar pengaduan terbuka \w+, .* \(2 tiket\)", digest)
    assert re.search(r"kasi@klero\.desa\.id: Daftar pengaduan terbuka \w+, .* \(1 tiket\)", digest)
    assert "Batas waktu : menunggu data pelapor" in digest and "ADU-2026-00003" in digest
    assert "Budi" not in digest and "Rina" not in digest


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    result = mailflow("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mailflow {version('mailflow')}"


def _subcommands() -> dict[str, str | None]:
    """Each subcommand's name and its line in `mailflow --help`, from the parser itself."""
    import argparse

    from mailflow.cli import build_parser

    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return {action.dest: action.help for action in sub._choices_actions}


def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from mailflow.cli import build_parser

    commands = _subcommands()
    assert {"run", "poll", "check", "deadline", "outbox", "retry-parked", "tickets", "show",
            "db", "demo"} <= commands.keys()
    overview = mailflow("--help").stdout
    for name, text in commands.items():
        assert text, f"{name} has no help text"
        assert name in overview
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args([name, "--help"])
        assert exited.value.code == 0
        assert " ".join(text.split()) in " ".join(capsys.readouterr().out.split())


def test_options_parse_before_and_after_the_subcommand() -> None:
    from mailflow.cli import build_parser

    parse = build_parser().parse_args
    for argv in (["--config", "a.toml", "-v", "tickets"], ["tickets", "--config", "a.toml", "-v"],
                 ["-v", "tickets", "--config", "a.toml"]):
        args = parse(argv)
        assert (args.config, args.verbose) == ("a.toml", True), argv
    args = parse(["tickets"])
    assert (args.config, args.verbose) == (None, False)
    assert parse(["--config", "a.toml", "tickets", "--config", "b.toml"]).config == "b.toml"


def test_config_after_the_subcommand_is_used(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[village]\nname = "Desa Klero"\nnama = "x"\n')
    result = mailflow("check", "--config", str(bad), "-v")
    assert result.returncode == 78
    assert "[village] nama: unknown key" in result.stderr
    # Given before the subcommand, the value is not reset by the subcommand's own option.
    assert mailflow("--config", str(bad), "deadline", "2026-03-17T10:00", "-v").returncode == 78


@pytest.mark.e2e
def test_retry_parked_sends_refused_mail_once_the_cause_is_fixed(mail_world: Any,
                                                                 tmp_path: Path) -> None:
    stranger = "tidak-ada@warga.example"
    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint(sender=f"Orang <{stranger}>"))
    assert mailflow("--config", str(path), "poll", "--once").returncode == 0
    assert [o.state for o in outbox(cfg) if o.kind == "ack"] == ["parked"]

    mail_world.add_user(stranger, "orang-secret")  # the administrator fixed the cause
    retried = mailflow("retry-parked", "--config", str(path))
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.startswith("1 parked message(s) put back in the queue")
    assert [(o.state, o.attempts) for o in outbox(cfg) if o.kind == "ack"] == [("pending", 0)]
    assert mailflow("--config", str(path), "poll", "--once").returncode == 0
    assert len(mail_world.messages(stranger)) == 1
    assert mailflow("--config", str(path), "retry-parked").stdout.startswith("0 parked")


@pytest.mark.e2e
def test_under_journald_lines_carry_a_priority_and_no_timestamp(mail_world: Any,
                                                                tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint())

    first = mailflow("poll", "--once", "--config", str(path), env={"JOURNAL_STREAM": "8:1234"})
    idle = mailflow("poll", "--once", "--config", str(path), env={"JOURNAL_STREAM": "8:1234"})

    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    assert lines and all(line.startswith(("<6>", "<4>", "<3>")) for line in lines), lines
    assert any(line.startswith("<6>mailflow.runners.intake: ticket created") or
               "ticket created" in line for line in lines)
    assert not any(line[3:7].isdigit() for line in lines)  # no "2026-..." stamp after <N>
    assert idle.returncode == 0 and idle.stderr == ""  # an idle pass is silent at INFO
