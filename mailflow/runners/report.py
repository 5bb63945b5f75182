"""The monthly report read from the store (`read_report`), and the job that mails it to the
village head once a month (`ReportJob`).

The figures are core/report.py's; the timelines are the clock's (runners/clock.py
`timeline_of`), so "within the promise" in a report is what reminders and escalations
worked to.
"""

from __future__ import annotations

from datetime import datetime

from mailflow.config import Config
from mailflow.core.report import (
    TREND_MONTHS,
    Month,
    MonthReport,
    ReportTicket,
    cutoff_of,
    month_report,
)
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.runners.clock import targets_for, timeline_of
from mailflow.store.db import Engine, Session
from mailflow.store.report_queries import ReportRow, tickets_for_report


def report_tickets(rows: list[ReportRow], calendar: WorkCalendar) -> list[ReportTicket]:
    """The report's plain facts of each row. `kind` stays None until tickets carry one
    (the suggestion box's entries)."""
    return [ReportTicket(row.number, row.channel, row.priority, row.received_at,
                         timeline_of(row, row.events, calendar)) for row in rows]


def read_report(cfg: Config, engine: Engine, month: Month, now: datetime,
                calendar: WorkCalendar | None = None) -> MonthReport:
    """The figures of `month` as of its cutoff, from the tickets of the 12 months ending with
    it and every ticket still open."""
    calendar = calendar or calendar_for(cfg.calendar)
    since = month.shifted(-(TREND_MONTHS - 1)).start(calendar.zone)
    before = cutoff_of(month, calendar.zone, now)
    with Session(engine) as session:
        rows = tickets_for_report(session, since, before)
    return month_report(report_tickets(rows, calendar), month, calendar, targets_for(cfg), now)
