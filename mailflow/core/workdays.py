"""The working-day calendar behind the 7-working-day promise.

Pure: no clock, no I/O. The rule (DESIGN.md): the due date is the Nth working day
after the calendar day, in the village's time zone, on which the complaint was
received; the day of receipt never counts. Working days are Monday to Friday minus
Indonesian public holidays and cuti bersama (`holidays`, country ID, categories
public and government), minus the village's extra holidays, plus its extra working
days.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from mailflow.config import CalendarConfig
from mailflow.core.indonesian_dates import long_date
from mailflow.core.indonesian_holidays import indonesia

# Holiday names from `holidays` for later years of lunar calendars are estimates;
# the library marks them with this label (Indonesian, or English on older data).
_ESTIMATED_MARKERS = ("(perkiraan)", "(estimated)")

# A bound on the search so a misconfiguration (every day a holiday) cannot loop forever.
_MAX_SCAN_DAYS = 3660


@dataclass(frozen=True)
class WorkCalendar:
    working_days: int = 7
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # `expand=True` (the default) fills in each year on first lookup.
        # Names in Indonesian: `deadline` prints the holidays it skipped.
        # indonesia(): the library's class without its other countries (8 MB, issue 10).
        return indonesia()(categories=("public", "government"), language="id")

    def holiday_names(self, day: date) -> list[str]:
        names = list(self._holidays.get_list(day))
        if day in self.extra_holidays:
            names.append("Libur desa")
        return names

    @cached_property
    def _known(self) -> dict[date, bool]:
        """Days already decided: the clock asks about the same days for every open ticket."""
        return {}

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._decide(day)
        return known

    def _decide(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return day not in self._holidays

    @cached_property
    def _tally(self) -> _Tally:
        # From each day's verdict, not through `is_workday`'s cache: the count holds what
        # that cache would, for every day it covers, in four bytes a day.
        return _Tally(self._decide)

    def workdays_in(self, after: date, through: date) -> int:
        """Working days in (after, through]; 0 when `through` is not after `after`.

        Answered from a running count kept once per calendar, not by walking the days: the
        clock and the monthly report ask it of every ticket, some of them a year old."""
        if through <= after:
            return 0
        return self._tally.between(after, through)

    def is_estimated(self, day: date) -> bool:
        """True when a holiday on this day is only an estimate in the holiday data."""
        return any(n.endswith(_ESTIMATED_MARKERS) for n in self.holiday_names(day))

    def local_day(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("a receipt time must carry its time zone")
        return moment.astimezone(self.zone).date()

    def add_workdays(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (count >= 1)."""
        day = self._tally.nth_after(start, count, _MAX_SCAN_DAYS)
        if day is None:
            raise ValueError(f"no {count} working days within {_MAX_SCAN_DAYS} days of {start}")
        return day

    def due_date(self, received: datetime) -> date:
        return self.add_workdays(self.local_day(received), self.working_days)

    def holidays_between(self, start: date, end: date) -> list[tuple[date, list[str]]]:
        """Weekdays in (start, end] that are not working days, with their holidays' names."""
        days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
        return [(d, self.holiday_names(d) or ["libur"]) for d in days
                if d.weekday() < 5 and not self.is_workday(d)]

    def estimated_between(self, start: date, end: date) -> list[date]:
        """Days in (start, end] whose holiday status is an estimate: the due date may move."""
        days = (start + timedelta(days=n) for n in range(1, (end - start).days + 1))
        return [d for d in days if self.is_estimated(d)]


class _Tally:
    """A running count of working days over the span of days asked about so far.

    `counts[i]` is the number of working days among the `i` days from `first` on, so the
    working days between two dates are one subtraction and the n-th working day after a
    date is one bisection. The span grows on demand, forward by appending and backward by
    starting over a year earlier; it holds one 4-byte count per day (a decade is 15 KB). A
    change builds a new (first, counts) pair and replaces the old one in one assignment, so
    a thread reading meanwhile keeps a whole, older pair.
    """

    def __init__(self, is_workday: Callable[[date], bool]) -> None:
        self._is_workday = is_workday
        self._state: tuple[date, array[int]] | None = None

    def _cover(self, start: date, end: date) -> tuple[date, array[int]]:
        """The state, grown to cover the days from `start` to `end`."""
        state = self._state
        if state is None or start < state[0]:
            first = start if state is None else min(start, _back(state[0], 366))
            last = end if state is None else max(end, state[0] + timedelta(days=len(state[1]) - 2))
            state = self._state = (first, self._counted(first, (last - first).days + 1,
                                                      array("I", [0])))
            return state
        first, counts = state
        missing = (end - first).days + 2 - len(counts)
        if missing > 0:
            grown = self._counted(first + timedelta(days=len(counts) - 1), missing,
                                 array("I", counts))
            state = self._state = (first, grown)
        return state

    def _counted(self, day: date, days: int, counts: array[int]) -> array[int]:
        """`counts` with the running count carried on over `days` days from `day`."""
        for n in range(days):
            counts.append(counts[-1] + self._is_workday(day + timedelta(days=n)))
        return counts

    def between(self, after: date, through: date) -> int:
        """Working days in (after, through], `after` < `through`."""
        start = after + timedelta(days=1)
        first, counts = self._cover(start, through)
        return counts[(through - first).days + 1] - counts[(start - first).days]

    def nth_after(self, start: date, count: int, limit: int) -> date | None:
        """The `count`-th working day after `start`, or None if not within `limit` days."""
        if count < 1:
            return None
        day = start + timedelta(days=1)
        first, counts = self._cover(day, day)
        target = counts[(day - first).days] + count
        reach, step = 0, 64
        while counts[-1] < target and reach < limit:  # grow in steps: a due date is near
            reach = min(limit, reach + step)
            step *= 2
            first, counts = self._cover(day, start + timedelta(days=reach))
        index = bisect_left(counts, target)
        if index == len(counts) or (first + timedelta(days=index - 1) - start).days > limit:
            return None
        return first + timedelta(days=index - 1)


def _back(day: date, days: int) -> date:
    """`days` before `day`, or the first date there is."""
    return day - timedelta(days=min(days, (day - date.min).days))


def calendar_from(
    working_days: int,
    timezone: str,
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
) -> WorkCalendar:
    return WorkCalendar(
        working_days=working_days,
        zone=ZoneInfo(timezone),
        extra_holidays=frozenset(extra_holidays),
        extra_workdays=frozenset(extra_workdays),
    )


def format_tanggal(day: date) -> str:
    """The date as Indonesians write it: 'Kamis, 2 April 2026'."""
    return long_date(day)


_ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                       "Asia/Jayapura": "WIT"}


def format_moment(moment: datetime, zone_name: str) -> str:
    """'Sabtu, 28 November 2026 pukul 09.00 WIB': the moment in the named zone, as people say it."""
    local = moment.astimezone(ZoneInfo(zone_name))
    zone = _ZONE_ABBREVIATIONS.get(zone_name, local.strftime("%Z"))
    return f"{format_tanggal(local.date())} pukul {local:%H.%M} {zone}"


def calendar_for(cfg: CalendarConfig) -> WorkCalendar:
    """The village's calendar, from its configuration."""
    return calendar_from(cfg.working_days, cfg.timezone, cfg.extra_holidays, cfg.extra_workdays)
