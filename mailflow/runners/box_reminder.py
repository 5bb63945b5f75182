"""The clock-driven job that reminds the suggestion-box team on opening days.

Due from `[suggestion_box] hour` (local time) on the days core/suggestion_box.py
`opening_due` names (a weekday, or every N working days after the last recorded opening;
never a day off), only when `[suggestion_box] enabled`. The run key is the day, so each
member gets one reminder that day across restarts (runners/schedule.py); an opening recorded
earlier that day means nothing is due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mailflow.compose.mime import Composer, composer_for
from mailflow.config import Config
from mailflow.core.box_opening import box_reminder, team_of
from mailflow.core.suggestion_box import WEEKDAYS, BoxSchedule, opening_due
from mailflow.core.workdays import WorkCalendar, calendar_for, format_tanggal
from mailflow.runners.schedule import NothingDue, job_name
from mailflow.store.box_queries import last_opening_day
from mailflow.store.db import Engine, Session
from mailflow.store.models import OutboxMessage


def schedule_of(cfg: Config) -> BoxSchedule:
    box = cfg.suggestion_box
    if box.every_working_days is not None:
        return BoxSchedule(every_working_days=box.every_working_days)
    return BoxSchedule(weekday=WEEKDAYS[(box.every or "monday").strip().lower()])


class SuggestionBoxReminder:
    """The job "suggestion-box-reminder", one per village (runners/schedule.py `job_name`),
    due after the village's own last opening."""

    name = "suggestion-box-reminder"  # the job alone; an instance's is its village's (job_name)

    def __init__(self, cfg: Config, composer: Composer | None = None,
                 calendar: WorkCalendar | None = None, engine: Engine | None = None) -> None:
        self.name = job_name(type(self).name, cfg)
        self.cfg = cfg
        self.composer = composer or composer_for(cfg)
        self.calendar = calendar or calendar_for(cfg.calendar)
        self.schedule = schedule_of(cfg)
        self.engine = engine

    def bind(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime) -> Iterable[str]:
        box = self.cfg.suggestion_box
        local = now.astimezone(self.cfg.zone)
        if (not box.enabled or self.engine is None or local.hour < box.hour
                or not self.calendar.is_workday(local.date())):
            return []
        with Session(self.engine) as session:
            last = last_opening_day(session, self.cfg.scope)
        if not opening_due(local.date(), self.schedule, self.calendar, last):
            return []
        return [local.date().isoformat()]

    def run(self, session: Session, key: str, now: datetime) -> str:
        team = team_of(self.cfg)
        if not team:
            raise NothingDue
        last = last_opening_day(session, self.cfg.scope)
        for member in team:
            note = box_reminder(self.cfg, member, format_tanggal(last) if last else None)
            composed = self.composer.compose(note, None, now)
            session.add(OutboxMessage(ticket_id=None, kind=note.kind, message_id=composed.message_id,
                                      recipient=composed.recipient, raw=composed.raw,
                                      next_attempt_at=now, created_at=now,
                                      scope=self.cfg.scope))
        return f"team={len(team)}"
