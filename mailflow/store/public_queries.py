"""What `mailflow publish` reads: every ticket with its timeline and its #publik texts.

Three queries whatever the number of tickets: the tickets (plain columns, never the subject
or the description: the page never shows them), their timeline events and #publik notes
(EventKind.PUBLIC) through one join, and the reporters, read only so that the caller can
scrub the public texts of the reporter's identity once more (core/privacy.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from mailflow.core.identity import Identity
from mailflow.core.promise import EventFact
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.store.scope import tickets_of
from mailflow.vocabulary import Channel, EventKind, Priority

# The kinds core/promise.py `timeline_from_events` reads, and the #publik texts.
_KINDS = (EventKind.CREATED, EventKind.STATUS, EventKind.MESSAGE, EventKind.PUBLIC)

# Tickets published at most (a village has hundreds a year, not this many).
PUBLISH_LIMIT = 50000


@dataclass(frozen=True)
class PublishedTicket:
    """One ticket as publish reads it: plain values, the events, the public notes."""

    number: str
    channel: Channel
    priority: Priority
    received_at: datetime
    created_at: datetime
    events: tuple[EventFact, ...]
    public_notes: tuple[str, ...]
    reporter: Identity | None


def tickets_for_publishing(session: Session, scope: str, limit: int = PUBLISH_LIMIT
                           ) -> list[PublishedTicket]:
    """Every ticket of the village `scope` (the oldest first, at most `limit`) with what the
    public page needs; the events and reporters through a join on the same condition."""
    mine = tickets_of(scope)
    columns = (col(Ticket.id), col(Ticket.number), col(Ticket.channel), col(Ticket.priority),
               col(Ticket.received_at), col(Ticket.created_at))
    tickets = session.execute(
        sa_select(*columns).where(mine).order_by(col(Ticket.id)).limit(limit)).all()
    if not tickets:
        return []
    last_id = tickets[-1][0]
    query = (sa_select(col(TicketEvent.ticket_id), col(TicketEvent.kind), col(TicketEvent.at),
                       col(TicketEvent.actor), col(TicketEvent.to_status), col(TicketEvent.note))
             .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
             .where(mine, col(TicketEvent.ticket_id) <= last_id,
                    col(TicketEvent.kind).in_([k.value for k in _KINDS]))
             .order_by(col(TicketEvent.ticket_id), col(TicketEvent.at), col(TicketEvent.id)))
    events: dict[int, list[EventFact]] = {}
    notes: dict[int, list[str]] = {}
    for ticket_id, kind, at, actor, to_status, note in session.execute(query).all():
        if kind is EventKind.PUBLIC:
            notes.setdefault(ticket_id, []).append(note)
        else:
            events.setdefault(ticket_id, []).append(EventFact(kind, at, actor, to_status))
    reporters = {r.ticket_id: r.identity() for r in session.exec(
        select(Reporter).join(Ticket, col(Ticket.id) == Reporter.ticket_id)
        .where(mine, col(Reporter.ticket_id) <= last_id)).all()}
    return [PublishedTicket(number, channel, priority, received, created,
                            tuple(events.get(ticket_id, ())), tuple(notes.get(ticket_id, ())),
                            reporters.get(ticket_id))
            for ticket_id, number, channel, priority, received, created in tickets]
