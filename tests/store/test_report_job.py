"""The monthly report mail (runners/report.py `MonthlyReport`) through the real schedule,
composer and SQLite with a controlled clock: once per month to the village head, on the
month's first working day from the digest hour, never twice across restarts, after a
holiday when the 1st is one, off when `[report] enabled = false`; text and HTML (inline
SVG charts) with the figures and without identity."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailflow.adapters.clock import FixedClock
from mailflow.config import Config
from mailflow.runners.parked_note import daily_jobs
from mailflow.runners.report import MonthlyReport
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import MailboxState, OutboxMessage
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url
from tests.store.test_report import build
from tests.unit.plan_support import KADES, SITI_SECRETS, WIB, config


def _polls(engine: Engine, cfg: Config, start: datetime, end: datetime) -> list[str]:
    """Hourly polls from `start` to `end` by a new process (a new job and schedule)."""
    clock = FixedClock(start)
    schedule = Schedule(engine, [MonthlyReport(cfg)])
    ran: list[str] = []
    while clock() <= end:
        ran += schedule.run_due(clock()).ran
        clock.advance(hours=1)
    return ran


def _reports(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.REPORT).order_by(col(OutboxMessage.id))))


def _parts(row: OutboxMessage) -> tuple[str, str, str]:
    msg = cast(EmailMessage, message_from_bytes(row.raw, policy=default))
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return " ".join(str(msg["Subject"]).split()), text.get_content(), html.get_content()


def test_once_a_month_to_the_head_from_the_digest_hour_across_restarts(tmp_path: Path) -> None:
    engine = build(tmp_path)
    cfg = config(report={"enabled": True}, digest={"hour": 7})
    # Tue 1 Dec before 07:00: nothing yet.
    assert _polls(engine, cfg, datetime(2026, 12, 1, 0, tzinfo=WIB),
                  datetime(2026, 12, 1, 6, tzinfo=WIB)) == []
    assert _polls(engine, cfg, datetime(2026, 12, 1, 7, tzinfo=WIB),
                  datetime(2026, 12, 1, 12, tzinfo=WIB)) == ["monthly-report:2026-11"]
    # A restart the same day and the next: nothing again.
    assert _polls(engine, cfg, datetime(2026, 12, 1, 13, tzinfo=WIB),
                  datetime(2026, 12, 3, 9, tzinfo=WIB)) == []
    [mail] = _reports(engine)
    assert mail.recipient == KADES and mail.created_at == datetime(2026, 12, 1, 7, tzinfo=WIB)
    subject, text, html = _parts(mail)
    assert subject == "Laporan bulanan pengaduan November 2026 (10 pengaduan, 75,0 % tepat waktu)"
    assert text.startswith("Yth. Kepala Desa,")
    assert "Pengaduan diterima: 10" in text
    assert "Ditanggapi dalam batas janji (7 hari kerja): 75,0 % (6 dari 8" in text
    assert "median 2, persentil ke-90 8 (7 pengaduan sudah ditanggapi)" in text
    assert html.count("<svg") == 2 and "<script" not in html
    assert "Ditanggapi dalam batas janji (%)</title>" in html
    assert "<td>ADU-T5</td>" in html and "<td>ADU-T0</td>" in html  # the overdue tickets by number
    for secret in (*SITI_SECRETS, "Aminah"):  # every fixture subject names Siti Aminah
        assert secret.casefold() not in (subject + text + html).casefold()


def test_an_empty_month_before_the_first_start_gets_no_report(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path, "new.sqlite3"))
    prepare(engine)
    with transaction(engine) as session:  # installed on 1 December, nothing taken yet
        session.add(MailboxState(mailbox="m", uidvalidity=1, first_uid=1,
                                 first_seen_at=datetime(2026, 12, 1, 3, tzinfo=WIB)))
    cfg = config(report={"enabled": True}, digest={"hour": 7})
    # November's run is recorded (never retried) and mails nobody.
    assert _polls(engine, cfg, datetime(2026, 12, 1, 7, tzinfo=WIB),
                  datetime(2026, 12, 1, 9, tzinfo=WIB)) == ["monthly-report:2026-11"]
    assert _reports(engine) == []


def test_a_month_with_old_complaints_taken_later_is_reported(tmp_path: Path) -> None:
    # November's complaints taken with [intake] take_since by a mailflow first started in
    # December: that month has something to say.
    engine = build(tmp_path, first_start=datetime(2026, 12, 1, 3, tzinfo=WIB))
    cfg = config(report={"enabled": True}, digest={"hour": 7})
    assert _polls(engine, cfg, datetime(2026, 12, 1, 7, tzinfo=WIB),
                  datetime(2026, 12, 1, 9, tzinfo=WIB)) == ["monthly-report:2026-11"]
    assert len(_reports(engine)) == 1


def test_after_new_year_and_the_weekend_the_first_working_day(tmp_path: Path) -> None:
    """Fri 1 Jan 2027 is a holiday, then a weekend: December's report on Mon 4 Jan."""
    engine = build(tmp_path)
    cfg = config(report={"enabled": True})
    ran = _polls(engine, cfg, datetime(2027, 1, 1, 0, tzinfo=WIB),
                 datetime(2027, 1, 5, 12, tzinfo=WIB))
    assert ran == ["monthly-report:2026-12"]
    [mail] = _reports(engine)
    assert mail.created_at.astimezone(WIB).date() == date(2027, 1, 4)


def test_down_on_the_day_it_is_sent_when_mailflow_returns(tmp_path: Path) -> None:
    engine = build(tmp_path)
    cfg = config(report={"enabled": True})
    assert _polls(engine, cfg, datetime(2026, 12, 9, 15, tzinfo=WIB),
                  datetime(2026, 12, 9, 16, tzinfo=WIB)) == ["monthly-report:2026-11"]


def test_off_sends_nothing_and_the_daily_jobs_include_it(tmp_path: Path) -> None:
    engine = build(tmp_path)
    off = config(report={"enabled": False})
    assert _polls(engine, off, datetime(2026, 12, 1, 0, tzinfo=WIB),
                  datetime(2026, 12, 2, 0, tzinfo=WIB)) == []
    assert _reports(engine) == []
    assert any(isinstance(job, MonthlyReport) for job in daily_jobs(off))
