"""The response clock on the real Indonesian calendar: first response, resolution, the pause
rule for perlu_data and per-priority targets (core/promise.py)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.promise import (
    EventFact,
    StatusChange,
    Targets,
    Timeline,
    effective_due,
    first_response,
    kept,
    pauses,
    resolved_at,
    targets_from,
    timeline_from_events,
    workdays_before,
    workdays_between,
)
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import EventKind, Priority, Status

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()
SEVEN = Targets()


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def staff(at: str, to: Status, public: bool = True) -> StatusChange:
    return StatusChange(wib(at), to, by_staff=True, public=public)


def reporter(at: str, to: Status) -> StatusChange:
    return StatusChange(wib(at), to, by_staff=False)


def ticket(received: str, *changes: StatusChange, initial: Status = Status.DITERIMA,
           priority: Priority = Priority.SEDANG, messages: tuple[str, ...] = ()) -> Timeline:
    return Timeline("ADU-2026-00001", wib(received), initial, priority, changes,
                    tuple(wib(m) for m in messages))


# -- the calendar arithmetic ----------------------------------------------------------------

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
def test_due_without_pause_is_the_date_the_resident_was_told(received: str, due: str) -> None:
    timeline = ticket(received)
    now = wib(received) + timedelta(hours=1)
    assert effective_due(timeline, CAL, 7, now) == date.fromisoformat(due)
    assert effective_due(timeline, CAL, 7, now) == CAL.due_date(wib(received))


def test_workdays_between_counts_the_next_working_day_for_a_day_off() -> None:
    assert workdays_between(CAL, date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert workdays_between(CAL, date(2026, 3, 17), date(2026, 3, 25)) == 1  # after Lebaran
    assert workdays_between(CAL, date(2026, 3, 17), date(2026, 3, 21)) == 1  # Idul Fitri itself
    assert workdays_between(CAL, date(2026, 3, 17), date(2026, 4, 2)) == 7
    assert workdays_between(CAL, date(2026, 3, 17), date(2026, 4, 3)) == 8  # Good Friday


def test_workdays_before_skips_holidays() -> None:
    assert workdays_before(CAL, date(2026, 3, 25), 1) == date(2026, 3, 17)  # back over Lebaran
    assert workdays_before(CAL, date(2027, 1, 4), 2) == date(2026, 12, 30)
    assert workdays_before(CAL, date(2027, 1, 4), 0) == date(2027, 1, 4)


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2026, 1, 1), date(2027, 6, 30)), st.integers(1, 10), st.integers(0, 25))
def test_between_agrees_with_the_due_date(start: date, days: int, offset: int) -> None:
    """Something on day `end` is within `days` exactly when `end` is on or before the due date."""
    due = CAL.add_workdays(start, days)
    end = start + timedelta(days=offset)
    assert workdays_between(CAL, start, due) == days
    assert (end <= due) == (workdays_between(CAL, start, end) <= days)


# -- first response ---------------------------------------------------------------------------

def test_response_on_the_due_date_is_in_time_and_the_saturday_after_is_late() -> None:
    # Wed 25 Nov -> due Fri 4 Dec.
    on_due = kept(ticket("2026-11-25T10:00", staff("2026-12-04T16:00", Status.DIVERIFIKASI)),
                  CAL, SEVEN, wib("2026-12-10T10:00"))
    assert on_due.promise_due == date(2026, 12, 4)
    assert (on_due.response_days, on_due.responded_in_time) == (7, True)
    saturday = kept(ticket("2026-11-25T10:00", staff("2026-12-05T09:00", Status.DIVERIFIKASI)),
                    CAL, SEVEN, wib("2026-12-10T10:00"))
    assert (saturday.response_days, saturday.responded_in_time) == (8, False)


def test_response_right_after_lebaran_is_one_working_day() -> None:
    result = kept(ticket("2026-03-17T10:00", staff("2026-03-25T08:00", Status.DIVERIFIKASI)),
                  CAL, SEVEN, wib("2026-03-25T09:00"))
    assert result.response_days == 1
    assert result.responded_in_time is True
    assert result.overdue_days == 0


def test_receipt_late_at_night_counts_from_the_next_day() -> None:
    # 23:30 WIB Tuesday (16:30 UTC): day 0 is Tuesday, a reply on Wednesday took one day.
    received = datetime(2026, 12, 1, 16, 30, tzinfo=ZoneInfo("UTC"))
    timeline = Timeline("ADU-2026-00001", received,
                        changes=(staff("2026-12-02T08:00", Status.DIVERIFIKASI),))
    assert kept(timeline, CAL, SEVEN, wib("2026-12-02T09:00")).response_days == 1
    # 17:30 UTC is already Wednesday 00:30 WIB: the same reply came on day 0.
    timeline = Timeline("ADU-2026-00001", received + timedelta(hours=1),
                        changes=(staff("2026-12-02T08:00", Status.DIVERIFIKASI),))
    assert kept(timeline, CAL, SEVEN, wib("2026-12-02T09:00")).response_days == 0


def test_only_public_staff_acts_are_a_response() -> None:
    quiet = ticket("2026-11-30T09:00",
                   staff("2026-12-01T09:00", Status.DIVERIFIKASI, public=False),
                   reporter("2026-12-01T10:00", Status.DITERIMA))
    assert first_response(quiet) is None
    spoken = ticket("2026-11-30T09:00", staff("2026-12-01T09:00", Status.DIVERIFIKASI,
                                              public=False), messages=("2026-12-02T11:00",))
    assert first_response(spoken) == wib("2026-12-02T11:00")


def test_unanswered_over_christmas_becomes_overdue_after_the_fourth() -> None:
    timeline = ticket("2026-12-21T09:00")  # due Mon 4 Jan 2027
    on_due = kept(timeline, CAL, SEVEN, wib("2027-01-04T20:00"))
    assert (on_due.overdue_days, on_due.responded_in_time) == (0, None)
    # 5 Jan 2027 is Isra Mi'raj: a day off counts as the next working day, so one day late.
    holiday = kept(timeline, CAL, SEVEN, wib("2027-01-05T10:00"))
    assert (holiday.overdue_days, holiday.responded_in_time) == (1, False)
    assert kept(timeline, CAL, SEVEN, wib("2027-01-07T10:00")).overdue_days == 2


# -- targets per priority ---------------------------------------------------------------------

def test_a_darurat_target_is_shorter_than_the_promise() -> None:
    targets = Targets(7, {Priority.DARURAT: 1, Priority.TINGGI: 3})
    urgent = ticket("2026-11-27T10:00", priority=Priority.DARURAT)  # Friday
    result = kept(urgent, CAL, targets, wib("2026-12-01T10:00"))
    assert (result.due, result.promise_due, result.target_days) == (
        date(2026, 11, 30), date(2026, 12, 8), 1)
    assert (result.overdue_days, result.within_target, result.responded_in_time) == (1, False, None)
    ordinary = kept(ticket("2026-11-27T10:00"), CAL, targets, wib("2026-12-01T10:00"))
    assert (ordinary.due, ordinary.target_days, ordinary.overdue_days) == (date(2026, 12, 8), 7, 0)


def test_targets_from_configuration_words() -> None:
    assert targets_from(7, {"Darurat": 1, "tinggi": 3}).days_for(Priority.DARURAT) == 1
    assert targets_from(7, {}).days_for(Priority.RENDAH) == 7
    with pytest.raises(ValueError, match="'segera'"):
        targets_from(7, {"segera": 1})
    with pytest.raises(ValueError, match="never longer than the promise"):
        targets_from(7, {"rendah": 10})
    with pytest.raises(ValueError, match="1 to 7"):
        Targets(7, {Priority.DARURAT: 0})


# -- the pause rule ---------------------------------------------------------------------------

def test_data_missing_at_intake_counts_from_the_day_the_data_arrives() -> None:
    # Received Mon 30 Nov without NIK; the reporter's reply completes it on Thu 3 Dec.
    timeline = ticket("2026-11-30T09:00", reporter("2026-12-03T14:00", Status.DITERIMA),
                      initial=Status.PERLU_DATA)
    result = kept(timeline, CAL, SEVEN, wib("2026-12-04T10:00"))
    assert result.due == CAL.due_date(wib("2026-12-03T14:00")) == date(2026, 12, 14)
    assert result.paused_days == 3
    assert result.responded_at is None  # the reporter completing data is no response
    assert not result.paused


def test_while_paused_the_due_date_slides_and_nothing_is_overdue() -> None:
    timeline = ticket("2026-11-30T09:00", initial=Status.PERLU_DATA)
    later = kept(timeline, CAL, SEVEN, wib("2026-12-21T10:00"))
    assert later.paused and later.overdue_days == 0
    assert later.responded_in_time is None
    assert later.due == CAL.add_workdays(date(2026, 12, 21), 7)
    assert pauses(timeline) == [(wib("2026-11-30T09:00"), None)]


def test_a_pause_over_cuti_bersama_counts_only_working_days() -> None:
    # Staff ask for data on Wed 23 Dec (their first response); data comes Mon 28 Dec;
    # closed Wed 6 Jan. Paused: (23 Dec, 28 Dec] holds one working day, 28 Dec.
    timeline = ticket("2026-12-21T09:00",
                      staff("2026-12-23T10:00", Status.PERLU_DATA),
                      reporter("2026-12-28T08:00", Status.DITERIMA),
                      staff("2026-12-29T08:00", Status.DIPROSES),
                      staff("2027-01-06T15:00", Status.SELESAI))
    result = kept(timeline, CAL, SEVEN, wib("2027-01-07T10:00"))
    assert (result.response_days, result.responded_in_time) == (2, True)
    assert result.paused_days == 1
    # 21 Dec -> 6 Jan: 22, 23, 28, 29, 30, 31 Dec, 4, 6 Jan = 8 working days, 1 paused.
    assert result.resolution_days == 7
    assert result.resolved_at == wib("2027-01-06T15:00")


def test_a_pause_after_the_due_date_does_not_hide_a_late_answer() -> None:
    # Due Wed 9 Dec; staff first act on Mon 14 Dec by asking for data.
    timeline = ticket("2026-11-30T09:00", staff("2026-12-14T09:00", Status.PERLU_DATA))
    result = kept(timeline, CAL, SEVEN, wib("2026-12-18T09:00"))
    assert result.promise_due == date(2026, 12, 9)
    assert (result.response_days, result.responded_in_time) == (10, False)


# -- resolution ---------------------------------------------------------------------------------

def test_resolution_is_the_latest_closing() -> None:
    reopened = ticket("2026-11-30T09:00", staff("2026-12-01T09:00", Status.DIVERIFIKASI),
                      staff("2026-12-02T09:00", Status.SELESAI),
                      staff("2026-12-03T09:00", Status.DIPROSES))
    assert resolved_at(reopened) is None
    assert kept(reopened, CAL, SEVEN, wib("2026-12-04T09:00")).resolution_days is None
    closed = ticket("2026-11-30T09:00", *reopened.changes, staff("2026-12-07T09:00", Status.DITOLAK))
    result = kept(closed, CAL, SEVEN, wib("2026-12-08T09:00"))
    assert (result.resolved_at, result.resolution_days) == (wib("2026-12-07T09:00"), 5)
    assert not result.is_open


# -- from the audit trail -----------------------------------------------------------------------

def test_timeline_from_the_audit_trail() -> None:
    events = [
        EventFact(EventKind.STATUS, wib("2026-12-02T10:00"), "reporter", Status.DITERIMA),
        EventFact(EventKind.CREATED, wib("2026-11-30T09:00"), "system", Status.PERLU_DATA),
        EventFact(EventKind.INTERNAL_NOTE, wib("2026-12-02T11:00"), "verif@desa.example"),
        EventFact(EventKind.MESSAGE, wib("2026-12-02T12:00"), "reporter"),
        EventFact(EventKind.MESSAGE, wib("2026-12-03T12:00"), "verif@desa.example"),
        EventFact(EventKind.STATUS, wib("2026-12-04T09:00"), "os:admin", Status.DIVERIFIKASI),
    ]
    timeline = timeline_from_events("ADU-2026-00001", wib("2026-11-30T09:00"), Priority.TINGGI,
                                    events)
    assert timeline.initial_status is Status.PERLU_DATA
    assert timeline.status is Status.DIVERIFIKASI
    assert [c.by_staff for c in timeline.changes] == [False, True]
    assert timeline.staff_messages == (wib("2026-12-03T12:00"),)
    assert first_response(timeline) == wib("2026-12-03T12:00")
