"""The monthly report read from the store (`read_report`), and the job that mails it to the
village head once a month (`ReportJob`).

The figures are core/report.py's; the timelines are the clock's (runners/clock.py
`timeline_of`), so "within the promise" in a report is what reminders and escalations
worked to.
"""

from __future__ import annotations

from datetime import datetime

from mailflow.config import Config
from mailflow.core.privacy import redactor_for
from mailflow.core.report import (
    TREND_MONTHS,
    Month,
    MonthReport,
    ReportTicket,
    cutoff_of,
    month_report,
)
from mailflow.core.report_export import export_rows
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.runners.clock import targets_for, timeline_of
from mailflow.store.clock_queries import tickets_with_reporters
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


def read_export(cfg: Config, engine: Engine, month: Month | None, now: datetime,
                with_subject: bool = False) -> list[dict[str, str]]:
    """The export's rows (core/report_export.py): every ticket received before `now`, or
    those of `month`; subjects, when asked for, redacted as for a reader without identity
    rights (the reporter's identity hidden wherever it recurs)."""
    calendar = calendar_for(cfg.calendar)
    since = None if month is None else month.start(calendar.zone)
    before = now if month is None else min(now, month.end(calendar.zone))
    with Session(engine) as session:
        rows = tickets_for_report(session, since, before)
        subjects = None
        if with_subject:
            subjects = {}
            for ticket, reporter in tickets_with_reporters(session, [r.number for r in rows]):
                identity = reporter.identity() if reporter is not None else None
                subjects[ticket.number] = redactor_for(cfg, identity).subject(ticket.subject)
    return export_rows(report_tickets(rows, calendar), calendar, targets_for(cfg), now, month,
                       subjects)
