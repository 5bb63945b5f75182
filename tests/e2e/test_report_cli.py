"""`mailflow report` and `mailflow export --csv` as real processes on a real SQLite database
built through the store (as tests/store/test_report.py builds it): the figures of a month
counted by hand, a bad month refused with 65, and no identity of the 108 fixture
complaints in the text, the JSON, the HTML or the CSV (subjects included)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind, Status
from tests.e2e.leaks import Secrets, all_leaks
from tests.e2e.test_cli import mailflow, write_config
from tests.fixtures.identity_complaints import complaints
from tests.harness.postgres import store_url
from tests.store.test_report import build
from tests.unit.plan_support import KASI, WIB, config


def _config(tmp_path: Path, database: Path) -> Path:
    # The database build() and _identity_database() filled: a file, or (MAILFLOW_TEST_DB)
    # the test's PostgreSQL database.
    url = store_url(tmp_path, database.name)
    cfg = config(storage={"directory": str(tmp_path / "state")}, database={"url": url})
    return write_config(cfg, tmp_path / "config.toml")


def test_october_as_text_json_and_html(tmp_path: Path) -> None:
    """October 2026 of the hand-counted fixture (tests/store/test_report.py): T0 (15 Oct,
    never answered, due 26 Oct) and T00 (20 Oct, answered 21 Oct, closed 3 Nov, after the
    cutoff). At the cutoff, Sunday 1 Nov 00:00: received 2, one in time and one late =
    50.0 %, median response 1; T0 overdue by the working days in (26 Oct, 1 Nov] = 4, plus
    one because 1 Nov is not a working day = 5; nothing closed yet."""
    build(tmp_path)
    path = _config(tmp_path, tmp_path / "db.sqlite3")
    page = tmp_path / "laporan.html"
    result = mailflow("--config", str(path), "report", "--month", "2026-10", "--json",
                      "--html", str(page))
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["month"] == "2026-10" and figures["received"] == 2
    assert figures["cutoff"] == "2026-11-01T00:00:00+07:00"
    assert figures["within_promise"] == {"in_time": 1, "late": 1, "pending": 0, "percent": 50.0}
    assert figures["first_response_days"] == {"count": 1, "median": 1.0, "p90": 1}
    assert figures["resolution_days"] == {"count": 0, "median": None, "p90": None}
    assert figures["closed"] == {"selesai": 0, "ditolak": 0}
    assert figures["by_status"]["diproses"] == 1 and figures["by_status"]["diterima"] == 1
    assert [(o["number"], o["days_late"]) for o in figures["overdue"]] == [("ADU-T0", 5)]
    assert len(figures["trend"]) == 12 and figures["trend"][-1]["month"] == "2026-10"

    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "<title id=\"grafik-diterima-title\">Pengaduan diterima per bulan</title>" in html
    assert "Persen (%)" in html and ">Bulan<" in html
    assert "<td>Oktober 2026</td><td style=\"text-align: right;\">2</td>" in html

    text = mailflow("--config", str(path), "report", "--month", "2026-10")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "Laporan pengaduan Oktober 2026"
    assert "Pengaduan diterima: 2" in lines
    assert any(line.startswith("Ditanggapi dalam batas janji (7 hari kerja): 50,0 % (1 dari 2")
               for line in lines)
    assert any(line.split()[:2] == ["ADU-T0", "2026-10-15"] for line in lines)


def test_a_bad_month_is_65_and_an_unwritable_file_74(tmp_path: Path) -> None:
    build(tmp_path)
    path = _config(tmp_path, tmp_path / "db.sqlite3")
    for command in (["report", "--month", "2026-13"], ["export", "--csv", "-", "--month", "11/2026"]):
        result = mailflow("--config", str(path), *command)
        assert result.returncode == 65, result
        assert "--month" in result.stderr and "write YYYY-MM" in result.stderr
        assert "Traceback" not in result.stderr
    nowhere = str(tmp_path / "no-such-dir" / "out")
    for command in (["report", "--month", "2026-10", "--html", nowhere], ["export", "--csv", nowhere]):
        result = mailflow("--config", str(path), *command)
        assert result.returncode == 74, result
        assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def _identity_database(tmp_path: Path) -> Path:
    """The 108 identity complaints as tickets of October 2026, subjects as the residents
    wrote them, every second one answered by Kasi and a third closed."""
    database = tmp_path / "db.sqlite3"
    engine = make_engine(store_url(tmp_path, database.name))
    prepare(engine)
    received = datetime(2026, 10, 5, 9, tzinfo=WIB)
    with transaction(engine) as session:
        for item in complaints():
            ticket = Ticket(number=f"ADU-2026-{item.index + 1:05d}", status=Status.DITERIMA,
                            received_at=received, due_date=date(2026, 10, 14),
                            subject=item.subject, description=item.text or "-",
                            message_key=item.message_id, created_at=received)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            person = item.person
            session.add(Reporter(ticket_id=ticket.id, name=person.name, nik=person.nik,
                                 phone=person.phone_written, address=person.address,
                                 email=person.email))
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                    kind=EventKind.CREATED, to_status=Status.DITERIMA))
            if item.index % 2:
                to = Status.SELESAI if item.index % 3 == 0 else Status.DIPROSES
                ticket.status = to
                session.add(TicketEvent(ticket_id=ticket.id, at=datetime(
                    2026, 10, 7, 9, tzinfo=WIB), actor=KASI, kind=EventKind.STATUS,
                    from_status=Status.DITERIMA, to_status=to))
    return database


def test_no_identity_in_the_report_nor_the_csv(tmp_path: Path) -> None:
    fixture = complaints()
    path = _config(tmp_path, _identity_database(tmp_path))
    page, sheet = tmp_path / "laporan.html", tmp_path / "tiket.csv"
    outputs: list[tuple[str, str]] = []
    for command in (["report", "--month", "2026-10"], ["report", "--month", "2026-10", "--json"],
                    ["export", "--csv", "-", "--with-subject"], ["export", "--csv", "-"]):
        result = mailflow("--config", str(path), *command)
        assert result.returncode == 0, result.stderr
        outputs.append((" ".join(command), result.stdout + result.stderr))
    for command, written in ((["report", "--month", "2026-10", "--html", str(page)], page),
                             (["export", "--csv", str(sheet), "--month", "2026-10",
                               "--with-subject"], sheet)):
        result = mailflow("--config", str(path), *command)
        assert result.returncode == 0, result.stderr
        outputs.append((written.name, written.read_text(encoding="utf-8")))
    assert json.loads(outputs[1][1])["received"] == len(fixture)
    rows = list(csv.DictReader(io.StringIO(outputs[2][1])))
    assert len(rows) == len(fixture)
    # The subjects are there (redacted), so the test looks at residents' own words.
    assert all(row["perihal"] for row in rows)
    assert sum("Pengaduan" in row["perihal"] for row in rows) > len(fixture) // 2
    assert "perihal" not in outputs[3][1].splitlines()[0]
    examined, leaks = all_leaks(Secrets(fixture), outputs)
    assert examined == 6
    assert leaks == []
    for item in fixture:
        assert all(item.person.email not in text.lower() for _, text in outputs)
