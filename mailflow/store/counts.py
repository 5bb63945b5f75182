"""Counts for the metrics (mailflow/metrics.py): numbers only, never a row's content."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailflow.store.models import OutboxMessage, Ticket
from mailflow.vocabulary import OutboxState, Status


def tickets_by_status(session: Session) -> dict[Status, int]:
    query = select(Ticket.status, func.count()).group_by(col(Ticket.status))
    return {Status(status): count for status, count in session.exec(query).all()}


def overdue_tickets(session: Session, today: date) -> int:
    """Open tickets (neither selesai nor ditolak) whose due date is before `today`, those
    waiting for the reporter's data left out (the clock stands still, core/promise.py)."""
    query = (select(func.count()).select_from(Ticket)
             .where(col(Ticket.due_date) < today,
                    col(Ticket.status).not_in([Status.SELESAI, Status.DITOLAK, Status.PERLU_DATA])))
    return session.exec(query).one()


def outbox_by_state(session: Session) -> dict[OutboxState, int]:
    query = select(OutboxMessage.state, func.count()).group_by(col(OutboxMessage.state))
    return {OutboxState(state): count for state, count in session.exec(query).all()}


def oldest_pending_outbox(session: Session) -> datetime | None:
    """When the oldest message still waiting to be sent was queued."""
    query = select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state == OutboxState.PENDING)
    return session.exec(query).one()
