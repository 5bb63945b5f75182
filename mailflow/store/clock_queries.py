"""What the clock reads (runners/clock.py): open tickets with the events of their timeline.

The clock reads them at every poll after the day's sending hour, so both reads go by what is
open, never by the village's history: the open tickets through the status index (IN the open
statuses; NOT IN the final ones read every ticket ever made, 0.35 s a poll over 100,000, and
in a regency's shared database every village's), then their CREATED, STATUS and MESSAGE
events by ticket id, IN_LIMIT ids a query (a join on the tickets' condition walked the events
of every ticket up to the last open one). Plain columns: a row's text columns would cost most
of it. Bounded: at most `limit` tickets, the oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from mailflow.core.promise import EventFact
from mailflow.core.workflow import OPEN
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.store.queries import chunks
from mailflow.store.scope import tickets_of
from mailflow.vocabulary import EventKind, Priority, Status

# The events' columns the timeline reads (ticket, kind, at, actor, new status).
_Timeline = Select[int, EventKind, datetime, str, Status | None]

# The kinds core/promise.py `timeline_from_events` reads.
TIMELINE_KINDS = (EventKind.CREATED, EventKind.STATUS, EventKind.MESSAGE)

# Open tickets the clock reads at most in one pass (a village has tens, not thousands).
OPEN_LIMIT = 5000


@dataclass(frozen=True)
class OpenTicket:
    """What the clock reads of one open ticket: plain values, not a row (no text columns)."""

    id: int
    number: str
    status: Status
    priority: Priority
    assignee: str | None
    received_at: datetime
    created_at: datetime
    events: tuple[EventFact, ...]


def open_tickets_with_events(session: Session, scope: str, limit: int = OPEN_LIMIT
                             ) -> list[OpenTicket]:
    """The village `scope`'s open tickets (oldest first, at most `limit`), each with its
    timeline's events."""
    open_ = tickets_of(scope) & col(Ticket.status).in_([s.value for s in OPEN])
    columns = (col(Ticket.id), col(Ticket.number), col(Ticket.status), col(Ticket.priority),
               col(Ticket.assignee), col(Ticket.received_at), col(Ticket.created_at))
    tickets = session.execute(
        sa_select(*columns).where(open_).order_by(col(Ticket.id)).limit(limit)).all()
    by_ticket = events_of_tickets(session, [row[0] for row in tickets])
    return [OpenTicket(ticket_id, number, status, priority, assignee, received, created,
                       tuple(by_ticket.get(ticket_id, ())))
            for ticket_id, number, status, priority, assignee, received, created in tickets]


def events_of_tickets(session: Session, ids: Sequence[int]) -> dict[int, list[EventFact]]:
    """The timeline's events (TIMELINE_KINDS) of these tickets, by ticket id, in order."""
    by_ticket: dict[int, list[EventFact]] = {}
    for part in chunks(ids):
        _gather(session, _timeline().where(col(TicketEvent.ticket_id).in_(part)), by_ticket)
    return by_ticket


def timeline_events(session: Session, wanted: ColumnElement[bool], last_id: int
                    ) -> dict[int, list[EventFact]]:
    """The timeline's events (TIMELINE_KINDS) of the tickets matching `wanted` up to `last_id`
    (the last of a bounded ticket query), by ticket id, in order: one query, no N+1."""
    query = (_timeline().join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
             .where(wanted, col(Ticket.id) <= last_id))
    return _gather(session, query, {})


def _timeline() -> _Timeline:
    """The timeline's events as plain columns, by ticket and time; the caller says whose."""
    return (sa_select(col(TicketEvent.ticket_id), col(TicketEvent.kind), col(TicketEvent.at),
                      col(TicketEvent.actor), col(TicketEvent.to_status))
            .where(col(TicketEvent.kind).in_([k.value for k in TIMELINE_KINDS]))
            .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id)))


def _gather(session: Session, query: _Timeline, by_ticket: dict[int, list[EventFact]]
            ) -> dict[int, list[EventFact]]:
    for ticket_id, kind, at, actor, to_status in session.execute(query).all():
        by_ticket.setdefault(ticket_id, []).append(EventFact(kind, at, actor, to_status))
    return by_ticket


def tickets_with_reporters(session: Session, scope: str, numbers: Sequence[str]
                           ) -> list[tuple[Ticket, Reporter | None]]:
    """The village `scope`'s tickets of these numbers with their reporters (what a redactor
    needs), in one query per at most 500 numbers."""
    found: list[tuple[Ticket, Reporter | None]] = []
    wanted = list(dict.fromkeys(numbers))
    for start in range(0, len(wanted), 500):
        query = (select(Ticket, Reporter)
                 .join(Reporter, col(Reporter.ticket_id) == Ticket.id, isouter=True)
                 .where(tickets_of(scope), col(Ticket.number).in_(wanted[start:start + 500])))
        found += [(ticket, reporter) for ticket, reporter in session.exec(query).all()]
    return found
