"""Which of a group's messages may already be known, asked once for the whole group.

Before a message becomes a ticket the intake asks three questions of it: is a ticket made from
it already (a second delivery), was it applied as a reply already, and did its sender send the
same words within the repeat window (a mail loop). For a fresh message every answer is no, and
asking them one message at a time was three queries of each ticket's dozen (issue 10). These
ask them for a whole group in three queries; the intake then asks the precise question only of
the few messages named here (runners/known_keys.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from mailflow.store.models import IntakeRecord, Ticket
from mailflow.store.queries import chunks
from mailflow.store.scope import ticket_key, tickets_of
from mailflow.vocabulary import IntakeOutcome

__all__ = ["known_contents", "known_message_keys"]


def known_message_keys(session: Session, scope: str, keys: Sequence[str]) -> set[str]:
    """Those of `keys` (message keys, unscoped) that a ticket of the village was made from or
    that were applied to one of its tickets as a reply."""
    scoped = {ticket_key(scope, key): key for key in keys}
    found: set[str] = set()
    for part in chunks(list(keys)):
        wanted = [*part, *(ticket_key(scope, key) for key in part)]
        stored = session.exec(select(Ticket.message_key).where(
            col(Ticket.message_key).in_(wanted), tickets_of(scope))).all()
        found.update(scoped.get(key, key) for key in stored)
        replies = session.exec(
            select(IntakeRecord.message_key)
            .join(Ticket, col(IntakeRecord.ticket_id) == Ticket.id)
            .where(col(IntakeRecord.message_key).in_(part), tickets_of(scope),
                   col(IntakeRecord.decision).in_((IntakeOutcome.REPLY, IntakeOutcome.STAFF)))
        ).all()
        found.update(replies)
    return found


def known_contents(session: Session, scope: str, contents: Sequence[str],
                   since: datetime) -> set[str]:
    """Those of `contents` (core/intake_rules.py content_key) that a ticket of the village made
    since `since` has."""
    found: set[str] = set()
    for part in chunks(list(contents)):
        found.update(key for key in session.exec(select(Ticket.content_key).where(
            col(Ticket.content_key).in_(part), col(Ticket.created_at) >= since,
            tickets_of(scope))).all() if key is not None)
    return found
