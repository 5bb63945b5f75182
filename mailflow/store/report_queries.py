"""What the monthly report and the CSV export read: tickets with the events of their timeline.

Two queries whatever the number of tickets, as in clock_queries.py: the tickets received
before `before` that were received on or after `since` or are still open, then their
CREATED, STATUS and MESSAGE events through a join on the same condition. Plain columns only
(no subject, description or identity: a report carries none of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from mailflow.core.promise import EventFact
from mailflow.core.workflow import OPEN
from mailflow.store.box_queries import openings_of
from mailflow.store.clock_queries import timeline_events
from mailflow.store.models import MailboxState, SuggestionBoxOpening, Ticket
from mailflow.store.scope import tickets_of
from mailflow.vocabulary import Channel, Priority, Status

# Tickets read at most for one report (a village receives tens a month, not thousands).
REPORT_LIMIT = 50000


@dataclass(frozen=True)
class ReportRow:
    """What the report reads of one ticket: plain values, no text columns."""

    id: int
    number: str
    channel: Channel
    status: Status
    priority: Priority
    received_at: datetime
    created_at: datetime
    due_date: date  # as stored: the date the reporter was told
    events: tuple[EventFact, ...]
    kind: str | None = None  # a suggestion-box entry's kind (saran, kritik, ...)


def tickets_for_report(session: Session, scope: str, since: datetime | None, before: datetime,
                       limit: int = REPORT_LIMIT) -> list[ReportRow]:
    """The village `scope`'s tickets received before `before` and either on or after `since`
    (every one when `since` is None) or not closed now, oldest first, each with its
    timeline's events."""
    wanted = tickets_of(scope) & (col(Ticket.received_at) < before)
    if since is not None:
        wanted = wanted & or_(col(Ticket.received_at) >= since,
                              col(Ticket.status).in_([s.value for s in OPEN]))
    columns = (col(Ticket.id), col(Ticket.number), col(Ticket.channel), col(Ticket.status),
               col(Ticket.priority), col(Ticket.received_at), col(Ticket.created_at),
               col(Ticket.due_date), col(Ticket.kind))
    tickets = session.execute(
        sa_select(*columns).where(wanted).order_by(col(Ticket.id)).limit(limit)).all()
    if not tickets:
        return []
    by_ticket = timeline_events(session, wanted, tickets[-1][0])
    return [ReportRow(ticket_id, number, channel, status, priority, received, created, due,
                      tuple(by_ticket.get(ticket_id, ())), kind)
            for ticket_id, number, channel, status, priority, received, created, due, kind
            in tickets]


def openings_between(session: Session, scope: str, since: datetime, before: datetime) -> int:
    """How many times the village's suggestion box was opened in [since, before)."""
    query = sa_select(func.count()).select_from(SuggestionBoxOpening).where(
        openings_of(scope), col(SuggestionBoxOpening.opened_at) >= since,
        col(SuggestionBoxOpening.opened_at) < before)
    return int(session.execute(query).scalar_one())


def first_seen(session: Session, mailbox: str) -> datetime | None:
    """When mailflow first read this mailbox (None: never, or a database from before 0005)."""
    query = sa_select(col(MailboxState.first_seen_at)).where(col(MailboxState.mailbox) == mailbox)
    found: datetime | None = session.execute(query).scalar_one_or_none()
    return found
