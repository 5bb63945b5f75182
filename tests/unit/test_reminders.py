"""Reminders, escalation and digests planned on the real calendar with a controlled clock
(core/reminders.py): the hour, weekends, holidays and cuti bersama, catch-up after downtime,
once-only keys, the pause rule, digest order and what a digest may carry."""

from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.config import StaffMember
from mailflow.core.identity import Identity
from mailflow.core.privacy import Redactor
from mailflow.core.promise import StatusChange, Targets, Timeline
from mailflow.core.reminders import (
    ClockPlan,
    ClockRules,
    Digest,
    DigestLine,
    Escalation,
    PlanItem,
    Redacted,
    Reminder,
    Watched,
    plan_clock,
)
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Priority, Role, Status

WIB = ZoneInfo("Asia/Jakarta")
CAL = WorkCalendar()
RULES = ClockRules()  # reminders 2 and 0 working days before, 08:00; digests 07:00
SEVEN = Targets()
VERIFIER, OFFICER, HEAD, ADMIN = ("verif@desa.example", "petugas@desa.example",
                                  "kades@desa.example", "admin@desa.example")
STAFF = [
    StaffMember(email=VERIFIER, name="Verifikator", roles=[Role.VERIFIKATOR]),
    StaffMember(email=OFFICER, name="Petugas", roles=[Role.PETUGAS]),
    StaffMember(email=HEAD, name="Kepala Desa", roles=[Role.KEPALA_DESA]),
    StaffMember(email=ADMIN, name="Admin", roles=[Role.ADMIN]),
]


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


def watched(number: int, received: str, *changes: StatusChange, assignee: str | None = None,
            priority: Priority = Priority.SEDANG, initial: Status = Status.DITERIMA,
            subject: Redacted | None = None) -> Watched:
    timeline = Timeline(f"ADU-2026-{number:05d}", wib(received), initial, priority, changes)
    return Watched(timeline, assignee, subject)


def plan(tickets: Sequence[Watched], now: str, rules: ClockRules = RULES,
         targets: Targets = SEVEN) -> ClockPlan:
    return plan_clock(tickets, STAFF, CAL, targets, rules, wib(now))


def as_of(ticket: Watched, now: datetime) -> Watched:
    """The ticket as the database holds it at `now`: no event from the future."""
    past = tuple(c for c in ticket.timeline.changes if c.at <= now)
    return replace(ticket, timeline=replace(ticket.timeline, changes=past))


Made = list[tuple[datetime, PlanItem]]


def simulate(tickets: Sequence[Watched], start: str, end: str, rules: ClockRules = RULES,
             down: Callable[[datetime], bool] = lambda moment: False) -> Made:
    """Poll every 30 minutes from `start` to `end` like the daemon, making each planned item
    whose key was not made before (what JobRun's unique key does), except while `down`."""
    made: Made = []
    done: set[str] = set()
    moment, stop = wib(start), wib(end)
    while moment <= stop:
        if not down(moment):
            current = [as_of(t, moment) for t in tickets]
            for key, item in plan_clock(current, STAFF, CAL, SEVEN, rules, moment).by_key().items():
                if key not in done:
                    done.add(key)
                    made.append((moment, item))
        moment += timedelta(minutes=30)
    return made


def keys(made: Made, kind: type) -> list[tuple[str, str]]:
    return [(f"{m:%Y-%m-%d %H:%M}", i.key) for m, i in made if isinstance(i, kind)]


# -- reminders --------------------------------------------------------------------------------

def test_reminders_two_days_before_and_on_the_due_date_at_the_hour() -> None:
    # Wed 25 Nov -> due Fri 4 Dec: reminders Wed 2 Dec and Fri 4 Dec at 08:00.
    tickets = [watched(1, "2026-11-25T10:00")]
    assert plan(tickets, "2026-12-01T12:00").reminders == ()
    assert plan(tickets, "2026-12-02T07:59").reminders == ()
    first = plan(tickets, "2026-12-02T08:00").reminders
    assert [(r.key, r.to, r.days_before) for r in first] == [
        ("reminder:ADU-2026-00001:2026-12-04:-2", (VERIFIER,), 2)]
    assert plan(tickets, "2026-12-04T08:00").reminders[0].key == \
        "reminder:ADU-2026-00001:2026-12-04:-0"


