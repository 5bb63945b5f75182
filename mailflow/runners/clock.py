"""The clock job: reminders, escalations and daily digests, each made once (core/reminders.py).

`due(now)` reads the open tickets and their timelines from the store and asks the pure
planner what is due; its keys are the plan's idempotency keys, so the runner
(runners/schedule.py) makes each item once across restarts, downtime and a second
instance. `run` queues the item's mail in the runner's transaction. Before the day's
first hour (or on a day off) `due` reads nothing, so the job costs nothing at most polls.

Every subject goes through the redactor staff notifications use for readers without
identity rights (core/privacy `redactor_for(...).subject`), whoever reads the mail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from mailflow.compose.mime import Composer, composer_for
from mailflow.config import Config
from mailflow.core.clock_mail import digest_mail, escalation_mail, reminder_mail
from mailflow.core.first_start import promise
from mailflow.core.notices import Outgoing
from mailflow.core.privacy import redactor_for
from mailflow.core.promise import EventFact, Targets, Timeline, targets_from, timeline_from_events
from mailflow.core.reminders import (
    ClockRules,
    Digest,
    Escalation,
    PlanItem,
    Redacted,
    Reminder,
    Watched,
    plan_clock,
    sending_day,
)
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.runners.schedule import NothingDue, job_name
from mailflow.store.clock_queries import open_tickets_with_events, tickets_with_reporters
from mailflow.store.db import Engine, Session
from mailflow.store.models import OutboxMessage, Ticket, TicketEvent
from mailflow.vocabulary import Priority

log = logging.getLogger(__name__)


def rules_for(cfg: Config) -> ClockRules:
    return ClockRules(days_before=tuple(cfg.reminders.days_before), hour=cfg.reminders.hour,
                      digest_hour=cfg.digest.hour,
                      skip_non_working_days=cfg.reminders.skip_non_working_days)


def targets_for(cfg: Config) -> Targets:
    """The configured targets; a default target longer than a short promise is the promise."""
    promise_days = cfg.calendar.working_days
    return targets_from(promise_days, {word: min(days, promise_days)
                                       for word, days in cfg.promise.targets.items()})


class Clocked(Protocol):
    """What the clock needs of a ticket (a row, or the clock's own read of it)."""

    @property
    def number(self) -> str: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def created_at(self) -> datetime: ...


def event_facts(events: Iterable[TicketEvent]) -> list[EventFact]:
    return [EventFact(e.kind, e.at, e.actor, e.to_status) for e in events]


def timeline_of(ticket: Clocked, events: Iterable[EventFact], calendar: WorkCalendar) -> Timeline:
    """A ticket's timeline from its audit trail. The clock starts at receipt, or when mailflow
    recorded a complaint taken too late to keep the date from receipt (core/first_start.py:
    that is the date the reporter was told)."""
    start = promise(ticket.received_at, ticket.created_at, calendar).recorded or ticket.received_at
    return timeline_from_events(ticket.number, start, ticket.priority, events)


class ClockJob:
    """The job "clock" (runners/schedule.py `job_name`: one per village) over the tickets of
    the configuration's village only; `bind` gives it the service's engine (Schedule calls it)."""

    name = "clock"  # the job alone; an instance's is its village's (job_name)

    def __init__(self, cfg: Config, composer: Composer | None = None,
                 calendar: WorkCalendar | None = None, engine: Engine | None = None) -> None:
        self.name = job_name(type(self).name, cfg)
        self.cfg = cfg
        self.composer = composer or composer_for(cfg)
        self.calendar = calendar or calendar_for(cfg.calendar)
        self.rules = rules_for(cfg)
        self.targets = targets_for(cfg)
        self.engine = engine
        self._plan: dict[str, PlanItem] = {}

    def bind(self, engine: Engine) -> None:
        self.engine = engine

    def _may_send(self, now: datetime) -> bool:
        work = self.cfg.reminders.enabled and sending_day(
            self.calendar, now, self.rules.hour, self.rules.skip_non_working_days) is not None
        digest = self.cfg.digest.enabled and sending_day(
            self.calendar, now, self.rules.digest_hour, working_only=True) is not None
        return work or digest

    def due(self, now: datetime) -> Iterable[str]:
        self._plan = {}
        if self.engine is None or not self._may_send(now):
            return []
        with Session(self.engine) as session:
            rows = open_tickets_with_events(session, self.cfg.scope)
        watched = [Watched(timeline_of(row, row.events, self.calendar), row.assignee) for row in rows]
        plan = plan_clock(watched, self.cfg.staff, self.calendar, self.targets, self.rules, now)
        if not self.cfg.digest.enabled:
            plan = replace(plan, digests=())
        if not self.cfg.reminders.enabled:
            plan = replace(plan, reminders=(), escalations=())
        self._plan = plan.by_key()
        return list(self._plan)

    def run(self, session: Session, key: str, now: datetime) -> str:
        item = self._plan.get(key)
        if item is None:
            raise NothingDue
        numbers = [line.number for line in item.lines] if isinstance(item, Digest) else [item.number]
        tickets, subjects = self._read(session, numbers)
        outgoing = self._mail(item, subjects, now)
        ticket = None if isinstance(item, Digest) else tickets.get(item.number)
        for mail in outgoing:
            self._queue(session, ticket, mail, now)
        kind = type(item).__name__.lower()
        return f"{kind} mails={len(outgoing)}"

    def _mail(self, item: PlanItem, subjects: dict[str, Redacted], now: datetime) -> list[Outgoing]:
        if isinstance(item, Reminder):
            subject = subjects.get(item.number)
            return [reminder_mail(self.cfg, self.calendar, item, to, subject, now) for to in item.to]
        if isinstance(item, Escalation):
            return [escalation_mail(self.cfg, item, to, subjects.get(item.number)) for to in item.to]
        return [digest_mail(self.cfg, item, subjects)]

    def _read(self, session: Session, numbers: Sequence[str]
              ) -> tuple[dict[str, Ticket], dict[str, Redacted]]:
        """The tickets by number and their subjects, redacted for a reader without identity
        rights (the reporter's identity hidden wherever it recurs)."""
        tickets: dict[str, Ticket] = {}
        subjects: dict[str, Redacted] = {}
        for ticket, reporter in tickets_with_reporters(session, self.cfg.scope, numbers):
            identity = reporter.identity() if reporter is not None else None
            tickets[ticket.number] = ticket
            subjects[ticket.number] = Redacted(redactor_for(self.cfg, identity).subject(ticket.subject))
        return tickets, subjects

    def _queue(self, session: Session, ticket: Ticket | None, mail: Outgoing, now: datetime) -> None:
        composed = self.composer.compose(mail, ticket.number if ticket else None, now)
        session.add(OutboxMessage(ticket_id=ticket.id if ticket else None, kind=mail.kind,
                                  message_id=composed.message_id, recipient=composed.recipient,
                                  raw=composed.raw, next_attempt_at=now, created_at=now,
                                  scope=self.cfg.scope))
