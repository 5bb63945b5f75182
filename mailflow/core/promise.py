"""The response clock: was the promise kept, how long did the answer and the resolution take.

The procedure promises "menanggapi setiap aduan secepatnya, maksimal 7 hari kerja sejak aduan
diterima". Pure: plain data in (a ticket's `Timeline`), plain data out; "now" is passed in.

What counts
  * The **first response** is the first public message from staff after the acknowledgement:
    a status change made by a person of the village (a staff member by mail, or an operator
    at the CLI), or a staff message to the reporter (EventKind.MESSAGE). mailflow tells the
    reporter of every status change it can; for a reporter without an email address
    (telephone, kotak saran) the staff member's recorded change is what the resident is
    told by phone or reads on the public page, so it counts the same. Automatic mail (the
    acknowledgement, the answer to a status request, the "data lengkap" message when the
    reporter's own reply completes the data) never counts.
  * **Resolution** is reaching a closed status, `workflow.FINAL` (selesai, ditolak). A ticket
    re-opened later is unresolved again; its resolution is its latest closing.

Partial days (the same rule as `WorkCalendar.due_date`, so "within the promise" agrees with
the date the resident was told)
  * Day 0 is the calendar day of receipt in the village's zone; it never counts, whatever
    the hour and whether or not it is a working day (office hours are not modelled: a
    complaint at 23:00 on Tuesday is counted from Wednesday, one on Saturday from Monday).
  * Something that happens on day D took `workdays_between(day0, D)` working days: the
    working days in (day0, D], plus one when D is not a working day itself (a response on
    Saturday counts as on Monday). So a response on the due date is on time, and a
    response on the Saturday after a Friday due date is late, as the resident would judge.

The pause rule: `perlu_data` pauses the clock
  While a ticket waits in `perlu_data` for the reporter's data, the clock stands still; when
  the data arrives, counting resumes as if the complaint had been received that day. In
  working days: the pause covers the working days in (day it entered perlu_data, day it
  left], and every due date moves by that many working days. Why:
  * the procedure asks for "data diri yang valid dan deskripsi masalah yang jelas agar
    pengaduan Anda dapat kami proses": a complaint missing them is not yet complete, and
    the village cannot act on it; charging the reporter's silence to the village would make
    the figures say staff were late when they were waiting;
  * helpdesks do the same (shared/reading/anchors-mission.md): Zammad's pending states
    freeze the SLA clock, Request Tracker can leave out the time spent in statuses it is
    told to ignore (ExcludeTimeOnIgnoredStatuses); SP4N-LAPOR!'s administrators can put a
    report on hold ("Tunda") before it goes on;
  * it cannot hide a late answer: staff asking for data is itself a public status change,
    so it is the first response; the pause therefore moves the response deadline only for
    a complaint intake found incomplete (status perlu_data from the start), which nobody
    can answer usefully before its data comes; for resolution it leaves out the days the
    village waited for the reporter.
  While paused, no reminder and no escalation is planned and the ticket is never overdue;
  `effective_due` is the one function that applies the rule, for due dates, reminders and
  reports alike. When the data arrives, the date the reporter is told (and the ticket's
  stored due date) is `effective_due(..., targets.promise, now)`: 7 working days from then.

Targets: the promise (the calendar's working days, 7) is what the resident is told; optional
shorter targets per priority (darurat: 1, tinggi: 3, ...) are what staff work to. `due` is the
target's date; `promise_due` the promise's; reminders and escalation follow `due`, and the
share "responded within the promise" follows `promise_due`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from mailflow.core.workdays import WorkCalendar
from mailflow.core.workflow import FINAL
from mailflow.vocabulary import EventKind, Priority, Status

# Actors of the audit trail that are not a person of the village (see store.models.TicketEvent).
NOT_STAFF_ACTORS: frozenset[str] = frozenset({"system", "reporter", "other", "unknown"})

_MAX_SCAN_DAYS = 3660  # as in workdays.py: a bound against a calendar with no working day


@dataclass(frozen=True)
class StatusChange:
    """One change of status: when, to what, whether a person of the village made it, and
    whether the resident was told (the first staff change the resident is told of is the
    first response)."""

    at: datetime
    to_status: Status
    by_staff: bool
    public: bool = True


@dataclass(frozen=True)
class Timeline:
    """What the clock reads of one ticket. `initial_status` is the status intake gave it
    (perlu_data when data was missing); `staff_messages` are the times of staff messages
    the resident received without a status change."""

    number: str
    received_at: datetime
    initial_status: Status = Status.DITERIMA
    priority: Priority = Priority.SEDANG
    changes: tuple[StatusChange, ...] = ()
    staff_messages: tuple[datetime, ...] = ()

    @property
    def status(self) -> Status:
        """The current status: the last change's, or the initial one."""
        ordered = sorted(self.changes, key=lambda c: c.at)
        return ordered[-1].to_status if ordered else self.initial_status


