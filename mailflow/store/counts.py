"""Counts for the metrics (mailflow/metrics.py): numbers only, never a row's content.

The whole database's (a single village's), or by village: a ticket's village is the prefix of
its number, kept in its `scope` column (store/scope.py), grouped by the database itself so
that a regency's hundreds of villages cost one grouped query, not one query each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from mailflow.core.workflow import OPEN
from mailflow.store.models import OutboxMessage, Ticket
from mailflow.vocabulary import OutboxState, Status


def tickets_by_status(session: Session) -> dict[Status, int]:
    query = select(Ticket.status, func.count()).group_by(col(Ticket.status))
    return {Status(status): count for status, count in session.exec(query).all()}


# May be overdue: open and not waiting for the reporter's data (the clock stands still then,
# core/promise.py). By IN, as core/workflow.py OPEN says why.
_MAY_BE_LATE = [status for status in OPEN if status is not Status.PERLU_DATA]


def overdue_tickets(session: Session, today: date) -> int:
    """Open tickets (neither selesai nor ditolak) whose due date is before `today`, those
    waiting for the reporter's data left out."""
    query = (select(func.count()).select_from(Ticket)
             .where(col(Ticket.due_date) < today, col(Ticket.status).in_(_MAY_BE_LATE)))
    return session.exec(query).one()


def tickets_by_village(session: Session) -> dict[tuple[str, Status], int]:
    """Tickets per (village prefix, status): an index-only walk of (status, scope)."""
    query = (sa_select(col(Ticket.scope), col(Ticket.status), func.count())
             .group_by(col(Ticket.scope), col(Ticket.status)))
    return {(village, Status(status)): count
            for village, status, count in session.execute(query).all()}


def overdue_by_village(session: Session, today: Mapping[str, date], default: date
                       ) -> dict[str, int]:
    """Overdue tickets (as `overdue_tickets`) per village prefix, each against its own day
    (`today[prefix]`, else `default`: villages of one regency may keep different zones)."""
    latest = max([default, *today.values()])
    query = (sa_select(col(Ticket.scope), col(Ticket.due_date), func.count())
             .where(col(Ticket.due_date) < latest, col(Ticket.status).in_(_MAY_BE_LATE))
             .group_by(col(Ticket.scope), col(Ticket.due_date)))
    found: dict[str, int] = {}
    for village, due, count in session.execute(query).all():
        if due < today.get(village, default):
            found[village] = found.get(village, 0) + count
    return found


def outbox_by_state(session: Session) -> dict[OutboxState, int]:
    query = select(OutboxMessage.state, func.count()).group_by(col(OutboxMessage.state))
    return {OutboxState(state): count for state, count in session.exec(query).all()}


def oldest_pending_outbox(session: Session) -> datetime | None:
    """When the oldest message still waiting to be sent was queued."""
    query = select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state == OutboxState.PENDING)
    return session.exec(query).one()
