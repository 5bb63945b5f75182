"""Every query mailflow makes, named for its answer; runners and views call these, never select().

Kept free of SQLite-only SQL so that it also runs on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import Integer, Select, bindparam, delete, func, insert, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from mailflow.core.tickets import EventPlan
from mailflow.store.db import transaction
from mailflow.store.group_rows import insert_into, kept_by
from mailflow.store.models import (
    Attachment,
    IntakeRecord,
    JobRun,
    MailboxState,
    OutboxMessage,
    Reporter,
    Ticket,
    TicketCounter,
    TicketEvent,
    UsedSignature,
)
from mailflow.store.scope import outbox_of, signature_key, ticket_key, tickets_of
from mailflow.vocabulary import (
    TAKEN_OUTCOMES,
    EventKind,
    IntakeOutcome,
    OutboxKind,
    OutboxState,
)

# Values bound in one IN (...) list at most. SQLite refuses a statement with more than
# 32,766 variables ("too many SQL variables"), and a list's length may come from a
# message (its References) or from a backlog (records to mark), so no query binds a list
# whose length is not bounded here.
IN_LIMIT = 500

_T = TypeVar("_T")


def chunks(values: Sequence[_T], size: int = IN_LIMIT) -> Iterator[Sequence[_T]]:
    """`values` in slices of at most `size`, for statements with a bounded IN list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


_COUNTER = TicketCounter.__table__  # type: ignore[attr-defined]
_BUMP_COUNTER = update(_COUNTER).where(
    _COUNTER.c.scope == bindparam("b_scope"), _COUNTER.c.year == bindparam("b_year"),
).values(last=_COUNTER.c.last + 1).returning(_COUNTER.c.last)


def next_ticket_number_seq(session: Session, scope: str, year: int) -> int:
    """Take the next sequence number of the village `scope` in `year`.

    One UPDATE ... RETURNING on the session's connection, not the ORM's read, increment and
    flush (a sixteenth of a new ticket's cost, issue 10): its row lock keeps the number unique
    under concurrency until the transaction ends, and a message's rolled-back savepoint takes
    its count back, so that number is given again. A year's first number inserts the row; a
    second process inserting it at the same moment fails on its key (IntegrityError: the pass
    ends and the next one counts on)."""
    kept = kept_by(session)
    if kept is not None:
        return kept.ticket_number(session, scope, year)
    conn = session.connection()
    last = conn.execute(_BUMP_COUNTER, {"b_scope": scope, "b_year": year}).scalar()
    if last is not None:
        return int(last)
    conn.execute(insert(_COUNTER).values(scope=scope, year=year, last=1))
    return 1


def mailbox_state(session: Session, mailbox: str) -> MailboxState | None:
    return session.exec(select(MailboxState).where(MailboxState.mailbox == mailbox)).first()


def intake_exists(session: Session, mailbox: str, uidvalidity: int, uid: int) -> bool:
    query = select(IntakeRecord.id).where(
        IntakeRecord.mailbox == mailbox,
        IntakeRecord.uidvalidity == uidvalidity,
        IntakeRecord.uid == uid,
    )
    return session.exec(query).first() is not None


def intake_decision(session: Session, mailbox: str, uidvalidity: int,
                    uid: int) -> IntakeOutcome | None:
    """What intake recorded for one message, if anything."""
    query = select(IntakeRecord).where(
        IntakeRecord.mailbox == mailbox,
        IntakeRecord.uidvalidity == uidvalidity,
        IntakeRecord.uid == uid,
    )
    found = session.exec(query).first()
    return found.decision if found is not None else None


