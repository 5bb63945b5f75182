"""The dates in mail and reports are CLDR's Indonesian, the words Babel would write, without
loading Babel's 4.2 MB locale in every process (mailflow/core/indonesian_dates.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from babel.dates import format_date

from mailflow.core import indonesian_dates as dates
from tests.harness.fresh import printed_by

FORMATS: list[tuple[Callable[[date], str], str]] = [
    (dates.long_date, "EEEE, d MMMM y"),
    (dates.day_month_year, "d MMMM y"),
    (dates.month_year, "MMMM y"),
    (dates.short_month_year, "MMM yy"),
    (dates.short_date, "d MMM y"),
    (dates.short_month, "MMM"),
]


@pytest.mark.parametrize(("ours", "pattern"), FORMATS, ids=[p for _, p in FORMATS])
def test_every_day_of_two_years_is_written_as_babel_writes_it(
        ours: Callable[[date], str], pattern: str) -> None:
    first = date(2026, 1, 1)
    days = [first + timedelta(days=n) for n in range(731)] + [date(2009, 3, 1), date(2100, 12, 31)]
    assert {day: ours(day) for day in days} == {
        day: format_date(day, pattern, locale="id") for day in days}


def test_the_promise_mail_reads_as_a_person_writes_it() -> None:
    assert dates.long_date(date(2026, 4, 2)) == "Kamis, 2 April 2026"
    assert dates.short_month_year(date(2009, 8, 1)) == "Agu 09"


def test_writing_a_due_date_does_not_load_babel() -> None:
    code = ("import sys; from datetime import datetime, timezone;"
            "from mailflow.core.workdays import WorkCalendar, format_tanggal;"
            "import mailflow.service, mailflow.daemon, mailflow.cli;"
            "print(format_tanggal(WorkCalendar().due_date(datetime(2026, 3, 16, 3, "
            "tzinfo=timezone.utc))));"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))")
    assert printed_by(code) == ["Rabu, 1 April 2026", "[]"]
