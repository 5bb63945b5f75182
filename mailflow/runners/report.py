"""The monthly report read from the store (`read_report`), and the job that mails it to the
village head once a month (`MonthlyReport`), and the CSV export's rows (`read_export`).

The figures are core/report.py's; the timelines are the clock's (runners/clock.py
`timeline_of`), so "within the promise" in a report is what reminders and escalations
worked to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from mailflow.compose.mime import Composer, composer_for
from mailflow.config import Config
from mailflow.core.privacy import redactor_for
from mailflow.core.report import (
    TREND_MONTHS,
    Month,
    MonthReport,
    ReportTicket,
    cutoff_of,
    month_report,
    parse_month,
    previous_month,
)
from mailflow.core.report_export import export_rows
from mailflow.core.report_text import report_mail
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.runners.clock import targets_for, timeline_of
from mailflow.runners.schedule import job_name
from mailflow.store import queries
from mailflow.store.clock_queries import tickets_with_reporters
from mailflow.store.db import Engine, Session
from mailflow.store.models import OutboxMessage
from mailflow.store.report_queries import (
    ReportRow,
    first_seen,
    openings_between,
    tickets_for_report,
)
from mailflow.vocabulary import Role


def report_tickets(rows: list[ReportRow], calendar: WorkCalendar) -> list[ReportTicket]:
    """The report's plain facts of each row (`kind`: a suggestion-box entry's kind)."""
    return [ReportTicket(row.number, row.channel, row.priority, row.received_at,
                         timeline_of(row, row.events, calendar), row.kind) for row in rows]


def read_report(cfg: Config, engine: Engine, month: Month, now: datetime,
                calendar: WorkCalendar | None = None) -> MonthReport:
    """The figures of `month` as of its cutoff, from the tickets of the 12 months ending with
    it and every ticket still open."""
    with Session(engine) as session:
        return report_in(session, cfg, month, now, calendar)


def report_in(session: Session, cfg: Config, month: Month, now: datetime,
              calendar: WorkCalendar | None = None) -> MonthReport:
    """`read_report` inside an open session (the monthly job's transaction)."""
    calendar = calendar or calendar_for(cfg.calendar)
    since = month.shifted(-(TREND_MONTHS - 1)).start(calendar.zone)
    cutoff = cutoff_of(month, calendar.zone, now)
    rows = tickets_for_report(session, cfg.scope, since, cutoff)
    openings = openings_between(session, cfg.scope, month.start(calendar.zone), cutoff)
    return month_report(report_tickets(rows, calendar), month, calendar, targets_for(cfg), now,
                        openings=openings)


def read_export(cfg: Config, engine: Engine, month: Month | None, now: datetime,
                with_subject: bool = False) -> list[dict[str, str]]:
    """The export's rows (core/report_export.py): every ticket received before `now`, or
    those of `month`; subjects, when asked for, redacted as for a reader without identity
    rights (the reporter's identity hidden wherever it recurs)."""
    calendar = calendar_for(cfg.calendar)
    since = None if month is None else month.start(calendar.zone)
    before = now if month is None else min(now, month.end(calendar.zone))
    with Session(engine) as session:
        rows = tickets_for_report(session, cfg.scope, since, before)
        subjects = None
        if with_subject:
            subjects = {}
            for ticket, reporter in tickets_with_reporters(session, cfg.scope,
                                                           [r.number for r in rows]):
                identity = reporter.identity() if reporter is not None else None
                subjects[ticket.number] = redactor_for(cfg, identity).subject(ticket.subject)
    return export_rows(report_tickets(rows, calendar), calendar, targets_for(cfg), now, month,
                       subjects)


def first_workday(month: Month, calendar: WorkCalendar) -> date:
    """The month's first working day (the 1st itself when it is one)."""
    day = month.first_day
    return day if calendar.is_workday(day) else calendar.add_workdays(day, 1)


class MonthlyReport:
    """The job "monthly-report": the previous month's report to each village head (role
    kepala_desa), once per month (run key "2026-11"), on the month's first working day from
    `[digest] hour` local time, or at the first poll after that if mailflow was down then.
    Off with `[report] enabled = false`, and nothing is due without a village head."""

    name = "monthly-report"  # the job alone; an instance's is its village's (job_name)

    def __init__(self, cfg: Config, composer: Composer | None = None,
                 calendar: WorkCalendar | None = None) -> None:
        self.name = job_name(type(self).name, cfg)
        self.cfg = cfg
        self.composer = composer or composer_for(cfg)
        self.calendar = calendar or calendar_for(cfg.calendar)

    def due(self, now: datetime) -> Iterable[str]:
        if not self.cfg.report.enabled or not self.cfg.staff_with(Role.KEPALA_DESA):
            return []
        local = now.astimezone(self.calendar.zone)
        start = first_workday(Month(local.year, local.month), self.calendar)
        if local.date() < start or (local.date() == start and local.hour < self.cfg.digest.hour):
            return []
        return [str(previous_month(local.date()))]

    def run(self, session: Session, key: str, now: datetime) -> str:
        month = parse_month(key)
        report = report_in(session, self.cfg, month, now, self.calendar)
        # A village added to a regency's database later starts when its own mailbox was
        # first read; a single-mailbox file keeps reading the earliest of any (as before).
        started = (first_seen(session, self.cfg.mailbox_key) if self.cfg.name
                   else queries.first_start(session))
        unseen = started is None or started >= month.shifted(1).start(self.calendar.zone)
        if unseen and report.received == 0 and not report.overdue:
            # A new installation does not open with an empty report of a month it never saw
            # (old complaints taken with [intake] take_since do make that month's report).
            return f"month={key} skipped: mailflow first started after it, nothing to report"
        heads = self.cfg.staff_with(Role.KEPALA_DESA)
        for head in heads:
            mail = report_mail(report, head.address, f"Yth. {head.name},", self.cfg.village.name,
                               self.cfg.calendar.timezone)
            composed = self.composer.compose(mail, None, now)
            session.add(OutboxMessage(ticket_id=None, kind=mail.kind,
                                      message_id=composed.message_id, recipient=composed.recipient,
                                      raw=composed.raw, next_attempt_at=now, created_at=now,
                                      scope=self.cfg.scope))
        return f"month={key} received={report.received} mails={len(heads)}"
