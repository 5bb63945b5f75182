"""What one village's staff list of the tickets: `mailflow tickets` (and the demo's).

Limited to the tickets of one village (store/scope.py `tickets_of`), so that a database
holding several villages never lists one village's tickets to another's staff. The
listing needs the reporter only to know what to hide in the subject: one join instead of a
query per ticket, and no list of ids bound as SQL variables.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailflow.core.workflow import FINAL
from mailflow.store.models import Reporter, Ticket
from mailflow.store.scope import tickets_of
from mailflow.vocabulary import Status


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
