"""The calendar takes Indonesia from `holidays` without loading the library's other countries,
and gets the very calendar `holidays.country_holidays("ID")` gives, either way it loads it."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date

import holidays
import pytest

from mailflow.core import indonesian_holidays
from mailflow.core.workdays import WorkCalendar
from tests.harness.fresh import printed_by

CATEGORIES = ("public", "government")
YEARS = range(2020, 2036)


def _days(cls: type[holidays.HolidayBase]) -> dict[date, str]:
    return dict(cls(categories=CATEGORIES, language="id", years=YEARS).items())


def _reference() -> dict[date, str]:
    return dict(holidays.country_holidays("ID", categories=CATEGORIES, language="id",
                                          years=YEARS).items())


def test_a_due_date_loads_indonesia_and_no_other_country() -> None:
    code = ("import sys; from datetime import datetime, timezone;"
            "from mailflow.core.workdays import WorkCalendar;"
            "print(WorkCalendar().due_date(datetime(2026, 3, 16, 3, tzinfo=timezone.utc)));"
            "print(sorted(m for m in sys.modules if m.startswith('holidays.countries')))")
    assert printed_by(code) == ["2026-04-01", "[]"]


def test_the_library_stays_whole_for_other_code_in_the_process() -> None:
    code = ("import datetime, pickle; from mailflow.core.workdays import WorkCalendar;"
            "calendar = WorkCalendar(); print(calendar.holiday_names(datetime.date(2026, 3, 19)));"
            "copy = pickle.loads(pickle.dumps(calendar._holidays));"
            "print(copy.get(datetime.date(2026, 3, 19)));"
            "import holidays.countries.indonesia;"
            "print(holidays.countries.indonesia.Indonesia.__module__)")
    assert printed_by(code) == ["['Hari Suci Nyepi']", "Hari Suci Nyepi",
                                        "holidays.countries.indonesia"]


def test_the_calendar_is_the_one_the_library_gives() -> None:
    reference = _reference()
    assert len(reference) > 150
    assert _days(indonesian_holidays.indonesia()) == reference
    calendar = WorkCalendar()
    assert all(calendar.holiday_names(day) == [name] for day, name in reference.items()
               if ";" not in name)


def test_a_library_that_moved_its_module_is_imported_the_ordinary_way(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "holidays.countries.indonesia", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(indonesian_holidays, "indonesia",
                        indonesian_holidays.indonesia.__wrapped__)
    assert indonesian_holidays._load_alone() is None
    assert _days(indonesian_holidays.indonesia()) == _reference()