def test_a_reminder_goes_to_the_assigned_officer_else_the_verifiers() -> None:
    assigned = [watched(1, "2026-11-25T10:00", assignee=OFFICER.upper())]
    assert plan(assigned, "2026-12-02T09:00").reminders[0].to == (OFFICER,)
    stranger = [watched(1, "2026-11-25T10:00", assignee="gone@desa.example")]
    assert plan(stranger, "2026-12-02T09:00").reminders[0].to == (VERIFIER,)


def test_no_reminder_for_answered_or_waiting_tickets() -> None:
    answered = watched(1, "2026-11-25T10:00",
                       StatusChange(wib("2026-11-26T09:00"), Status.DIVERIFIKASI, by_staff=True))
    waiting = watched(2, "2026-11-25T10:00", initial=Status.PERLU_DATA)
    result = plan([answered, waiting], "2026-12-04T09:00")
    assert result.reminders == () and result.escalations == ()
    # Put on hold late without telling the reporter (no response): due Fri 4 Dec slides to
    # Tue 8 Dec by Monday, a date whose "2 days before" has passed; still no reminder.
    on_hold = watched(3, "2026-11-25T10:00", StatusChange(
        wib("2026-12-03T09:00"), Status.PERLU_DATA, by_staff=True, public=False))
    result = plan([on_hold], "2026-12-07T09:00")
    assert result.reminders == () and result.escalations == ()
    assert result.digests[0].lines[0].due == date(2026, 12, 8)


def test_catch_up_after_downtime_plans_the_missed_reminder_once() -> None:
    tickets = [watched(1, "2026-11-25T10:00")]  # reminders due Wed 2 and Fri 4 Dec
    made = simulate(tickets, "2026-12-01T00:00", "2026-12-04T23:30",
                    down=lambda m: wib("2026-12-02T00:00") <= m < wib("2026-12-03T10:00"))
    assert keys(made, Reminder) == [
        ("2026-12-03 10:00", "reminder:ADU-2026-00001:2026-12-04:-2"),
        ("2026-12-04 08:00", "reminder:ADU-2026-00001:2026-12-04:-0"),
    ]


def test_after_a_long_downtime_only_the_latest_reminder_is_sent() -> None:
    tickets = [watched(1, "2026-11-25T10:00")]
    made = simulate(tickets, "2026-12-01T00:00", "2026-12-04T23:30",
                    down=lambda m: m < wib("2026-12-04T09:00"))
    assert keys(made, Reminder) == [("2026-12-04 09:00", "reminder:ADU-2026-00001:2026-12-04:-0")]


@pytest.mark.parametrize(("skip", "expected"), [
    (True, "2026-12-07 08:00"),  # waits for Monday
    (False, "2026-12-05 10:00"),  # goes out the Saturday mailflow comes back
])
def test_a_missed_reminder_waits_for_a_working_day_when_configured(skip: bool, expected: str) -> None:
    # Fri 27 Nov -> due Tue 8 Dec: the "2 days before" reminder is Fri 4 Dec; down all Friday.
    tickets = [watched(1, "2026-11-27T10:00")]
    rules = replace(RULES, skip_non_working_days=skip)
    made = simulate(tickets, "2026-12-04T00:00", "2026-12-07T12:00", rules,
                    down=lambda m: m < wib("2026-12-05T10:00"))
    assert keys(made, Reminder) == [(expected, "reminder:ADU-2026-00001:2026-12-08:-2")]


def test_a_stage_on_the_day_of_receipt_is_skipped() -> None:
    # darurat, target 1: received Mon 30 Nov, due Tue 1 Dec; "2 days before" is before receipt.
    tickets = [watched(1, "2026-11-30T09:00", priority=Priority.DARURAT)]
    targets = Targets(7, {Priority.DARURAT: 1})
    assert plan(tickets, "2026-11-30T10:00", targets=targets).reminders == ()
    tuesday = plan(tickets, "2026-12-01T08:00", targets=targets).reminders
    assert [r.key for r in tuesday] == ["reminder:ADU-2026-00001:2026-12-01:-0"]