@dataclass(frozen=True)
class Targets:
    """Working days to the first response: the promise, and shorter targets per priority."""

    promise: int = 7
    by_priority: Mapping[Priority, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.promise < 1:
            raise ValueError(f"the promise must be at least 1 working day (got {self.promise})")
        for priority, days in self.by_priority.items():
            if not 1 <= days <= self.promise:
                raise ValueError(f"target for {priority.value}: {days} working days; give 1 to "
                                 f"{self.promise} (a target is never longer than the promise)")

    def days_for(self, priority: Priority) -> int:
        return self.by_priority.get(priority, self.promise)


def targets_from(promise: int, configured: Mapping[str, int]) -> Targets:
    """Targets from configuration words (`{darurat = 1, tinggi = 3}`); ValueError names the
    word or value at fault and what is allowed."""
    by_priority: dict[Priority, int] = {}
    for word, days in configured.items():
        try:
            priority = Priority(word.strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in Priority)
            raise ValueError(f"unknown priority {word!r} in targets (use {allowed})") from None
        by_priority[priority] = days
    return Targets(promise, by_priority)


# -- working-day arithmetic ---------------------------------------------------------------

def workdays_between(calendar: WorkCalendar, start: date, end: date) -> int:
    """Working days from day `start` (day 0, never counted) to something on day `end`.

    The working days in (start, end], plus one when `end` is not a working day (it counts
    as the next working day); 0 when `end` is not after `start`. It is the smallest n with
    `calendar.add_workdays(start, n) >= end`, so `end <= due` exactly when this is <= days.
    """
    if end <= start:
        return 0
    if (end - start).days > _MAX_SCAN_DAYS:
        raise ValueError(f"{start} to {end}: more than {_MAX_SCAN_DAYS} days apart")
    count = calendar.workdays_in(start, end)
    return count if calendar.is_workday(end) else count + 1


def workdays_before(calendar: WorkCalendar, day: date, count: int) -> date:
    """The `count`-th working day before `day` (`day` itself for 0)."""
    if count < 0:
        raise ValueError(f"count must be 0 or more (got {count})")
    found = 0
    for _ in range(_MAX_SCAN_DAYS):
        if found == count:
            return day
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            found += 1
    raise ValueError(f"no {count} working days within {_MAX_SCAN_DAYS} days before {day}")


def _add(calendar: WorkCalendar, start: date, count: int) -> date:
    return start if count == 0 else calendar.add_workdays(start, count)


# -- reading the timeline -----------------------------------------------------------------

def pauses(timeline: Timeline) -> list[tuple[datetime, datetime | None]]:
    """The spans spent in perlu_data: (entered, left), `left` None while still waiting."""
    spans: list[tuple[datetime, datetime | None]] = []
    since = timeline.received_at if timeline.initial_status is Status.PERLU_DATA else None
    for change in sorted(timeline.changes, key=lambda c: c.at):
        if change.to_status is Status.PERLU_DATA and since is None:
            since = change.at
        elif change.to_status is not Status.PERLU_DATA and since is not None:
            spans.append((since, change.at))
            since = None
    if since is not None:
        spans.append((since, None))
    return spans


def paused_workdays(timeline: Timeline, calendar: WorkCalendar, until: date) -> int:
    """Working days the clock stood still up to day `until`: for each pause, the working
    days in (day it began, day it ended or `until`]."""
    total = 0
    for began, ended in pauses(timeline):
        first = calendar.local_day(began)
        last = min(calendar.local_day(ended), until) if ended is not None else until
        total += calendar.workdays_in(first, last)
    return total


def first_response(timeline: Timeline) -> datetime | None:
    """The first public message from staff after receipt, or None."""
    moments = [c.at for c in timeline.changes if c.by_staff and c.public]
    moments += list(timeline.staff_messages)
    moments = [m for m in moments if m >= timeline.received_at]
    return min(moments, default=None)


def resolved_at(timeline: Timeline) -> datetime | None:
    """When the ticket reached the closed status it is in now; None while it is open."""
    ordered = sorted(timeline.changes, key=lambda c: c.at)
    if not ordered or ordered[-1].to_status not in FINAL:
        return None
    closing = ordered[-1]
    for change in reversed(ordered):
        if change.to_status not in FINAL:
            break
        closing = change
    return closing.at


def effective_due(timeline: Timeline, calendar: WorkCalendar, days: int, now: datetime) -> date:
    """THE due date of the first response, `days` working days after receipt, moved by the
    pauses (perlu_data) up to the first response, or up to `now` while unanswered.

    Due dates shown to residents and staff, reminders, escalation and reports all take the
    date from here. With no pause it equals `WorkCalendar.due_date` for `days` = the promise.
    """
    answered = first_response(timeline)
    until = calendar.local_day(answered if answered is not None else now)
    day0 = calendar.local_day(timeline.received_at)
    return _add(calendar, day0, days + paused_workdays(timeline, calendar, until))


def due_on_resuming(timeline: Timeline, calendar: WorkCalendar, days: int, now: datetime) -> date:
    """The due date when the ticket leaves perlu_data at `now` (its data complete): the pause
    ends now, and the date moves by the working days it lasted (unless staff had answered
    before, which stopped the clock for the response already). The ticket's stored due date
    and the date the reporter is told."""
    resumed = replace(timeline, changes=(*timeline.changes,
                                         StatusChange(now, Status.DITERIMA, by_staff=False)))
    return effective_due(resumed, calendar, days, now)


def working_days_to(timeline: Timeline, calendar: WorkCalendar, moment: datetime) -> int:
    """Working days from receipt to `moment`, the days paused in perlu_data left out."""
    day0 = calendar.local_day(timeline.received_at)
    day = calendar.local_day(moment)
    return workdays_between(calendar, day0, day) - paused_workdays(timeline, calendar, day)


# -- the verdict --------------------------------------------------------------------------

@dataclass(frozen=True)
class PromiseResult:
    """How one ticket stands against the promise at `now` (plain data for plans and reports).

    `responded_in_time` / `within_target`: True or False once decided, None while the
    ticket is unanswered and its date has not passed. `overdue_days`: working days past
    `due` of an open, unanswered, unpaused ticket, else 0.
    """

    number: str
    status: Status
    priority: Priority
    due: date
    promise_due: date
    target_days: int
    responded_at: datetime | None
    response_days: int | None
    responded_in_time: bool | None
    within_target: bool | None
    resolved_at: datetime | None
    resolution_days: int | None
    paused: bool
    paused_days: int
    overdue_days: int

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL

    @property
    def answered(self) -> bool:
        return self.responded_at is not None


def _verdict(done: datetime | None, due: date, today: date, calendar: WorkCalendar) -> bool | None:
    if done is not None:
        return calendar.local_day(done) <= due
    return False if today > due else None


def kept(timeline: Timeline, calendar: WorkCalendar, targets: Targets, now: datetime) -> PromiseResult:
    """The promise and the target for one ticket at `now`."""
    today = calendar.local_day(now)
    answered = first_response(timeline)
    closed = resolved_at(timeline)
    days = targets.days_for(timeline.priority)
    due = effective_due(timeline, calendar, days, now)
    promise_due = effective_due(timeline, calendar, targets.promise, now)
    status = timeline.status
    paused = status is Status.PERLU_DATA
    overdue = 0
    if answered is None and status not in FINAL and not paused and today > due:
        overdue = workdays_between(calendar, due, today)
    return PromiseResult(
        number=timeline.number, status=status, priority=timeline.priority, due=due,
        promise_due=promise_due, target_days=days, responded_at=answered,
        response_days=None if answered is None else working_days_to(timeline, calendar, answered),
        responded_in_time=_verdict(answered, promise_due, today, calendar),
        within_target=_verdict(answered, due, today, calendar),
        resolved_at=closed,
        resolution_days=None if closed is None else working_days_to(timeline, calendar, closed),
        paused=paused, paused_days=paused_workdays(timeline, calendar, today),
        overdue_days=overdue,
    )


# -- from the audit trail -----------------------------------------------------------------

@dataclass(frozen=True)
class EventFact:
    """One row of the audit trail as the clock reads it (store.models.TicketEvent)."""

    kind: EventKind
    at: datetime
    actor: str
    to_status: Status | None = None


def is_staff_actor(actor: str) -> bool:
    """A person of the village: a staff address, or an operator at the CLI ("os:...")."""
    return bool(actor) and actor not in NOT_STAFF_ACTORS


def timeline_from_events(number: str, received_at: datetime, priority: Priority,
                         events: Iterable[EventFact]) -> Timeline:
    """A ticket's timeline from its audit trail: the CREATED event gives the initial status,
    STATUS events the changes, staff MESSAGE events the messages (internal notes are not)."""
    initial = Status.DITERIMA
    changes: list[StatusChange] = []
    messages: list[datetime] = []
    for event in sorted(events, key=lambda e: e.at):
        if event.kind is EventKind.CREATED and event.to_status is not None:
            initial = event.to_status
        elif event.kind is EventKind.STATUS and event.to_status is not None:
            changes.append(StatusChange(event.at, event.to_status, is_staff_actor(event.actor)))
        elif event.kind is EventKind.MESSAGE and is_staff_actor(event.actor):
            messages.append(event.at)
    return Timeline(number, received_at, initial, priority, tuple(changes), tuple(messages))
