"""One row per ticket for spreadsheets (`mailflow export --csv`): numbers, words and dates,
never identity. Pure: the report's plain ticket facts and "now" in, rows out.

"Within the promise" is core/promise.py `kept(...)` at `now`, as everywhere: "ya" / "tidak"
once decided, "" while the ticket is unanswered and its promise date has not passed.
The subject is added only when the caller passes one already redacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from mailflow.core.promise import Targets, kept
from mailflow.core.report import Month, ReportTicket
from mailflow.core.workdays import WorkCalendar

COLUMNS = ("nomor", "kanal", "prioritas", "status", "diterima", "batas_waktu",
           "tanggapan_pertama", "selesai", "hari_kerja_tanggapan", "hari_kerja_selesai",
           "dalam_batas_janji")
SUBJECT_COLUMN = "perihal"


def _day(moment: datetime | None, calendar: WorkCalendar) -> str:
    return "" if moment is None else calendar.local_day(moment).isoformat()


def export_rows(tickets: Iterable[ReportTicket], calendar: WorkCalendar, targets: Targets,
                now: datetime, month: Month | None = None,
                subjects: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The rows (COLUMNS, plus SUBJECT_COLUMN when `subjects` is given: number -> redacted
    subject), in the order of the tickets, only those received in `month` when given."""
    rows = []
    for ticket in tickets:
        if month is not None and not month.contains(calendar.local_day(ticket.received_at)):
            continue
        result = kept(ticket.timeline, calendar, targets, now)
        verdict = {True: "ya", False: "tidak", None: ""}[result.responded_in_time]
        row = {
            "nomor": ticket.number, "kanal": str(ticket.channel),
            "prioritas": str(ticket.priority), "status": str(result.status),
            "diterima": _day(ticket.received_at, calendar),
            "batas_waktu": result.promise_due.isoformat(),
            "tanggapan_pertama": _day(result.responded_at, calendar),
            "selesai": _day(result.resolved_at, calendar),
            "hari_kerja_tanggapan": "" if result.response_days is None else str(result.response_days),
            "hari_kerja_selesai": "" if result.resolution_days is None else str(result.resolution_days),
            "dalam_batas_janji": verdict,
        }
        if subjects is not None:
            row[SUBJECT_COLUMN] = subjects.get(ticket.number, "")
        rows.append(row)
    return rows
