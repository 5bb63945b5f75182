"""What one village's staff read of the tickets: `mailflow tickets`, `show`, the security alert.

The same reads as queries.py's `ticket_by_number`, `reporters_of_tickets` and `ticket_count`,
each limited to the tickets of one village (store/scope.py `tickets_of`), so that a database
holding several villages never shows one village's tickets to another's staff. A ticket of
another village is "no such ticket", exactly as a missing one: nothing says it exists.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailflow.core.workflow import FINAL
from mailflow.store.models import IntakeRecord, Reporter, Ticket, TicketEvent
from mailflow.store.scope import tickets_of
from mailflow.vocabulary import EventKind, IntakeOutcome, Status


def ticket_in(session: Session, scope: str, number: str) -> Ticket | None:
    """The ticket of this number when it is the village `scope`'s, else None."""
    query = select(Ticket).where(Ticket.number == number.upper(), tickets_of(scope))
    return session.exec(query).first()


def listing(session: Session, scope: str, status: str | None = None, *,
            priority: str | None = None, assignee: str | None = None,
            due_before: date | None = None) -> list[tuple[Ticket, Reporter | None]]:
    """The village's tickets in the order they were opened, each with its reporter (or None,
    read only to know what to hide): all, or those in one status, of one priority, of one
    assignee ("-": nobody), or still open with a due date before `due_before` (overdue)."""
    query = (select(Ticket, Reporter)
             .join(Reporter, col(Reporter.ticket_id) == Ticket.id, isouter=True)
             .where(tickets_of(scope)).order_by(col(Ticket.id)))
    if status:
        query = query.where(Ticket.status == status)
    if priority:
        query = query.where(Ticket.priority == priority)
    if assignee == "-":
        query = query.where(col(Ticket.assignee).is_(None))
    elif assignee:
        query = query.where(func.lower(Ticket.assignee) == assignee.lower())
    if due_before is not None:
        # Waiting for the reporter's data is never overdue: the clock stands still.
        query = query.where(col(Ticket.due_date) < due_before,
                            col(Ticket.status).not_in([*FINAL, Status.PERLU_DATA]))
    return [(ticket, reporter) for ticket, reporter in session.exec(query).all()]


def count_in(session: Session, scope: str) -> int:
    """How many tickets the village has."""
    return session.exec(select(func.count()).select_from(Ticket).where(tickets_of(scope))).one()


def security_events_in(session: Session, scope: str, since: datetime
                       ) -> list[tuple[str, TicketEvent]]:
    """The village's security events since `since`, oldest first, with their ticket's number
    (queries.py `security_events_since` for one village's alert)."""
    query = (select(Ticket.number, TicketEvent)
             .join(Ticket, col(TicketEvent.ticket_id) == Ticket.id)
             .where(TicketEvent.kind == EventKind.SECURITY, col(TicketEvent.at) >= since,
                    tickets_of(scope))
             .order_by(col(TicketEvent.at), col(TicketEvent.id)))
    return [(number, event) for number, event in session.exec(query).all()]


def refused_in(session: Session, mailbox: str, since: datetime) -> list[IntakeRecord]:
    """Messages of this mailbox refused as unproven staff actions since `since`."""
    query = (select(IntakeRecord)
             .where(IntakeRecord.decision == IntakeOutcome.REFUSED, IntakeRecord.mailbox == mailbox,
                    col(IntakeRecord.created_at) >= since)
             .order_by(col(IntakeRecord.id)))
    return list(session.exec(query).all())
