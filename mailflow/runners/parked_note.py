"""The clock-driven job that tells the administrator, once a working day, what mail is parked.

Due on each working day from `[outbox] parked_note_hour` (local time), when `[commands]
admin_address` is set. Its run is recorded (job_run, runners/schedule.py) only when it
queued a note: with nothing parked it raises NothingDue and is asked again at the next
poll, so mail parked at noon is reported the same day, and never twice in a day, whatever
restarts in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mailflow.compose.mime import Composer, composer_for
from mailflow.config import Config
from mailflow.core.parked import ParkedMail, parked_note
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.runners.box_reminder import SuggestionBoxReminder
from mailflow.runners.clock import ClockJob
from mailflow.runners.report import MonthlyReport
from mailflow.runners.schedule import Job, NothingDue, job_name
from mailflow.store import outbox_queries
from mailflow.store.db import Session
from mailflow.store.models import OutboxMessage


class ParkedMailNote:
    name = "parked-mail-note"  # the job alone; an instance's is its village's (job_name)

    def __init__(self, cfg: Config, composer: Composer | None = None,
                 calendar: WorkCalendar | None = None) -> None:
        # Per village in a regency: one village's note must not stand for another's day.
        self.name = job_name(type(self).name, cfg)
        self.cfg = cfg
        self.composer = composer or composer_for(cfg)
        self.calendar = calendar or calendar_for(cfg.calendar)

    def due(self, now: datetime) -> Iterable[str]:
        if not self.cfg.commands.admin_address:
            return []
        local = now.astimezone(self.cfg.zone)
        if local.hour < self.cfg.outbox.parked_note_hour or not self.calendar.is_workday(local.date()):
            return []
        return [local.date().isoformat()]

    def run(self, session: Session, key: str, now: datetime) -> str:
        admin = self.cfg.commands.admin_address
        rows = outbox_queries.parked_with_numbers(session, self.cfg.scope)
        if not rows or not admin:
            raise NothingDue
        parked = [ParkedMail(row.kind, number, row.recipient, row.next_attempt_at, row.last_error)
                  for row, number in rows]
        note = parked_note(self.cfg, admin, parked)
        composed = self.composer.compose(note, None, now)
        session.add(OutboxMessage(ticket_id=None, kind=note.kind, message_id=composed.message_id,
                                  recipient=composed.recipient, raw=composed.raw,
                                  next_attempt_at=now, created_at=now, scope=self.cfg.scope))
        return f"parked={len(parked)}"


def daily_jobs(cfg: Config) -> list[Job]:
    """The clock-driven jobs the service runs (the daemon passes them to Service): the parked
    mail note, the reminders, escalations and digests (runners/clock.py), the monthly
    report to the village head (runners/report.py), and the suggestion box's opening-day
    reminder (runners/box_reminder.py)."""
    return [ParkedMailNote(cfg), ClockJob(cfg), MonthlyReport(cfg), SuggestionBoxReminder(cfg)]
