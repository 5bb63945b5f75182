"""The working-day rule, on DESIGN.md's worked examples and on properties that must always hold."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.workdays import WorkCalendar, calendar_from, format_tanggal

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-03-17T10:00", "2026-04-02"),  # Nyepi, Idul Fitri and its cuti bersama
        ("2026-11-27T10:00", "2026-12-08"),
        ("2026-11-28T09:00", "2026-12-08"),  # Saturday: counting starts Monday
        ("2026-12-21T09:00", "2027-01-04"),  # cuti bersama 24 Dec, Christmas, New Year
        ("2026-05-13T09:00", "2026-05-26"),  # Ascension Day and its cuti bersama
    ],
)
def test_design_examples(received: str, due: str) -> None:
    moment = datetime.fromisoformat(received).replace(tzinfo=WIB)
    assert CAL.due_date(moment) == date.fromisoformat(due)


def test_receipt_day_is_taken_in_the_village_zone() -> None:
    # 20:00 UTC on Thursday 26 Nov is already Friday 27 Nov 03:00 in WIB.
    utc_moment = datetime(2026, 11, 26, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert CAL.due_date(utc_moment) == date(2026, 12, 8)


def test_naive_receipt_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CAL.due_date(datetime(2026, 11, 27, 10, 0))


def test_extra_holiday_pushes_the_due_date() -> None:
    cal = calendar_from(7, "Asia/Jakarta", extra_holidays=[date(2026, 12, 1)])
    assert cal.due_date(datetime(2026, 11, 27, 10, tzinfo=WIB)) == date(2026, 12, 9)


def test_extra_workday_counts_on_a_saturday() -> None:
    cal = calendar_from(7, "Asia/Jakarta", extra_workdays=[date(2026, 11, 28)])
    assert cal.due_date(datetime(2026, 11, 27, 10, tzinfo=WIB)) == date(2026, 12, 7)


def test_working_days_setting_is_used() -> None:
    cal = calendar_from(1, "Asia/Jakarta")
    assert cal.due_date(datetime(2026, 11, 27, 10, tzinfo=WIB)) == date(2026, 11, 30)


def test_indonesian_date_format() -> None:
    assert format_tanggal(date(2026, 4, 2)) == "Kamis, 2 April 2026"
    assert format_tanggal(date(2026, 12, 8)) == "Selasa, 8 Desember 2026"


def test_later_islamic_holidays_are_flagged_estimated() -> None:
    # Idul Fitri 2027 is only estimated in the holiday data; 2026's is fixed by decree.
    assert CAL.is_estimated(date(2027, 3, 10))
    assert not CAL.is_estimated(date(2026, 3, 21))
    assert date(2027, 3, 10) in CAL.estimated_between(date(2027, 3, 5), date(2027, 3, 20))


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(WIB)
)


@settings(max_examples=300, deadline=None)
@given(moments)
def test_due_date_is_a_later_working_day(received: datetime) -> None:
    due = CAL.due_date(received)
    assert CAL.is_workday(due)
    assert due > received.date()


@settings(max_examples=300, deadline=None)
@given(moments, st.integers(min_value=0, max_value=40 * 24 * 60))
def test_later_receipt_never_has_an_earlier_due_date(received: datetime, minutes: int) -> None:
    later = received + timedelta(minutes=minutes)
    assert CAL.due_date(later) >= CAL.due_date(received)


@settings(max_examples=200, deadline=None)
@given(moments)
def test_exactly_seven_working_days_lie_after_receipt(received: datetime) -> None:
    day, due = received.date(), CAL.due_date(received)
    between = [day + timedelta(days=n) for n in range(1, (due - day).days + 1)]
    assert sum(CAL.is_workday(d) for d in between) == 7


# The running count behind workdays_in and add_workdays (WorkCalendar._tally) against the
# days counted one by one, over a sequence of questions on one calendar: the count grows
# forward and starts over further back as they come, and every answer must stay exact.
_days = st.dates(min_value=date(2019, 1, 1), max_value=date(2034, 12, 31))
_questions = st.lists(st.one_of(
    st.tuples(st.just("between"), _days, _days),
    st.tuples(st.just("nth"), _days, st.integers(min_value=-1, max_value=400)),
), min_size=1, max_size=12)


def _counted(calendar: WorkCalendar, after: date, through: date) -> int:
    return sum(calendar.is_workday(after + timedelta(days=n))
               for n in range(1, (through - after).days + 1))


def _nth(calendar: WorkCalendar, start: date, count: int) -> date | None:
    day, found = start, 0
    for _ in range(3660):
        day += timedelta(days=1)
        found += calendar.is_workday(day)
        if count >= 1 and found == count:
            return day
    return None


@settings(max_examples=150)
@given(_questions, st.sets(_days, max_size=20), st.sets(_days, max_size=5))
def test_running_count_answers_as_counting_each_day(
        questions: list[tuple[str, date, object]], off: set[date], on: set[date]) -> None:
    calendar = calendar_from(7, "Asia/Jakarta", off, on)
    for kind, day, other in questions:
        if kind == "between":
            assert isinstance(other, date)
            assert calendar.workdays_in(day, other) == (
                _counted(calendar, day, other) if other > day else 0)
        else:
            assert isinstance(other, int)
            expected = _nth(calendar, day, other)
            if expected is None:
                with pytest.raises(ValueError, match="working days within"):
                    calendar.add_workdays(day, other)
            else:
                assert calendar.add_workdays(day, other) == expected


def test_no_working_day_within_the_bound_is_an_error() -> None:
    # Every day a holiday: the search stops at its bound instead of looping for ever.
    start = date(2026, 1, 1)
    everything = {start + timedelta(days=n) for n in range(4000)}
    calendar = calendar_from(7, "Asia/Jakarta", everything)
    with pytest.raises(ValueError, match="no 1 working days within 3660 days"):
        calendar.add_workdays(start, 1)
    assert calendar.workdays_in(start, start + timedelta(days=3999)) == 0
