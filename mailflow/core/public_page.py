"""The public page's data (`mailflow publish`): the promise, how well it was kept, counts, tickets.

Pure: plain tickets in (each with its `PromiseResult` from core/promise.py `kept`, THE rule
for "within the promise"), plain data out; "now" is passed in. The page is for anyone on
the village website, so what goes in is decided here, once:

  * per ticket only its number, status, dates (received, the promise's due date, first
    response, resolution) and text staff marked public with `#publik` (EventKind.PUBLIC),
    which the caller has scrubbed of the reporter's identity again; never the subject,
    the description, a resident's reply, the channel, the priority or the assignee;
  * counts by channel, priority and status, each cell below `min_count` shown as "< N"
    (0 included), so a rare category cannot point at a person;
  * month by month (by month of receipt, the last 12 months): tickets received, answered
    within the promise, late (answered late, or unanswered past the date), not yet due, and
    the share kept of those decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from mailflow.core.indonesian_dates import month_year, short_date, short_month
from mailflow.core.promise import PromiseResult
from mailflow.core.report import Month, share_of
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Channel, Priority, Status

MONTHS = 12  # months in the chart and its table


@dataclass(frozen=True)
class PublicTicket:
    """What the page may know of one ticket (the caller reads it; texts already scrubbed)."""

    number: str
    channel: Channel
    received_at: datetime
    result: PromiseResult
    public_texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One count of a category table: `shown` is what the page prints ("< 3" when small)."""

    label: str
    count: int
    shown: str


@dataclass(frozen=True)
class MonthRow:
    month: str  # "2026-11"
    label: str  # "November 2026"
    short: str  # "Nov" (the chart's axis)
    received: int
    in_time: int
    late: int
    pending: int

    @property
    def decided(self) -> int:
        return self.in_time + self.late

    @property
    def share(self) -> int | None:
        """Percent answered within the promise, of those decided; None when none is."""
        return round(100 * self.in_time / self.decided) if self.decided else None


@dataclass(frozen=True)
class TicketLine:
    number: str
    status: Status
    received: date
    due: date
    responded: date | None
    in_time: bool | None
    resolved: date | None
    texts: tuple[str, ...]

    @property
    def timeliness(self) -> str:
        """In words: answered within the promise, late, or not yet."""
        if self.in_time is None:
            return "belum ditanggapi"
        if self.responded is None:
            return "belum ditanggapi, melewati batas waktu"
        return "tepat waktu" if self.in_time else "terlambat"


@dataclass(frozen=True)
class PageData:
    village: str
    promise_days: int
    min_count: int
    generated: datetime
    total: int
    months: tuple[MonthRow, ...]
    by_channel: tuple[Cell, ...]
    by_priority: tuple[Cell, ...]
    by_status: tuple[Cell, ...]
    tickets: tuple[TicketLine, ...]  # newest first

    @property
    def in_time(self) -> int:
        return sum(m.in_time for m in self.months)

    @property
    def decided(self) -> int:
        return sum(m.decided for m in self.months)


def shown_count(count: int, min_count: int) -> str:
    """A count as the page prints it: below `min_count` only "< min_count"."""
    return f"< {min_count}" if count < min_count else str(count)


def promise_words(days: int) -> str:
    """The promise in plain words, as the village's procedure states it."""
    return (f"Pemerintah desa menanggapi setiap pengaduan secepatnya, paling lambat {days} hari "
            "kerja sejak pengaduan diterima.")


def tanggal(day: date | None) -> str:
    """'3 Des 2026' (short, for tables); '-' for no date."""
    return "-" if day is None else short_date(day)


def _cells(counts: Counter[StrEnum], values: Iterable[StrEnum], min_count: int) -> tuple[Cell, ...]:
    return tuple(Cell(str(getattr(v, "label", v)), counts[v], shown_count(counts[v], min_count))
                 for v in values)


def _months(tickets: Sequence[PublicTicket], calendar: WorkCalendar, today: date
            ) -> tuple[MonthRow, ...]:
    rows = []
    current = Month(today.year, today.month)
    for back in range(MONTHS - 1, -1, -1):
        which = current.shifted(-back)
        mine = [t.result for t in tickets
                if (d := calendar.local_day(t.received_at)).year == which.year
                and d.month == which.month]
        share = share_of(r.responded_in_time for r in mine)
        first = which.first_day
        rows.append(MonthRow(
            month=str(which), label=month_year(first),
            short=short_month(first), received=len(mine),
            in_time=share.in_time, late=share.late, pending=share.pending))
    return tuple(rows)


def _line(ticket: PublicTicket, calendar: WorkCalendar) -> TicketLine:
    result = ticket.result
    return TicketLine(
        number=ticket.number, status=result.status,
        received=calendar.local_day(ticket.received_at), due=result.promise_due,
        responded=calendar.local_day(result.responded_at) if result.responded_at else None,
        in_time=result.responded_in_time,
        resolved=calendar.local_day(result.resolved_at) if result.resolved_at else None,
        texts=tuple(t.strip() for t in ticket.public_texts if t.strip()))


def page_data(tickets: Sequence[PublicTicket], calendar: WorkCalendar, now: datetime, *,
              village: str, min_count: int) -> PageData:
    """Everything the public page shows, from the tickets as the caller read them."""
    today = calendar.local_day(now)
    ordered = sorted(tickets, key=lambda t: (t.received_at, t.number), reverse=True)
    return PageData(
        village=village, promise_days=calendar.working_days, min_count=min_count,
        generated=now.astimezone(calendar.zone), total=len(tickets), months=_months(tickets, calendar, today),
        by_channel=_cells(Counter(t.channel for t in tickets), Channel, min_count),
        by_priority=_cells(Counter(t.result.priority for t in tickets), Priority, min_count),
        by_status=_cells(Counter(t.result.status for t in tickets), Status, min_count),
        tickets=tuple(_line(t, calendar) for t in ordered))


def lookup_entry(line: TicketLine) -> dict[str, object]:
    """One ticket in `tickets.json` (the lookup): what its page shows, nothing more."""
    return {"status": line.status.value, "status_label": line.status.label,
            "received": tanggal(line.received), "due": tanggal(line.due),
            "responded": tanggal(line.responded), "timeliness": line.timeliness,
            "resolved": tanggal(line.resolved), "texts": list(line.texts)}
