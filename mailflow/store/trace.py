"""What intake did with one email, for `mailflow trace`: its records and the skipped mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_
from sqlmodel import Session, col, select

from mailflow.store.models import IntakeRecord, SkippedMessage, Ticket


def add_skipped(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record skipped messages (SkippedMessage's fields as dicts) in one executemany: a first
    pass over a big mailbox skips thousands, and building a model object each costs more
    than the insert."""
    if rows:
        session.exec(insert(SkippedMessage), params=list(rows))


def traced_messages(session: Session, mailbox: str, *, message_id: str | None = None,
                    sender_digest: str | None = None, since: datetime | None = None,
                    until: datetime | None = None, limit: int = 500
                    ) -> tuple[list[tuple[IntakeRecord, str | None]], list[SkippedMessage]]:
    """What intake did with the messages of `mailbox` (its key, "user@host/folder": a
    village's staff trace their own mailbox) that match every filter given: its records (each
    with its ticket's number) and the messages it skipped, at most `limit` of each, oldest
    first. `since`/`until` bound the arrival (INTERNALDATE); a record written before
    arrivals were kept (revision 0006) is placed by when it was recorded."""
    records = (select(IntakeRecord, Ticket.number)
               .join(Ticket, col(IntakeRecord.ticket_id) == Ticket.id, isouter=True)
               .where(IntakeRecord.mailbox == mailbox))
    skipped = select(SkippedMessage).where(SkippedMessage.mailbox == mailbox)
    if message_id is not None:
        records = records.where(func.lower(IntakeRecord.message_id) == message_id.lower())
        skipped = skipped.where(func.lower(SkippedMessage.message_id) == message_id.lower())
    if sender_digest is not None:
        records = records.where(IntakeRecord.sender_digest == sender_digest)
        skipped = skipped.where(SkippedMessage.sender_digest == sender_digest)
    if since is not None and until is not None:
        arrived = col(IntakeRecord.received_at)
        records = records.where(or_(
            and_(arrived >= since, arrived < until),
            and_(arrived.is_(None), col(IntakeRecord.created_at) >= since,
                 col(IntakeRecord.created_at) < until)))
        skipped = skipped.where(col(SkippedMessage.received_at) >= since,
                                col(SkippedMessage.received_at) < until)
    found = session.exec(records.order_by(col(IntakeRecord.id)).limit(limit)).all()
    left = session.exec(skipped.order_by(col(SkippedMessage.id)).limit(limit)).all()
    return [(record, number) for record, number in found], list(left)
