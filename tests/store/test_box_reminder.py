"""The suggestion box's opening-day reminder: once per opening day, to the team, after the
hour, never on a day off, across restarts, and not once the box was opened that day
(real SQLite, the real schedule and composer)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.config import Config
from mailflow.core.notices import record_address
from mailflow.runners.box_reminder import SuggestionBoxReminder
from mailflow.runners.parked_note import daily_jobs
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage, SuggestionBoxOpening
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url
from tests.unit.plan_support import SEKDES, config

MONDAY_9 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November 2026, 09:00 WIB
ON = {"enabled": True, "every": "senin", "hour": 8}


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _run(engine: Engine, now: datetime, cfg: Config) -> list[str]:
    ran = Schedule(engine, daily_jobs(cfg)).run_due(now).ran
    return [label for label in ran if label.startswith(f"{SuggestionBoxReminder.name}:")]


def _reminders(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.REMINDER)))


def test_the_team_is_reminded_once_on_the_opening_day_across_a_restart(tmp_path: Path) -> None:
    cfg = config(suggestion_box=ON)
    engine = _engine(tmp_path)
    assert _run(engine, MONDAY_9 - timedelta(hours=2), cfg) == []  # 07:00: before the hour
    assert _run(engine, MONDAY_9, cfg) == ["suggestion-box-reminder:2026-11-30"]
    assert _run(_engine(tmp_path), MONDAY_9 + timedelta(hours=4), cfg) == []  # a restart
    assert _run(engine, MONDAY_9 + timedelta(days=1), cfg) == []  # Tuesday
    rows = _reminders(engine)
    assert [r.recipient for r in rows] == [SEKDES]  # the verifikator; not the village head
    mail = message_from_bytes(next(r.raw for r in rows if r.recipient == SEKDES), policy=default)
    assert str(mail["Subject"]) == "Pengingat: jadwal membuka kotak saran hari ini"
    member = cfg.staff_member(SEKDES)
    assert member is not None and str(mail["Reply-To"]) == record_address(cfg, member)
    assert "Belum ada pembukaan kotak saran yang tercatat." in mail.get_body(("plain",)).get_content()


def test_no_reminder_once_opened_that_day_nor_when_disabled_nor_on_a_day_off(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert _run(engine, MONDAY_9, config()) == []  # [suggestion_box] enabled defaults to false
    assert _run(engine, MONDAY_9 - timedelta(days=1), config(suggestion_box=ON)) == []  # Sunday
    with transaction(engine) as session:
        session.add(SuggestionBoxOpening(opened_on=date(2026, 11, 30), opened_at=MONDAY_9,
                                         opened_by=SEKDES, entries=1, ticket_numbers="ADU-2026-00001"))
    assert _run(engine, MONDAY_9 + timedelta(hours=1), config(suggestion_box=ON)) == []
    assert _reminders(engine) == []


def test_every_n_working_days_counts_from_the_last_opening_and_skips_a_holiday(tmp_path: Path) -> None:
    cfg = config(suggestion_box={"enabled": True, "every_working_days": 2, "hour": 8})
    engine = _engine(tmp_path)
    with transaction(engine) as session:
        # Opened Thursday 20 August 2026; Friday 21 is a working day, Monday 24 the second.
        session.add(SuggestionBoxOpening(opened_on=date(2026, 8, 20),
                                         opened_at=datetime(2026, 8, 20, 3, tzinfo=UTC),
                                         opened_by=SEKDES, entries=2,
                                         ticket_numbers="ADU-2026-00001,ADU-2026-00002"))
    friday = datetime(2026, 8, 21, 2, tzinfo=UTC)
    assert _run(engine, friday, cfg) == []
    assert _run(engine, friday + timedelta(days=3), cfg) == ["suggestion-box-reminder:2026-08-24"]
    # Tuesday 25 August is Maulid Nabi: no reminder; Wednesday, still unopened, gets one.
    assert _run(engine, friday + timedelta(days=4), cfg) == []
    assert _run(engine, friday + timedelta(days=5), cfg) == ["suggestion-box-reminder:2026-08-26"]
