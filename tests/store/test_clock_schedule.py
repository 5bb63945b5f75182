"""The clock's plan through the real job runner: each reminder, escalation and digest is made
once across a restart and a downtime, on real SQLite (core/reminders.py + runners/schedule.py).

The job here is the shape the daemon's job takes: `due` offers the plan's keys, `run` makes
the item under one key inside the runner's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mailflow.config import StaffMember
from mailflow.core.promise import Targets, Timeline
from mailflow.core.reminders import ClockRules, PlanItem, Watched, plan_clock
from mailflow.core.workdays import WorkCalendar
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine
from mailflow.store.migrate import prepare
from mailflow.vocabulary import Role
from tests.harness.postgres import store_url

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()
STAFF = [StaffMember(email="verif@desa.example", name="V", roles=[Role.VERIFIKATOR]),
         StaffMember(email="kades@desa.example", name="K", roles=[Role.KEPALA_DESA])]
# Received Mon 21 Dec: due Mon 4 Jan 2027, over cuti bersama, Christmas and New Year.
TICKETS = [Watched(Timeline("ADU-2026-00009", datetime(2026, 12, 21, 9, tzinfo=WIB)))]


class ClockJob:
    name = "clock"

    def __init__(self) -> None:
        self.plan: dict[str, PlanItem] = {}
        self.made: list[str] = []

    def due(self, now: datetime) -> Iterable[str]:
        self.plan = plan_clock(TICKETS, STAFF, CAL, Targets(), ClockRules(), now).by_key()
        return list(self.plan)

    def run(self, session: Session, key: str, now: datetime) -> str:
        self.made.append(key)  # the daemon's job queues the mail here, in `session`
        return type(self.plan[key]).__name__.lower()


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _polls(engine: Engine, start: datetime, end: datetime) -> list[str]:
    job = ClockJob()
    schedule = Schedule(engine, [job])
    moment = start
    while moment <= end:
        schedule.run_due(moment)
        moment += timedelta(hours=1)
    return job.made


def test_each_item_once_across_a_restart_and_a_downtime(tmp_path: Path) -> None:
    start = datetime(2026, 12, 30, 6, tzinfo=WIB)
    first = _polls(_engine(tmp_path), start, datetime(2026, 12, 30, 12, tzinfo=WIB))
    # Down from 30 Dec noon to 6 Jan 10:00; a new process, only the database remembers.
    second = _polls(_engine(tmp_path), datetime(2027, 1, 6, 10, tzinfo=WIB),
                    datetime(2027, 1, 7, 12, tzinfo=WIB))
    assert first == ["digest:verif@desa.example:2026-12-30",  # 07:00
                     "reminder:ADU-2026-00009:2027-01-04:-2"]  # 08:00
    # The "due today" reminder of 4 Jan is superseded by the escalation on return.
    assert second == ["escalation:ADU-2026-00009",
                      "digest:kades@desa.example:2027-01-06",
                      "digest:verif@desa.example:2027-01-06",
                      "digest:kades@desa.example:2027-01-07",
                      "digest:verif@desa.example:2027-01-07"]
    again = _polls(_engine(tmp_path), datetime(2027, 1, 7, 12, tzinfo=WIB),
                   datetime(2027, 1, 7, 18, tzinfo=WIB))
    assert again == []