def intake_uids(session: Session, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> set[int]:
    """Those of `uids` that already have an intake record."""
    found: set[int] = set()
    for part in chunks(uids):
        query = select(IntakeRecord.uid).where(
            IntakeRecord.mailbox == mailbox, IntakeRecord.uidvalidity == uidvalidity,
            col(IntakeRecord.uid).in_(part))
        found.update(session.exec(query).all())
    return found


def ticket_by_key(session: Session, key: str, scope: str) -> Ticket | None:
    """The village's ticket made from the message with this key (stored either way)."""
    keys = (key, ticket_key(scope, key))
    return session.exec(select(Ticket).where(col(Ticket.message_key).in_(keys),
                                             tickets_of(scope))).first()


def ticket_of_taken_reply(session: Session, key: str, scope: str) -> Ticket | None:
    """The village's ticket a reply with this message key was already applied to, if any."""
    query = select(Ticket).join(IntakeRecord, col(IntakeRecord.ticket_id) == Ticket.id).where(
        IntakeRecord.message_key == key, tickets_of(scope),
        col(IntakeRecord.decision).in_((IntakeOutcome.REPLY, IntakeOutcome.STAFF)))
    return session.exec(query).first()


def first_ticket_with_content(session: Session, content_key: str, since: datetime,
                              scope: str) -> Ticket | None:
    """The village's first ticket made since `since` from a message with this content key."""
    query = (select(Ticket)
             .where(Ticket.content_key == content_key, col(Ticket.created_at) >= since,
                    tickets_of(scope))
             .order_by(col(Ticket.id)).limit(1))
    return session.exec(query).first()


def reporter_of(session: Session, ticket_id: int | None) -> Reporter | None:
    return session.exec(select(Reporter).where(Reporter.ticket_id == ticket_id)).first()


def ticket_by_number(session: Session, number: str, scope: str) -> Ticket | None:
    """The village's ticket with this number; another village's is not found."""
    return session.exec(select(Ticket).where(Ticket.number == number.upper(),
                                             tickets_of(scope))).first()


def ticket_by_reference(session: Session, message_ids: Sequence[str],
                        scope: str) -> Ticket | None:
    """The village's ticket a reply belongs to, from the Message-IDs it cites (ours or the
    complaint's): a message citing another village's ticket belongs to none of ours.

    Any number of ids is safe: they are looked up IN_LIMIT at a time.
    """
    unique = list(dict.fromkeys(message_ids))
    for part in chunks(unique):
        query = select(Ticket).join(OutboxMessage, col(OutboxMessage.ticket_id) == Ticket.id).where(
            col(OutboxMessage.message_id).in_(part), tickets_of(scope))
        found = session.exec(query).first()
        if found is not None:
            return found
    for part in chunks(unique):
        found = session.exec(select(Ticket).where(col(Ticket.source_message_id).in_(part),
                                                  tickets_of(scope))).first()
        if found is not None:
            return found
    return None


def other_mailboxes_started(session: Session, mailbox: str) -> tuple[bool, datetime | None]:
    """Whether mailflow already serves another mailbox key, and the earliest first start known
    among them (None when none recorded one): a second key is not mailflow's first start."""
    query = select(MailboxState.first_seen_at).where(MailboxState.mailbox != mailbox)
    found = session.exec(query).all()
    known = [at for at in found if at is not None]
    return bool(found), min(known) if known else None


def first_start(session: Session) -> datetime | None:
    """When mailflow first read any mailbox (None: never, or a database from before 0005)."""
    return session.exec(select(func.min(MailboxState.first_seen_at))).one()


def forget_before_start(session: Session, mailbox: str, uidvalidity: int,
                        uids: Sequence[int]) -> None:
    """Drop the before-start records of `uids`, so that intake takes those messages now."""
    for part in chunks(uids):
        session.exec(delete(IntakeRecord).where(
            col(IntakeRecord.mailbox) == mailbox, col(IntakeRecord.uidvalidity) == uidvalidity,
            col(IntakeRecord.decision) == IntakeOutcome.BEFORE_START,
            col(IntakeRecord.uid).in_(part)))


def set_last_uid(session: Session, mailbox: str, uid: int) -> None:
    """Intake has examined `mailbox` up to `uid`; never moves backwards."""
    state = mailbox_state(session, mailbox)
    if state is not None and uid > state.last_uid:
        state.last_uid = uid


def last_with_topic(session: Session, topic: str, recipient: str,
                    scope: str) -> OutboxMessage | None:
    """The newest coalesced row of `topic` for `recipient` (any case) from the village."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.topic == topic, outbox_of(scope),
                    func.lower(OutboxMessage.recipient) == recipient.lower())
             .order_by(col(OutboxMessage.id).desc()).limit(1))
    return session.exec(query).first()


def security_events_since(session: Session, since: datetime,
                          scope: str) -> list[tuple[str, TicketEvent]]:
    """Security events on the village's tickets since `since`, oldest first, with numbers."""
    query = (select(Ticket.number, TicketEvent)
             .join(Ticket, col(TicketEvent.ticket_id) == Ticket.id)
             .where(TicketEvent.kind == EventKind.SECURITY, col(TicketEvent.at) >= since,
                    tickets_of(scope))
             .order_by(col(TicketEvent.at), col(TicketEvent.id)))
    return [(number, event) for number, event in session.exec(query).all()]


def refused_since(session: Session, since: datetime, mailbox: str) -> Sequence[IntakeRecord]:
    """Messages to `mailbox` refused as unproven staff actions without a ticket (recordings)
    since `since`."""
    query = (select(IntakeRecord)
             .where(IntakeRecord.decision == IntakeOutcome.REFUSED, IntakeRecord.mailbox == mailbox,
                    col(IntakeRecord.created_at) >= since)
             .order_by(col(IntakeRecord.id)))
    return session.exec(query).all()


def outbox_listing(session: Session, *, scope: str | None,
                   states: Sequence[OutboxState] | None = None,
                   ticket_id: int | None = None, limit: int = 1000
                   ) -> list[tuple[OutboxMessage, str | None]]:
    """The village's outbox rows (in `states`, or of one ticket), oldest first, each with its
    ticket's number, without the raw message (which may be megabytes and is never printed)."""
    query = (select(OutboxMessage, Ticket.number)
             .join(Ticket, col(OutboxMessage.ticket_id) == Ticket.id, isouter=True)
             .where(outbox_of(scope))
             .options(defer(OutboxMessage.raw))  # type: ignore[arg-type]
             .order_by(col(OutboxMessage.id)).limit(limit))
    if states is not None:
        query = query.where(col(OutboxMessage.state).in_(list(states)))
    if ticket_id is not None:
        query = query.where(OutboxMessage.ticket_id == ticket_id)
    return [(item, number) for item, number in session.exec(query).all()]


def job_run_keys(session: Session, job: str, keys: Sequence[str]) -> set[str]:
    """Which of `keys` `job` has already done. Only those are asked for: the clock job is
    asked at every poll after the day's hour, and its keys (one per reminder, ticket and
    day) pile up over the years, all of them read at each poll before."""
    done: set[str] = set()
    for part in chunks(list(dict.fromkeys(keys))):
        done.update(session.exec(select(JobRun.run_key).where(
            JobRun.job == job, col(JobRun.run_key).in_(part))).all())
    return done


def unmarked_intake(session: Session, mailbox: str, uidvalidity: int, after_uid: int = 0,
                    limit: int = 2000) -> list[tuple[int, int]]:
    """(uid, id) of taken, unmarked records past `after_uid`, by UID: one page of a backlog of
    any size, two columns rather than whole rows (issue 10: the marking of a pass must not
    hold every record it took). One record per UID (the unique constraint).

    Asked at every poll, so it must not read the mailbox's history: one seek per taken outcome
    in ix_intake_unmarked (mailbox, uidvalidity, marked, decision, uid), their pages joined.
    With the outcomes as one IN list the engines walked every unmarked record of the mailbox,
    and records never to be marked (ignored, quarantined, recorded before the first start)
    stay unmarked for good (migration 0013)."""
    found = session.execute(_unmarked_statement(), {
        "mailbox": mailbox, "uidvalidity": uidvalidity, "after_uid": after_uid, "limit": limit})
    return [(uid, record_id) for uid, record_id in found.all()]


@cache
def _unmarked_statement() -> Select[tuple[int, int]]:
    """Built once: the statement of five selects costs more to build than to run."""
    table = IntakeRecord.__table__  # type: ignore[attr-defined]
    limit = bindparam("limit", type_=Integer)
    pages = [
        sa_select(table.c.uid, table.c.id).where(
            table.c.mailbox == bindparam("mailbox"),
            table.c.uidvalidity == bindparam("uidvalidity"),
            table.c.marked == False,  # noqa: E712 - SQL expression, not a Python comparison
            table.c.decision == outcome,
            table.c.uid > bindparam("after_uid"),
        ).order_by(table.c.uid).limit(limit).subquery()
        for outcome in sorted(TAKEN_OUTCOMES)
    ]
    joined = union_all(*(sa_select(page.c.uid, page.c.id) for page in pages)).subquery()
    return sa_select(joined.c.uid, joined.c.id).order_by(joined.c.uid).limit(limit)


def set_marked(engine: Engine, record_ids: Sequence[int]) -> None:
    """Mark records as marked in the mailbox; a backlog of any size, IN_LIMIT ids a statement."""
    if not record_ids:
        return
    with transaction(engine) as session:
        for part in chunks(record_ids):
            session.exec(
                update(IntakeRecord).where(col(IntakeRecord.id).in_(part)).values(marked=True))


def signatures_used(session: Session, digests: Sequence[str], scope: str) -> bool:
    """Whether any of these DKIM signature fingerprints was carried by an earlier proven
    message to this village, or by a staff message anywhere (`use_signatures`)."""
    if not digests:
        return False
    keys = [*digests, *(signature_key(scope, d) for d in digests)]
    query = select(UsedSignature.id).where(col(UsedSignature.digest).in_(keys))
    return session.exec(query).first() is not None


def use_signatures(session: Session, digests: Sequence[str], ticket_id: int | None,
                   message_id: str | None, now: datetime, scope: str | None) -> None:
    """Remember the fingerprints of a proven message, in its transaction: for one village
    (`scope`: a resident's answer sent to two villages acts in each) or for all (None: a
    staff member's command, recording or opening, which must not act again in another
    village where they are staff too; fingerprints remembered before villages were told
    apart are kept so too)."""
    for value in dict.fromkeys(digests):
        key = value if scope is None else signature_key(scope, value)
        session.add(UsedSignature(digest=key, ticket_id=ticket_id, message_id=message_id,
                                  used_at=now))


def ack_message_id(session: Session, ticket_id: int | None) -> str | None:
    """The acknowledgement's Message-ID: every later message to the reporter threads under it."""
    query = (select(OutboxMessage.message_id)
             .where(OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == OutboxKind.ACK)
             .order_by(col(OutboxMessage.id)))
    return session.exec(query).first()



def add_events(session: Session, ticket_id: int, events: Iterable[EventPlan], at: datetime) -> None:
    """Write planned audit events for one ticket, all stamped with the same moment.

    One Core INSERT each, at once: their ids follow the order they were written in, which
    `events_of` relies on for events of the same moment, and no unit of work is flushed."""
    rows = [{"ticket_id": ticket_id, "at": at, "actor": event.actor, "kind": event.kind,
             "from_status": event.from_status, "to_status": event.to_status, "note": event.note,
             "message_id": event.message_id, "auth": event.auth} for event in events]
    kept = kept_by(session)
    if kept is not None:
        kept.add("ticket_event", rows)
    elif rows:
        connection = session.connection()
        for row in rows:
            connection.execute(insert_into("ticket_event"), row)


def attachments_of(session: Session, ticket_id: int | None) -> Sequence[Attachment]:
    """The files stored with a ticket, in the order they were stored."""
    query = select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(col(Attachment.id))
    return session.exec(query).all()


def events_of(session: Session, ticket_id: int | None) -> Sequence[TicketEvent]:
    """A ticket's audit trail, oldest first; events of the same moment in the order written."""
    query = (select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
             .order_by(col(TicketEvent.at), col(TicketEvent.id)))
    return session.exec(query).all()


def rename_job_run(session: Session, job: str, run_key: str, new_key: str) -> bool:
    """Give a run another key (closing an open episode, see runners/login_alerts.py); False
    when there is no run under `run_key`."""
    row = session.exec(select(JobRun).where(JobRun.job == job, JobRun.run_key == run_key)).first()
    if row is None:
        return False
    row.run_key = new_key
    session.add(row)
    return True
