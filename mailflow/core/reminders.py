"""What the clock asks for at a moment: reminders, escalations and daily digests, as a plan.

Pure: tickets (their `Timeline`s), the staff list, the calendar and "now" in; a `ClockPlan`
out, whose every item carries a stable idempotency key. A runner job (runners/schedule.py)
offers the keys as its due runs and makes each item once under its key, so an item is made
once across restarts, crashes and a second instance; the planner itself keeps no state.

The rules
  * **When.** Work goes out at the configured local hour (`hour` for reminders and
    escalations, `digest_hour` for digests). With `skip_non_working_days`, nothing goes out
    on a weekend, holiday or cuti bersama day: it waits for the next working day.
    Digests go out on working days only, whatever that setting.
  * **Reminders** go to the assigned officer, or to the verifiers while nobody is
    assigned, at each of `days_before` working days before the ticket's due date (its
    per-priority target, promise.effective_due), for an open ticket nobody has answered
    and that is not waiting for the reporter's data. Catch-up: a reminder whose day passed
    while mailflow was down is planned when it returns, unless a later stage has come due
    since (then only the latest is planned: two reminders at once say nothing more) or the
    due date itself has passed (escalation takes over). A stage that falls on or before
    the day of receipt is skipped: the new-ticket notice has just said it all.
    Key `reminder:<number>:<due>:-<days before>`: when the due date moves (a pause for
    data, a new priority), reminders for the new date are new items.
  * **Escalation**: an open ticket still unanswered after its due date goes once to the
    village head (role kepala_desa; the verifiers when no head is configured), key
    `escalation:<number>`; from then on it is listed in the head's digest until answered.
  * **Digests**, key `digest:<address>:<day>`, one per staff member with something to
    read (an empty digest is not sent): the open tickets assigned to them, for
    verifiers also the unassigned ones, for the head also every overdue unanswered one.
    Overdue first, then by priority (darurat first), then due date. Only today's digest
    is planned: yesterday's, missed while mailflow was down, is stale.
  * **Identity**: a digest line holds the ticket number, status, priority, due date,
    overdue days, whether it waits for data or was answered, and a subject only when the
    caller passed one through the redactor (`Redacted`). No name, NIK, address, phone or
    email of a reporter can reach a plan: no field carries one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NewType

from mailflow.config import StaffMember
from mailflow.core.promise import PromiseResult, Targets, Timeline, kept, workdays_before
from mailflow.core.workdays import WorkCalendar
from mailflow.core.workflow import FINAL
from mailflow.vocabulary import Priority, Role, Status

# Text that went through mailflow.core.privacy's Redactor (e.g. `Redactor.subject`). The
# type says so at the call: `Redacted(redactor.subject(ticket.subject))`.
Redacted = NewType("Redacted", str)

_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}  # rendah .. darurat


@dataclass(frozen=True)
class ClockRules:
    """When reminders, escalations and digests go out ([reminders] and [digest] config)."""

    days_before: tuple[int, ...] = (2, 0)
    hour: int = 8
    digest_hour: int = 7
    skip_non_working_days: bool = True

    def __post_init__(self) -> None:
        if any(days < 0 for days in self.days_before):
            raise ValueError(f"days_before: working days before the due date, 0 or more "
                             f"(got {list(self.days_before)})")
        for name in ("hour", "digest_hour"):
            if not 0 <= getattr(self, name) <= 23:
                raise ValueError(f"{name}: a local hour from 0 to 23 (got {getattr(self, name)})")


@dataclass(frozen=True)
class Watched:
    """An open ticket as the planner reads it; `subject` only if already redacted."""

    timeline: Timeline
    assignee: str | None = None
    subject: Redacted | None = None


@dataclass(frozen=True)
class Reminder:
    key: str
    number: str
    to: tuple[str, ...]
    due: date
    days_before: int
    priority: Priority
    status: Status


@dataclass(frozen=True)
class Escalation:
    key: str
    number: str
    to: tuple[str, ...]
    due: date
    overdue_days: int
    priority: Priority
    status: Status
    assignee: str | None


@dataclass(frozen=True)
class DigestLine:
    number: str
    status: Status
    priority: Priority
    due: date
    overdue_days: int
    paused: bool
    answered: bool
    subject: Redacted | None


@dataclass(frozen=True)
class Digest:
    key: str
    to: str
    day: date
    lines: tuple[DigestLine, ...]


PlanItem = Reminder | Escalation | Digest


@dataclass(frozen=True)
class ClockPlan:
    reminders: tuple[Reminder, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    digests: tuple[Digest, ...] = ()

    def by_key(self) -> dict[str, PlanItem]:
        """Every item under its idempotency key (a runner job's run keys)."""
        items: list[PlanItem] = [*self.reminders, *self.escalations, *self.digests]
        return {item.key: item for item in items}


# -- when ---------------------------------------------------------------------------------

def sending_day(calendar: WorkCalendar, now: datetime, hour: int, working_only: bool) -> date | None:
    """Today (local) when work may go out at `now`, else None."""
    local = now.astimezone(calendar.zone)
    today = local.date()
    if local.hour < hour or (working_only and not calendar.is_workday(today)):
        return None
    return today


# -- what ---------------------------------------------------------------------------------

def _addresses(staff: Sequence[StaffMember], role: Role) -> tuple[str, ...]:
    return tuple(sorted({m.address for m in staff if m.has(role)}))


def _officers(ticket: Watched, staff: Sequence[StaffMember]) -> tuple[str, ...]:
    """The assigned officer when configured staff, else the verifiers."""
    assignee = (ticket.assignee or "").lower()
    if assignee and any(m.address == assignee for m in staff):
        return (assignee,)
    return _addresses(staff, Role.VERIFIKATOR)


def _reminder(ticket: Watched, result: PromiseResult, staff: Sequence[StaffMember],
              calendar: WorkCalendar, rules: ClockRules, today: date) -> Reminder | None:
    """The latest reminder stage come due by `today`, if any (see the module's rules)."""
    if result.answered or result.paused or not result.is_open or today > result.due:
        return None
    received = calendar.local_day(ticket.timeline.received_at)
    stages = [(workdays_before(calendar, result.due, k), k) for k in set(rules.days_before)]
    come = [(day, k) for day, k in stages if received < day <= today]
    if not come:
        return None
    _, days = max(come)
    return Reminder(key=f"reminder:{result.number}:{result.due.isoformat()}:-{days}",
                    number=result.number, to=_officers(ticket, staff), due=result.due,
                    days_before=days, priority=result.priority, status=result.status)


def _escalation(ticket: Watched, result: PromiseResult,
                staff: Sequence[StaffMember]) -> Escalation | None:
    if result.overdue_days <= 0:
        return None
    heads = _addresses(staff, Role.KEPALA_DESA) or _addresses(staff, Role.VERIFIKATOR)
    return Escalation(key=f"escalation:{result.number}", number=result.number, to=heads,
                      due=result.due, overdue_days=result.overdue_days,
                      priority=result.priority, status=result.status,
                      assignee=ticket.assignee)


def _line(ticket: Watched, result: PromiseResult) -> DigestLine:
    return DigestLine(number=result.number, status=result.status, priority=result.priority,
                      due=result.due, overdue_days=result.overdue_days, paused=result.paused,
                      answered=result.answered, subject=ticket.subject)


def digest_order(line: DigestLine) -> tuple[bool, int, date, str]:
    """Overdue first, then darurat before tinggi before sedang before rendah, then due date."""
    return (line.overdue_days <= 0, -_PRIORITY_RANK[line.priority], line.due, line.number)


def _reads(member: StaffMember, ticket: Watched, result: PromiseResult) -> bool:
    """Whether a ticket belongs in this member's digest."""
    assignee = (ticket.assignee or "").lower()
    if assignee == member.address:
        return True
    if not assignee and member.has(Role.VERIFIKATOR):
        return True
    return member.has(Role.KEPALA_DESA) and result.overdue_days > 0


def plan_digests(watched: Sequence[tuple[Watched, PromiseResult]],
                 staff: Sequence[StaffMember], day: date) -> tuple[Digest, ...]:
    """One digest per staff member with open tickets to read on `day`."""
    digests: list[Digest] = []
    for member in sorted(staff, key=lambda m: m.address):
        lines = sorted((_line(t, r) for t, r in watched if _reads(member, t, r)), key=digest_order)
        if lines:
            digests.append(Digest(key=f"digest:{member.address}:{day.isoformat()}",
                                  to=member.address, day=day, lines=tuple(lines)))
    return tuple(digests)


def plan_clock(tickets: Sequence[Watched], staff: Sequence[StaffMember], calendar: WorkCalendar,
               targets: Targets, rules: ClockRules, now: datetime) -> ClockPlan:
    """Everything due at `now`, done or not: the runner skips the keys already made."""
    open_ones = [t for t in tickets if t.timeline.status not in FINAL]
    watched = [(t, kept(t.timeline, calendar, targets, now)) for t in open_ones]
    reminders: list[Reminder] = []
    escalations: list[Escalation] = []
    today = sending_day(calendar, now, rules.hour, rules.skip_non_working_days)
    if today is not None:
        for ticket, result in watched:
            reminder = _reminder(ticket, result, staff, calendar, rules, today)
            escalation = _escalation(ticket, result, staff)
            reminders += [reminder] if reminder else []
            escalations += [escalation] if escalation else []
    digest_day = sending_day(calendar, now, rules.digest_hour, working_only=True)
    digests = plan_digests(watched, staff, digest_day) if digest_day is not None else ()
    return ClockPlan(tuple(reminders), tuple(escalations), digests)

