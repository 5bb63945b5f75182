"""The clerk's and the administrator's day at the command line (issue 8, "Day to day"):
`outbox`, what `show` says about each mail, `tickets` with its filters, `trace`.

Every output here is also searched for the reporters' identities (tests/e2e/leaks.py):
these commands are read by people without identity rights.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailflow.cli import main
from mailflow.service import Service
from tests.e2e.leaks import Secrets, all_leaks
from tests.e2e.support import KASI, SEKDES, config_for, outbox
from tests.e2e.test_cli import ROOT, write_config
from tests.fixtures.identity_complaints import complaints
from tests.harness import zygote

pytestmark = pytest.mark.e2e

FIXTURE = complaints(3)  # residents whose addresses have no mailbox: their mail is parked


def _poll(cfg: Any) -> None:
    service = Service(cfg)
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def office(mail_world: Any, tmp_path: Path) -> tuple[Any, Path]:
    """Three complaints taken; each acknowledgement refused for good (no such mailbox)."""
    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    for item in FIXTURE:
        mail_world.deliver("pengaduan@klero.desa.id", item.raw())
    _poll(cfg)
    return cfg, path


def _no_leaks(where: str, text: str) -> None:
    leaks = all_leaks(Secrets(FIXTURE), [(where, text)])[1]
    assert leaks == [], leaks
    for item in FIXTURE:
        assert item.person.email not in text.lower()


def test_outbox_lists_parked_mail_and_retries_it(office: tuple[Any, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg, path = office
    parked = sorted(o.id for o in outbox(cfg) if o.state == "parked")
    assert len(parked) == 3  # the three acknowledgements

    status, out, _ = _run(capsys, "--config", str(path), "outbox")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "JENIS", "TIKET", "KEADAAN"]
    ack_lines = [line for line in lines if "tanda terima" in line]
    assert len(ack_lines) == 3
    assert all("ditahan" in line and "pelapor" in line and "550 5.1.1 No such user" in line
               for line in ack_lines), ack_lines
    assert "ADU-2026-00001" in ack_lines[0]
    _no_leaks("outbox", out)

    status, out, _ = _run(capsys, "--config", str(path), "outbox", "--json")
    rows = json.loads(out)
    assert {(r["kind"], r["state"], r["recipient"]) for r in rows} == {("ack", "parked", "pelapor")}
    assert rows[0]["ticket"] == "ADU-2026-00001" and rows[0]["attempts"] == 1
    assert rows[0]["created_at"].endswith("+07:00")
    assert "'<alamat>'" in rows[0]["last_error"]  # the server quoted the resident's address
    _no_leaks("outbox --json", out)

    status, _, err = _run(capsys, "--config", str(path), "outbox", "--retry", str(parked[0]),
                          "99999")
    assert status == 65 and "99999" in err
    assert sorted(o.id for o in outbox(cfg) if o.state == "parked") == parked  # nothing changed

    status, out, _ = _run(capsys, "--config", str(path), "outbox", "--retry", str(parked[0]))
    assert status == 0 and out.startswith("1 parked message(s) put back")
    assert [o.id for o in outbox(cfg) if o.state == "pending"] == [parked[0]]
    status, out, _ = _run(capsys, "--config", str(path), "outbox", "--parked")
    assert len([line for line in out.splitlines() if "tanda terima" in line]) == 2


def test_show_says_whether_each_mail_went_out(office: tuple[Any, Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, path = office
    status, out, _ = _run(capsys, "--config", str(path), "show", "ADU-2026-00001")
    assert status == 0
    lines = out.splitlines()
    mail = lines[lines.index("Email keluar:") + 1:lines.index("Riwayat:")]
    ack = next(line for line in mail if "tanda terima untuk pelapor" in line)
    assert "DITAHAN setelah 1 percobaan" in ack and "mailflow outbox --retry" in ack
    notify = next(line for line in mail if f"pemberitahuan tiket untuk {SEKDES}" in line)
    assert ": terkirim 20" in notify and notify.endswith(" WIB")
    trail = lines[lines.index("Riwayat:") + 1:]
    assert "tiket dibuat ->diterima  oleh sistem" in trail[0] and " WIB  " in trail[0]
    assert not any(" created " in line for line in lines)
    _no_leaks("show", out)


def _change_tickets(cfg: Any, **by_number: dict[str, Any]) -> None:
    """What staff commands would have done: a priority, an assignee, a due date passed."""
    from sqlmodel import Session, select

    from mailflow.store.db import make_engine
    from mailflow.store.models import Ticket

    engine = make_engine(cfg.database_url)
    with Session(engine) as session:
        for ticket in session.exec(select(Ticket)).all():
            for name, value in by_number.get(ticket.number.replace("-", "_"), {}).items():
                setattr(ticket, name, value)
            session.add(ticket)
        session.commit()
    engine.dispose()


def test_tickets_marks_overdue_and_filters(office: tuple[Any, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import date

    cfg, path = office
    # 00001 is closed: past its due date, but not overdue. Priorities are set here, whatever
    # the suggester made of the complaints' texts (tests/e2e/test_priority_mail.py).
    _change_tickets(cfg, ADU_2026_00002={"priority": "tinggi", "assignee": KASI},
                    ADU_2026_00003={"due_date": date(2026, 1, 5), "priority": "sedang"},
                    ADU_2026_00001={"due_date": date(2026, 1, 6), "status": "selesai",
                                    "priority": "sedang"})

    def listed(*options: str) -> list[str]:
        status, out, _ = _run(capsys, "--config", str(path), "tickets", *options)
        assert status == 0
        _no_leaks(f"tickets {options}", out)
        return out.splitlines()

    header, *lines = listed()
    assert header.split()[:4] == ["TIKET", "STATUS", "PRIORITAS", "PETUGAS"]
    # Most urgent first: the high priority, then by due date (the overdue one first).
    assert [line[:14] for line in lines] == ["ADU-2026-00002", "ADU-2026-00003", "ADU-2026-00001"]
    assert f"tinggi    {KASI}" in lines[0] and " WIB " in lines[0]
    assert "2026-01-05   TERLAMBAT" in lines[1]
    assert not any("TERLAMBAT" in line for line in (lines[0], lines[2]))
    assert [line[:14] for line in listed("--overdue")[1:]] == ["ADU-2026-00003"]
    assert [line[:14] for line in listed("--priority", "high")[1:]] == ["ADU-2026-00002"]
    assert [line[:14] for line in listed("--assignee", KASI.upper())[1:]] == ["ADU-2026-00002"]
    assert [line[:14] for line in listed("--assignee", "-")[1:]] == ["ADU-2026-00003",
                                                                    "ADU-2026-00001"]
    assert listed("--status", "verified") == ["Tidak ada tiket yang cocok dengan filter."]
    assert len(listed("--status", "new")) == 3  # "new" is #status baru: diterima
    with pytest.raises(SystemExit) as refused:
        main(["--config", str(path), "tickets", "--status", "bogus"])
    assert refused.value.code == 2

    _, out, _ = _run(capsys, "--config", str(path), "tickets", "--json", "--overdue")
    [row] = json.loads(out)
    assert (row["id"], row["overdue"], row["priority"], row["assignee"]) == (
        "ADU-2026-00003", True, "sedang", "-")
    assert "received_at_text" not in row


def test_trace_finds_what_happened_to_each_email_without_printing_the_sender(
        office: tuple[Any, Path], mail_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from mailflow.store.models import IntakeRecord, SkippedMessage
    from tests.e2e.support import complaint, rows

    cfg, path = office
    siti = FIXTURE[0].person
    sender = f"{siti.name} <{siti.email}>"
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # Saturday 21 November, 06:30 in WIB
    mail_world.deliver("pengaduan@klero.desa.id",
                       complaint(sender=sender, subject="Undangan arisan RT", body="Datang ya."),
                       internaldate=late)
    mail_world.deliver("pengaduan@klero.desa.id", FIXTURE[0].raw())  # the same message again
    mail_world.deliver("pengaduan@klero.desa.id",
                       complaint(sender=sender, body="Saya sedang cuti.", **{
                           "Auto-Submitted": "auto-replied"}))
    _poll(cfg)

    def traced(*options: str) -> tuple[int, list[str]]:
        status, out, err = _run(capsys, "--config", str(path), "trace", *options)
        _no_leaks(f"trace {options}", out + err)
        return status, out.splitlines()

    status, lines = traced("--from", siti.email.upper())
    assert status == 0
    assert lines[0].split() == ["DITERIMA", "UID", "KEPUTUSAN", "TIKET", "ALASAN"]
    by_decision = {re.split(r"\s{2,}", line)[2]: line for line in lines[1:]}
    assert set(by_decision) == {"tiket baru", "dilewati (bukan pengaduan)", "duplikat",
                                "diabaikan"}, lines
    assert "ADU-2026-00001  subjek memuat kata kunci pengaduan" in by_decision["tiket baru"]
    assert "subjek tidak memuat kata kunci" in by_decision["dilewati (bukan pengaduan)"]
    assert "2026-11-21 06:30 WIB" in by_decision["dilewati (bukan pengaduan)"]
    assert "pesan yang sama sudah diterima untuk ADU-2026-00001" in by_decision["duplikat"]
    assert "balasan otomatis (auto-submitted" in by_decision["diabaikan"]

    status, lines = traced("--message-id", FIXTURE[1].message_id.strip("<>"))
    assert status == 0 and len(lines) == 2 and "ADU-2026-00002" in lines[1]
    status, lines = traced("--date", "2026-11-21")
    assert status == 0 and len(lines) == 2 and "dilewati" in lines[1]
    status, lines = traced("--date", "2026-11-20", "--from", siti.email)
    assert (status, lines) == (66, ["Tidak ada email yang cocok.", lines[1]])
    assert traced("--from", "orang-lain@warga.example")[0] == 66
    assert traced()[0] == 2
    status, out, err = _run(capsys, "--config", str(path), "trace", "--date", "2026-02-30")
    assert status == 65 and "no such date" in err

    status, out, _ = _run(capsys, "--config", str(path), "trace", "--json", "--from", siti.email)
    assert [row["decision"] for row in json.loads(out)] == [
        "skipped", "ticket", "duplicate", "ignored"]

    # The database keeps no sender address either: a keyed digest, its key 0600 beside it.
    stored = [*rows(cfg, IntakeRecord), *rows(cfg, SkippedMessage)]
    assert all(len(row.sender_digest or "") == 64 for row in stored)
    assert not any(siti.email in json.dumps(row.model_dump(), default=str) for row in stored)
    key = cfg.storage_dir / "sender-digest.key"
    assert key.stat().st_mode & 0o777 == 0o600


# -- deadline (newcomer item 17): no servers needed --------------------------------------------

def _deadline(*args: str, env: dict[str, str] | None = None,
              as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    """`mailflow deadline` in its own process; `as_nobody`: as a user who cannot read a 0600
    file of root's (root itself reads every file)."""
    prefix = (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
              if as_nobody and os.geteuid() == 0 else [])
    environment = {**os.environ, "MAILFLOW_CONFIG": "", **(env or {})}
    if not prefix:
        return zygote.run(["deadline", *args], timeout=60, cwd=ROOT, env=environment)
    return subprocess.run([*prefix, sys.executable, "-m", "mailflow", "deadline", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment)


def test_deadline_names_the_days_it_skipped_and_the_zone_it_assumed() -> None:
    result = _deadline("2026-03-16T10:00")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["2026-04-01", "Rabu, 1 April 2026"]
    assert lines[2:] == [
        "skipped 2026-03-18 (Rabu): Cuti Bersama Hari Suci Nyepi",
        "skipped 2026-03-19 (Kamis): Hari Suci Nyepi",
        "skipped 2026-03-20 (Jumat): Cuti Bersama Hari Raya Idul Fitri",
        "skipped 2026-03-23 (Senin): Cuti Bersama Hari Raya Idul Fitri",
        "skipped 2026-03-24 (Selasa): Cuti Bersama Hari Raya Idul Fitri",
    ]
    assert "read as 2026-03-16 10:00 WIB (Asia/Jakarta)" in result.stderr
    with_offset = _deadline("2026-03-16T10:00+07:00")
    assert "read as" not in with_offset.stderr


def test_deadline_says_no_such_date() -> None:
    result = _deadline("2026-02-30")
    assert result.returncode == 65
    assert "no such date" in result.stderr and "ISO" not in result.stderr


def test_deadline_without_a_readable_config_uses_the_built_in_calendar(tmp_path: Path) -> None:
    private = tmp_path / "config.toml"
    private.write_text('[calendar]\nextra_holidays = [2026-03-17]\n')
    private.chmod(0o600)
    tmp_path.chmod(0o755)
    fallback = _deadline("2026-03-16T10:00+07:00", env={"MAILFLOW_CONFIG": str(private)},
                         as_nobody=True)
    assert fallback.returncode == 0, fallback.stderr
    assert fallback.stdout.splitlines()[0] == "2026-04-01"
    assert "is not readable by this user; the built-in calendar was used" in fallback.stderr
    named = _deadline("--config", str(private), "2026-03-16T10:00+07:00", as_nobody=True)
    assert named.returncode == 78  # named on the command line: it was meant