def test_a_moved_due_date_gets_its_own_reminders() -> None:
    # Received Mon 30 Nov without data; the reporter completes it Thu 3 Dec: due Mon 14 Dec.
    completed = StatusChange(wib("2026-12-03T14:00"), Status.DITERIMA, by_staff=False)
    tickets = [watched(1, "2026-11-30T09:00", completed, initial=Status.PERLU_DATA)]
    assert [r.key for r in plan(tickets, "2026-12-10T09:00").reminders] == [
        "reminder:ADU-2026-00001:2026-12-14:-2"]


# -- escalation -------------------------------------------------------------------------------

def test_escalated_once_to_the_head_after_christmas_and_new_year() -> None:
    # Mon 21 Dec -> due Mon 4 Jan 2027; 5 Jan is Isra Mi'raj: escalation waits for Wed 6 Jan.
    tickets = [watched(1, "2026-12-21T09:00", assignee=OFFICER)]
    made = simulate(tickets, "2026-12-21T00:00", "2027-01-08T23:30")
    assert keys(made, Escalation) == [("2027-01-06 08:00", "escalation:ADU-2026-00001")]
    escalation = next(i for _, i in made if isinstance(i, Escalation))
    assert (escalation.to, escalation.assignee, escalation.overdue_days) == ((HEAD,), OFFICER, 1)
    assert keys(made, Reminder) == [
        ("2026-12-30 08:00", "reminder:ADU-2026-00001:2027-01-04:-2"),
        ("2027-01-04 08:00", "reminder:ADU-2026-00001:2027-01-04:-0"),
    ]


def test_without_a_village_head_the_verifiers_hear_of_it() -> None:
    staff = [m for m in STAFF if not m.has(Role.KEPALA_DESA)]
    result = plan_clock([watched(1, "2026-11-25T10:00")], staff, CAL, SEVEN, RULES,
                        wib("2026-12-07T09:00"))
    assert [e.to for e in result.escalations] == [(VERIFIER,)]


def test_an_answer_ends_the_escalation_listing() -> None:
    late = StatusChange(wib("2026-12-09T10:00"), Status.DIPROSES, by_staff=True)
    tickets = [watched(1, "2026-11-25T10:00", late, assignee=OFFICER)]  # due Fri 4 Dec
    made = simulate(tickets, "2026-12-07T00:00", "2026-12-10T12:00")
    head = [(f"{m:%d}", [line.overdue_days for line in i.lines]) for m, i in made
            if isinstance(i, Digest) and i.to == HEAD]
    # Listed every working day until answered at 10:00 on the 9th (that morning's digest too).
    assert head == [("07", [1]), ("08", [2]), ("09", [3])]
    assert len(keys(made, Escalation)) == 1


# -- the Idul Fitri month, end to end ---------------------------------------------------------

def test_nothing_goes_out_on_days_off_around_lebaran() -> None:
    # Tue 17 Mar -> due Thu 2 Apr, over Nyepi, Idul Fitri and cuti bersama; Good Friday after.
    tickets = [watched(1, "2026-03-17T10:00")]
    made = simulate(tickets, "2026-03-17T11:00", "2026-04-07T12:00")
    assert all(CAL.is_workday(m.date()) for m, _ in made)
    assert keys(made, Reminder) == [
        ("2026-03-31 08:00", "reminder:ADU-2026-00001:2026-04-02:-2"),
        ("2026-04-02 08:00", "reminder:ADU-2026-00001:2026-04-02:-0"),
    ]
    assert keys(made, Escalation) == [("2026-04-06 08:00", "escalation:ADU-2026-00001")]
    digest_days = [m.date() for m, i in made if isinstance(i, Digest) and i.to == VERIFIER]
    assert digest_days[:3] == [date(2026, 3, 17), date(2026, 3, 25), date(2026, 3, 26)]
    assert len(digest_days) == len(set(digest_days)) == 10  # 17 Mar .. 7 Apr, working days


# -- digests ----------------------------------------------------------------------------------

