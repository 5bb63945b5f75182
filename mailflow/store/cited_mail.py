"""What the Message-IDs a message cites say of the mail it answers: which kinds of this
village's mail, and whether it answers another village's.

Kept per village: in a regency's shared database, another village's mail is never this
village's to answer (a reply citing Tegal's note is no reply to Klero's), and a would-be
complaint answering it is that village's business (runners/intake.py `_elsewhere`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from mailflow.store.models import OutboxMessage
from mailflow.store.queries import chunks
from mailflow.store.scope import outbox_of
from mailflow.vocabulary import OutboxKind

#: Mail to a reporter about their own complaint: quoting it repeats only their own words.
_TO_THE_REPORTER = (OutboxKind.ACK, OutboxKind.STATUS)


def village_of_cited_mail(session: Session, message_ids: Sequence[str], scope: str) -> str | None:
    """Another village of this database whose mail to its staff is among `message_ids` (its
    prefix), or None: a message citing it answers that village's staff mail, whatever
    mailbox it reached, and its quoted text may carry that village's reporters. A resident
    who reuses another village's acknowledgement to write here quotes only their own."""
    for part in chunks(list(dict.fromkeys(message_ids))):
        found = session.exec(select(OutboxMessage.scope).where(
            col(OutboxMessage.message_id).in_(part), col(OutboxMessage.scope).is_not(None),
            OutboxMessage.scope != scope,
            col(OutboxMessage.kind).not_in(_TO_THE_REPORTER)).limit(1)).first()
        if found is not None:
            return found
    return None


def outbox_kinds(session: Session, message_ids: Sequence[str], scope: str) -> set[OutboxKind]:
    """The kinds of the village's own messages among `message_ids` (what a reply answers);
    another village's mail is not this village's to answer."""
    kinds: set[OutboxKind] = set()
    for part in chunks(list(dict.fromkeys(message_ids))):
        query = select(OutboxMessage.kind).where(col(OutboxMessage.message_id).in_(part),
                                                 outbox_of(scope))
        kinds.update(OutboxKind(kind) for kind in session.exec(query).all())
    return kinds
