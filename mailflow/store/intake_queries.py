"""Queries of the intake's hot path, each answered by the database in one round trip.

Kept apart from queries.py (at its size limit) and, like it, free of SQLite-only SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from mailflow.core.identity import Identity
from mailflow.store.group_rows import insert_into, kept_by
from mailflow.store.lease import FENCE_OPTION
from mailflow.store.models import MailboxState, OutboxMessage
from mailflow.store.scope import outbox_of
from mailflow.vocabulary import OutboxKind, OutboxState


def mail_counts(session: Session, address: str, hour_since: datetime,
                day_since: datetime, scope: str | None) -> tuple[int, int]:
    """Outbox rows the village `scope` created for `address` (any case) since each moment: the
    per-address limits. Per village: a regency's officer who is staff of many villages gets
    each village's allowance, not one shared by all of them.

    Receipts are not counted: each answers a proven staff reply, one for one, and a busy
    verifier's receipts must not use up the allowance their notifications need. Counted by
    the database: a verifier notified of thousands of tickets in a day must not cost
    thousands of rows read per new ticket."""
    query = select(
        func.count(),
        func.coalesce(func.sum(case((col(OutboxMessage.created_at) >= hour_since, 1), else_=0)), 0),
    ).where(
        func.lower(OutboxMessage.recipient) == address.lower(),
        col(OutboxMessage.created_at) >= day_since,
        OutboxMessage.kind != OutboxKind.RECEIPT, outbox_of(scope))
    day, hour = session.exec(query).one()
    return int(hour), int(day)


def begin_group(session: Session, mailbox: str) -> None:
    """Open the intake group's transaction with a write (one that changes nothing).

    Each message of a group runs in a SAVEPOINT. SQLite's Python driver begins a transaction
    only before a write, and a SAVEPOINT outside a transaction starts one that its RELEASE
    commits: without a write first, each message would commit alone. On PostgreSQL this also
    locks the mailbox's row for the group, which is the right order anyway. The lease is
    checked and renewed in the same statement's transaction (store/lease.py FENCE_OPTION),
    so that nothing renews it from another connection while the group holds the lock."""
    session.exec(update(MailboxState).where(col(MailboxState.mailbox) == mailbox)
                 .values(last_uid=MailboxState.last_uid)
                 .execution_options(**{FENCE_OPTION: mailbox}))


def mail_counts_many(session: Session, addresses: Iterable[str], hour_since: datetime,
                     day_since: datetime, scope: str | None) -> dict[str, tuple[int, int]]:
    """`mail_counts` for many addresses (lower-cased keys, every one given), in one query per
    500: an intake group asks once for the addresses its messages will answer."""
    wanted = sorted({a.lower() for a in addresses})
    found: dict[str, tuple[int, int]] = dict.fromkeys(wanted, (0, 0))
    for start in range(0, len(wanted), 500):
        recipient = func.lower(OutboxMessage.recipient)
        query = select(
            recipient, func.count(),
            func.coalesce(func.sum(case((col(OutboxMessage.created_at) >= hour_since, 1),
                                        else_=0)), 0),
        ).where(
            recipient.in_(wanted[start:start + 500]),
            col(OutboxMessage.created_at) >= day_since,
            OutboxMessage.kind != OutboxKind.RECEIPT, outbox_of(scope),
        ).group_by(recipient)
        for address, day, hour in session.exec(query).all():
            found[address] = (int(hour), int(day))
    return found


# Rows of the hot path written by one Core INSERT each on the session's connection, inside
# the message's savepoint (rolled back with it), or kept for the group's executemany while the
# session keeps rows (store/group_rows.py): no SQLModel object to build and no unit of
# work to flush for rows whose id nothing needs (issue 10). Every column is given, so one
# compiled statement serves them all; the lease fence (store/lease.py) checks these INSERTs
# into the intake table exactly as it checks the ORM's.
_INTAKE_DEFAULTS: dict[str, Any] = {
    "reason": "", "ticket_id": None, "marked": False, "message_id": None, "received_at": None,
    "sender_digest": None}
_OUTBOX_DEFAULTS: dict[str, Any] = {
    "ticket_id": None, "state": OutboxState.PENDING, "attempts": 0, "last_error": "",
    "sent_at": None, "topic": None, "claimed_by": None, "claimed_until": None}


def insert_ticket(session: Session, **values: Any) -> int:
    """A new ticket's row (every column of models.Ticket but `id`); its id. The caller keeps
    the values (a transient Ticket): nothing needs the ORM's copy of a ticket just made."""
    kept = kept_by(session)
    if kept is not None:
        ticket_id = kept.ticket_id(session)
        kept.add("ticket", [{"id": ticket_id, **values}])
        return ticket_id
    key = session.connection().execute(insert_into("ticket"), values).inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError(f"the database gave ticket {values.get('number')} no id")
    return int(key[0])


def add_reporter(session: Session, ticket_id: int, identity: Identity) -> None:
    """The reporter's row of a new ticket: the identity, stored apart (models.Reporter)."""
    _add(session, "reporter", [{
        "ticket_id": ticket_id, "name": identity.name, "nik": identity.nik,
        "nik_problem": identity.nik_problem, "phone": identity.phone,
        "address": identity.address, "email": identity.email}])


def add_attachment(session: Session, **values: Any) -> None:
    """A stored file's row (the columns of models.Attachment but `id`), its file already
    saved (store/files.py: by its content, so that a message taken again saves nothing new)."""
    _add(session, "attachment", [values])


def add_intake_record(session: Session, **values: Any) -> None:
    """An IntakeRecord's row (the columns of models.IntakeRecord but `id`)."""
    _add(session, "intake", [{**_INTAKE_DEFAULTS, **values}])


def outbox_row(**values: Any) -> dict[str, Any]:
    """An OutboxMessage's row, pending (the columns of models.OutboxMessage but `id`)."""
    return {**_OUTBOX_DEFAULTS, **values}


def add_outbox_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """`rows` (from `outbox_row`) in one statement: a new ticket's acknowledgement and its
    notifications together (an executemany)."""
    _add(session, "outbox", rows)


def _add(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    """`rows` of `table`: kept for the group's write while the session keeps rows
    (store/group_rows.py), else written now, one INSERT (an executemany for several)."""
    kept = kept_by(session)
    if kept is not None:
        kept.add(table, rows)
    elif rows:
        session.connection().execute(insert_into(table), rows if len(rows) > 1 else rows[0])
