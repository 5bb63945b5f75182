"""What the clock reads (runners/clock.py): open tickets with the events of their timeline.

Two queries whatever the number of tickets (no query per ticket, no list of ids bound as
SQL variables): the open tickets, then their CREATED, STATUS and MESSAGE events through a
join on the same condition. Bounded: at most `limit` tickets, the oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from mailflow.core.workflow import FINAL
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind

# The kinds core/promise.py `timeline_from_events` reads.
TIMELINE_KINDS = (EventKind.CREATED, EventKind.STATUS, EventKind.MESSAGE)

# Open tickets the clock reads at most in one pass (a village has tens, not thousands).
OPEN_LIMIT = 5000


@dataclass(frozen=True)
class OpenTicket:
    ticket: Ticket
    events: tuple[TicketEvent, ...]


def open_tickets_with_events(session: Session, limit: int = OPEN_LIMIT) -> list[OpenTicket]:
    """The open tickets (oldest first, at most `limit`), each with its timeline's events."""
    open_ = col(Ticket.status).not_in(list(FINAL))
    tickets = session.exec(select(Ticket).where(open_).order_by(col(Ticket.id)).limit(limit)).all()
    if not tickets:
        return []
    last_id = tickets[-1].id
    query = (select(TicketEvent).join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
             .where(open_, col(Ticket.id) <= last_id,
                    col(TicketEvent.kind).in_([k.value for k in TIMELINE_KINDS]))
             .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id)))
    by_ticket: dict[int, list[TicketEvent]] = {}
    for event in session.exec(query).all():
        by_ticket.setdefault(event.ticket_id, []).append(event)
    return [OpenTicket(t, tuple(by_ticket.get(t.id or 0, ()))) for t in tickets]


def tickets_with_reporters(session: Session, numbers: Sequence[str]
                           ) -> list[tuple[Ticket, Reporter | None]]:
    """The tickets of these numbers with their reporters (what a redactor needs), in one
    query per at most 500 numbers."""
    found: list[tuple[Ticket, Reporter | None]] = []
    wanted = list(dict.fromkeys(numbers))
    for start in range(0, len(wanted), 500):
        query = (select(Ticket, Reporter)
                 .join(Reporter, col(Reporter.ticket_id) == Ticket.id, isouter=True)
                 .where(col(Ticket.number).in_(wanted[start:start + 500])))
        found += [(ticket, reporter) for ticket, reporter in session.exec(query).all()]
    return found
