"""The daily note about parked mail: once a working day, only when something is parked, after
the configured hour, across restarts (real SQLite, the real schedule and composer)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.config import Config
from mailflow.runners.box_reminder import SuggestionBoxReminder
from mailflow.runners.clock import ClockJob
from mailflow.runners.parked_note import ParkedMailNote, daily_jobs
from mailflow.runners.report import MonthlyReport
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import JobRun, OutboxMessage, Ticket
from mailflow.vocabulary import OutboxKind, OutboxState, Status
from tests.harness.postgres import store_url
from tests.unit.plan_support import ADMIN, KASI, SITI, config

# Monday 1 December 2026 (a working day), 09:00 WIB; the note is due from 08:00.
MONDAY_9 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
MONDAY_7 = MONDAY_9 - timedelta(hours=2)
SUNDAY_9 = MONDAY_9 - timedelta(days=2)
SMTP_ERROR = f"550 5.1.1 <{SITI}>: Recipient address rejected:\n user unknown in table"


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _park(engine: Engine, *, with_ticket: bool = True) -> None:
    with transaction(engine) as session:
        ticket_id = None
        if with_ticket:
            ticket = Ticket(number="ADU-2026-00007", status=Status.DITERIMA, received_at=MONDAY_7,
                            due_date=date(2026, 12, 10), subject="Pengaduan Masyarakat",
                            description="jalan rusak", source_message_id="<c@warga.example>",
                            message_key="mid:<c@warga.example>", created_at=MONDAY_7)
            session.add(ticket)
            session.flush()
            ticket_id = ticket.id
        recipient, kind = (SITI, OutboxKind.ACK) if with_ticket else (KASI, OutboxKind.STAFF_NOTE)
        session.add(OutboxMessage(ticket_id=ticket_id, kind=kind, recipient=recipient,
                                  message_id=f"<{kind}-{recipient}@klero.desa.id>", raw=b"x",
                                  state=OutboxState.PARKED, attempts=1, last_error=SMTP_ERROR,
                                  next_attempt_at=SUNDAY_9, created_at=SUNDAY_9))


def _notes(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.recipient == ADMIN)))


def _run(engine: Engine, now: datetime, cfg: Config | None = None) -> list[str]:
    # The monthly report (on by default, and due on 1 Dec) has tests of its own.
    ran = Schedule(engine, daily_jobs(cfg or config(report={"enabled": False}))).run_due(now).ran
    return [label for label in ran if label.startswith(f"{ParkedMailNote.name}:")]


def test_the_note_lists_parked_mail_once_a_day_and_survives_a_restart(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    _park(engine)
    _park(engine, with_ticket=False)

    assert _run(engine, MONDAY_9) == ["parked-mail-note:2026-12-01"]
    assert _run(_engine(tmp_path), MONDAY_9 + timedelta(hours=3)) == []  # a restart, same day

    [row] = _notes(engine)
    note = message_from_bytes(row.raw, policy=default)
    assert str(note["Subject"]) == "Pemberitahuan: 2 email tertahan, belum terkirim"
    text = note.get_body(("plain",)).get_content()
    assert "1. tanda terima untuk pelapor, tiket ADU-2026-00007" in text
    assert f"2. pesan untuk staf untuk {KASI}\n" in text.replace("\r\n", "\n")
    assert "tertahan sejak: Minggu, 29 November 2026 pukul 09.00 WIB" in text
    assert "kesalahan: 550 5.1.1 <alamat disembunyikan>: Recipient address rejected: user unknown" in text
    assert "mailflow outbox --retry" in text
    assert SITI not in row.raw.decode("utf-8", "replace")
    assert (row.kind, row.state, row.ticket_id) == (OutboxKind.STAFF_NOTE, OutboxState.PENDING, None)
    # The next working day, with the mail still parked, the administrator hears again.
    assert _run(engine, MONDAY_9 + timedelta(days=1)) == ["parked-mail-note:2026-12-02"]


def test_no_note_and_no_record_when_nothing_is_parked(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert _run(engine, MONDAY_9) == []
    with Session(engine) as session:
        assert list(session.exec(select(JobRun))) == []
    _park(engine)  # parked at noon: reported at the next poll of the same day
    assert _run(engine, MONDAY_9 + timedelta(hours=3)) == ["parked-mail-note:2026-12-01"]
    assert len(_notes(engine)) == 1


def test_no_note_before_the_hour_on_a_day_off_or_without_an_admin_address(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    _park(engine)
    assert _run(engine, MONDAY_7) == []
    assert _run(engine, SUNDAY_9) == []
    no_admin = config(commands={"admin_address": None})
    assert _run(engine, MONDAY_9, no_admin) == []
    assert _run(engine, MONDAY_7, config(outbox={"parked_note_hour": 6})) == [
        "parked-mail-note:2026-12-01"]
    assert _notes(engine) != []


def test_the_job_names_itself_for_the_schedule() -> None:
    assert [job.name for job in daily_jobs(config())] == [
        ParkedMailNote.name, ClockJob.name, MonthlyReport.name, SuggestionBoxReminder.name]