def test_digests_only_on_working_days_after_the_digest_hour() -> None:
    tickets = [watched(1, "2026-11-25T10:00")]
    assert plan(tickets, "2026-12-01T06:59").digests == ()
    assert [d.key for d in plan(tickets, "2026-12-01T07:00").digests] == [
        f"digest:{VERIFIER}:2026-12-01"]
    assert plan(tickets, "2026-12-05T09:00").digests == ()  # Saturday
    assert plan(tickets, "2026-12-24T09:00").digests == ()  # cuti bersama
    never_skip = replace(RULES, skip_non_working_days=False)
    assert plan(tickets, "2026-12-05T09:00", never_skip).digests == ()


def test_each_member_reads_their_own_tickets() -> None:
    tickets = [
        watched(1, "2026-11-25T10:00", assignee=OFFICER),  # due 4 Dec: overdue on the 8th
        watched(2, "2026-12-01T10:00"),  # unassigned
        watched(3, "2026-11-20T10:00", assignee=VERIFIER),  # overdue
        watched(4, "2026-11-20T10:00", StatusChange(wib("2026-11-23T10:00"), Status.SELESAI,
                                                      by_staff=True)),  # closed
    ]
    digests = {d.to: [line.number[-1] for line in d.lines]
               for d in plan(tickets, "2026-12-08T07:30").digests}
    assert digests == {OFFICER: ["1"], VERIFIER: ["3", "2"], HEAD: ["3", "1"]}  # no admin


def test_digest_order_overdue_first_then_priority_then_due_date() -> None:
    tickets = [
        watched(1, "2026-12-04T10:00", priority=Priority.SEDANG),  # due 15 Dec
        watched(2, "2026-12-07T10:00", priority=Priority.DARURAT),  # due 16 Dec
        watched(3, "2026-12-03T10:00", priority=Priority.DARURAT),  # due 14 Dec
        watched(4, "2026-11-20T10:00", priority=Priority.RENDAH),  # overdue since 1 Dec
        watched(5, "2026-11-25T10:00", priority=Priority.TINGGI),  # overdue since 4 Dec
        watched(6, "2026-11-18T10:00", priority=Priority.TINGGI),  # overdue since 27 Nov
        watched(7, "2026-12-04T09:00", priority=Priority.RENDAH, initial=Status.PERLU_DATA),
    ]
    digest = next(d for d in plan(tickets, "2026-12-08T07:00").digests if d.to == VERIFIER)
    assert [line.number[-1] for line in digest.lines] == ["6", "5", "4", "3", "2", "1", "7"]
    waiting = digest.lines[-1]
    assert waiting.paused and waiting.overdue_days == 0


def test_a_digest_carries_no_identity() -> None:
    reporter = Identity(name="Budi Santoso", nik="3322011234567890", phone="081234567890",
                        address="Dusun Krajan RT 02/RW 05", email="budi.santoso@gmail.com")
    raw = "Pengaduan Masyarakat - Budi Santoso, jalan rusak di Dusun Krajan"
    subject = Redacted(Redactor(reporter).subject(raw))
    tickets = [watched(1, "2026-11-25T10:00", subject=subject), watched(2, "2026-11-26T10:00")]
    result = plan(tickets, "2026-12-08T09:00")
    text = repr(result)
    for value in ("Budi", "Santoso", "3322011234567890", "081234567890", "Krajan", "budi."):
        assert value not in text
    lines = result.digests[0].lines
    assert [line.subject for line in lines] == [subject, None]
    assert "jalan rusak" in (lines[0].subject or "")
    assert {f.name for f in fields(DigestLine)} == {
        "number", "status", "priority", "due", "overdue_days", "paused", "answered", "subject"}


def test_every_key_is_stable_and_unique() -> None:
    tickets = [watched(n, f"2026-11-{18 + n}T10:00") for n in range(1, 6)]
    morning = plan(tickets, "2026-12-02T09:00")
    assert morning.reminders and morning.escalations and morning.digests
    assert morning.by_key().keys() == plan(tickets, "2026-12-02T15:00").by_key().keys()
    assert len(morning.by_key()) == (len(morning.reminders) + len(morning.escalations)
                                     + len(morning.digests))


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="days_before"):
        ClockRules(days_before=(2, -1))
    with pytest.raises(ValueError, match="digest_hour"):
        ClockRules(digest_hour=24)
