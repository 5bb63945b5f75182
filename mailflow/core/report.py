"""The monthly report's figures: how many complaints came, how fast they were answered, and
whether the promise was kept. Pure: plain ticket facts and "now" in, plain figures out.

Used by `mailflow report` (text, JSON, HTML), the monthly mail to the village head
(runners/report.py) and, later, the public page; the figures are the same wherever they
are shown. Nothing here carries identity: only ticket numbers, counts and dates.

The rules
  * A ticket belongs to the month in which it was received (the village's day of receipt).
  * Every figure is taken **as of the cutoff**: the end of the month (local midnight that
    starts the next month), or `now` for a month not over yet. Whatever happened after the
    cutoff is left out, so a report of November reads the same in December and in March.
  * "Within the promise" is core/promise.py `kept(...)`, and nothing else: a ticket counts
    as responded within the promise when its first response came on or before its promise
    date (7 working days from receipt, moved by the days it waited in perlu_data). A ticket
    not answered and not yet due at the cutoff is *pending* and left out of the share.
  * First response and resolution are counted in working days by the same calendar
    (`PromiseResult.response_days`, `.resolution_days`). The median of an even count is the
    mean of the two middle values; the 90th percentile is the nearest rank: the value at
    position ceil(0.9 * n) of the sorted values (n = 10 gives the 9th).
  * Overdue: open at the cutoff, not answered, not waiting for the reporter's data, and past
    its promise date; listed by number whatever the month it was received in.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from mailflow.core.indonesian_dates import month_year, short_month_year
from mailflow.core.promise import PromiseResult, Targets, Timeline, kept, workdays_between
from mailflow.core.workdays import WorkCalendar
from mailflow.core.workflow import FINAL
from mailflow.vocabulary import Channel, Priority, Status

TREND_MONTHS = 12
_K = TypeVar("_K")


# -- months -------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Month:
    """A calendar month of the village (`Month(2026, 11)`, written "2026-11")."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 9999:
            raise ValueError(f"no such month {self.year}-{self.month:02d}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shifted(self, months: int) -> Month:
        """The month `months` later (earlier when negative)."""
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """Local midnight that begins the month."""
        return datetime.combine(self.first_day, time(0), zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """Local midnight that begins the next month (the month's cutoff)."""
        return self.shifted(1).start(zone)

    def contains(self, day: date) -> bool:
        return (day.year, day.month) == (self.year, self.month)

    @property
    def label(self) -> str:
        """"November 2026"."""
        return month_year(self.first_day)

    @property
    def short_label(self) -> str:
        """"Nov 26", for chart axes."""
        return short_month_year(self.first_day)


def parse_month(text: str) -> Month:
    """"2026-11" as a Month; ValueError saying what is expected."""
    year, sep, month = text.strip().partition("-")
    hint = f"month {text!r}: write YYYY-MM, e.g. 2026-11"
    if not sep or len(year) != 4 or not year.isdigit() or len(month) != 2 or not month.isdigit():
        raise ValueError(hint)
    try:
        return Month(int(year), int(month))
    except ValueError as exc:
        raise ValueError(f"{hint} ({exc})") from None


def previous_month(today: date) -> Month:
    return Month(today.year, today.month).shifted(-1)


# -- input --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportTicket:
    """What the report reads of one ticket (no identity, no free text). `timeline` is the
    clock's (runners/clock.py `timeline_of`); `kind` is the suggestion box's kind of entry
    (saran, kritik, ...), None where there is none."""

    number: str
    channel: Channel
    priority: Priority
    received_at: datetime
    timeline: Timeline
    kind: str | None = None


def as_of(timeline: Timeline, cutoff: datetime) -> Timeline:
    """The timeline as it stood at `cutoff`: later changes and messages left out."""
    return replace(timeline, changes=tuple(c for c in timeline.changes if c.at < cutoff),
                   staff_messages=tuple(m for m in timeline.staff_messages if m < cutoff))


# -- statistics ---------------------------------------------------------------------------

def median(values: Sequence[int]) -> float | None:
    """The median (the mean of the two middle values of an even count); None if empty."""
    return float(statistics.median(values)) if values else None


def percentile(values: Sequence[int], share: float) -> int | None:
    """Nearest rank: the value at position ceil(share * n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal; None when `whole` is 0."""
    return None if whole == 0 else round(100.0 * part / whole, 1)


# -- output -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Durations:
    """Working days to the first response or to resolution, of the tickets that got there."""

    count: int
    median: float | None
    p90: int | None

    @staticmethod
    def of(values: Sequence[int]) -> Durations:
        return Durations(len(values), median(values), percentile(values, 0.9))


@dataclass(frozen=True)
class PromiseShare:
    """Responded within the promise: `in_time` of `decided` (in_time + late); `pending`
    tickets were neither answered nor due at the cutoff and are not counted in the share."""

    in_time: int
    late: int
    pending: int

    @property
    def decided(self) -> int:
        return self.in_time + self.late

    @property
    def percent(self) -> float | None:
        return percent(self.in_time, self.decided)


@dataclass(frozen=True)
class Overdue:
    """An open ticket past its promise date, unanswered at the cutoff."""

    number: str
    received: date
    promise_due: date
    days_late: int
    status: Status
    priority: Priority


@dataclass(frozen=True)
class TrendPoint:
    month: Month
    received: int
    within_promise_percent: float | None
    median_response_days: float | None


@dataclass(frozen=True)
class SuggestionBoxFigures:
    """Entries that came through the suggestion box (channel kotak_saran) in the month.

    `openings` is None until the suggestion box's openings are read into the report (the
    caller passes them to `month_report`); the entries' counts come from the tickets."""

    entries: int
    closed: int
    by_kind: dict[str, int]
    openings: int | None = None


@dataclass(frozen=True)
class MonthReport:
    month: Month
    cutoff: datetime
    promise_days: int  # the promise: working days to the first response
    received: int
    by_channel: dict[Channel, int]
    by_priority: dict[Priority, int]
    by_status: dict[Status, int]
    by_kind: dict[str, int]
    closed: dict[Status, int]
    open: dict[Status, int]
    resolved_in_month: int
    response: Durations
    resolution: Durations
    promise: PromiseShare
    overdue: tuple[Overdue, ...]
    trend: tuple[TrendPoint, ...]
    suggestion_box: SuggestionBoxFigures = field(
        default_factory=lambda: SuggestionBoxFigures(0, 0, {}))


# -- the figures --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Judged:
    ticket: ReportTicket
    result: PromiseResult
    month: Month


def _judge(tickets: Iterable[ReportTicket], calendar: WorkCalendar, targets: Targets,
           cutoff: datetime) -> list[_Judged]:
    judged = []
    for ticket in tickets:
        if ticket.received_at >= cutoff:
            continue
        day = calendar.local_day(ticket.received_at)
        result = kept(as_of(ticket.timeline, cutoff), calendar, targets, cutoff)
        judged.append(_Judged(ticket, result, Month(day.year, day.month)))
    return judged


def share_of(verdicts: Iterable[bool | None]) -> PromiseShare:
    """In time, late and pending among `kept()` verdicts (`responded_in_time`); the public
    page counts its months with this too, so the page and the report agree."""
    found = list(verdicts)
    return PromiseShare(found.count(True), found.count(False), found.count(None))


def _share(judged: Sequence[_Judged]) -> PromiseShare:
    return share_of(j.result.responded_in_time for j in judged)


def _counts(values: Iterable[_K], order: Iterable[_K]) -> dict[_K, int]:
    """Counts in the vocabulary's order, every word present (0 when none)."""
    found = Counter(values)
    return {key: found.get(key, 0) for key in order}


def _overdue(judged: Sequence[_Judged], calendar: WorkCalendar, today: date) -> tuple[Overdue, ...]:
    late = [j for j in judged if j.result.is_open and not j.result.answered
            and not j.result.paused and j.result.responded_in_time is False]
    return tuple(sorted(
        (Overdue(j.ticket.number, calendar.local_day(j.ticket.received_at), j.result.promise_due,
                 workdays_between(calendar, j.result.promise_due, today), j.result.status,
                 j.result.priority) for j in late),
        key=lambda o: (-o.days_late, o.number)))


def _trend(judged: Sequence[_Judged], month: Month) -> tuple[TrendPoint, ...]:
    points = []
    for back in range(TREND_MONTHS - 1, -1, -1):
        which = month.shifted(-back)
        mine = [j for j in judged if j.month == which]
        responses = [j.result.response_days for j in mine if j.result.response_days is not None]
        points.append(TrendPoint(which, len(mine), _share(mine).percent, median(responses)))
    return tuple(points)


def _suggestion_box(mine: Sequence[_Judged], openings: int | None) -> SuggestionBoxFigures:
    entries = [j for j in mine if j.ticket.channel is Channel.KOTAK_SARAN]
    kinds = Counter(j.ticket.kind or "-" for j in entries)
    return SuggestionBoxFigures(len(entries), sum(1 for j in entries if not j.result.is_open),
                                dict(sorted(kinds.items())), openings)


def cutoff_of(month: Month, zone: ZoneInfo, now: datetime) -> datetime:
    """The moment the figures are taken at: the month's end, or `now` if that is earlier."""
    return min(month.end(zone), now)


def month_report(tickets: Iterable[ReportTicket], month: Month, calendar: WorkCalendar,
                 targets: Targets, now: datetime, *, openings: int | None = None) -> MonthReport:
    """The figures of `month` as of its cutoff (see the module's rules).

    `tickets` should hold every ticket received in the 12 months ending with `month` and
    every ticket still open (for the overdue list); others are ignored. `openings` is the
    number of suggestion-box openings recorded in the month, when known.
    """
    cutoff = cutoff_of(month, calendar.zone, now)
    judged = _judge(tickets, calendar, targets, cutoff)
    mine = [j for j in judged if j.month == month]
    statuses = [j.result.status for j in mine]
    responses = [j.result.response_days for j in mine if j.result.response_days is not None]
    resolutions = [j.result.resolution_days for j in mine if j.result.resolution_days is not None]
    by_status = _counts(statuses, Status)
    resolved = sum(1 for j in judged if j.result.resolved_at is not None
                   and month.contains(calendar.local_day(j.result.resolved_at)))
    return MonthReport(
        month=month, cutoff=cutoff, promise_days=targets.promise, received=len(mine),
        by_channel=_counts((j.ticket.channel for j in mine), Channel),
        by_priority=_counts((j.ticket.priority for j in mine),
                            (Priority.DARURAT, Priority.TINGGI, Priority.SEDANG, Priority.RENDAH)),
        by_status=by_status,
        by_kind=dict(sorted(Counter(j.ticket.kind for j in mine if j.ticket.kind).items())),
        closed={s: n for s, n in by_status.items() if s in FINAL},
        open={s: n for s, n in by_status.items() if s not in FINAL},
        resolved_in_month=resolved,
        response=Durations.of(responses), resolution=Durations.of(resolutions),
        promise=_share(mine),
        overdue=_overdue(judged, calendar, calendar.local_day(cutoff)),
        trend=_trend(judged, month),
        suggestion_box=_suggestion_box(mine, openings),
    )
