"""The outbox's sending queries: claim due rows for one instance, record each outcome.

Written for throughput and for several instances at once, in portable SQL (SQLite and
PostgreSQL):

- A page of due rows is claimed in one short statement: `UPDATE ... WHERE id IN (SELECT
  ... FOR UPDATE SKIP LOCKED) RETURNING`. On PostgreSQL, SKIP LOCKED lets concurrent
  claimers pass over each other's rows instead of waiting; on SQLite (which ignores FOR
  UPDATE) the statement takes the write lock before it reads, so claims are serialised. In
  both, the UPDATE repeats the due-and-unclaimed guard, so a row is claimed by one instance.
- A claim holds until `claimed_until`; a row whose claim ran out (its instance died) is due
  again for anyone.
- Each outcome is one short transaction with one UPDATE by primary key (no ORM object, no
  read first), committed right after the server answered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from mailflow.store.models import OutboxMessage, Ticket
from mailflow.store.queries import IN_LIMIT
from mailflow.store.scope import outbox_of
from mailflow.vocabulary import OutboxKind, OutboxState

_T: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
_ID, _STATE, _NEXT = _T.c.id, _T.c.state, _T.c.next_attempt_at
_BY, _UNTIL = _T.c.claimed_by, _T.c.claimed_until
# One attempt's outcome: built once, so each message costs only its execution (a third of
# building it anew); the columns to set come with the parameters (their types apply).
_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO OFF")
_ROW: Any = bindparam("row")
_OWNER: Any = bindparam("owner")
# Only while the claim is still the sender's: one taken back (its claimer judged gone, or
# its claim run out) is another instance's to send now, and its outcome is the other's.
_OUTCOME = (update(_T).where(_ID == _ROW, _BY == _OWNER)
            .values(attempts=_T.c.attempts + 1, claimed_by=None, claimed_until=None))


@dataclass(frozen=True)
class Claimed:
    """A claimed row: what the sender needs, and what the log line says."""

    id: int
    recipient: str
    raw: bytes
    kind: OutboxKind
    ticket_id: int | None
    attempts: int  # before this attempt


def _due(now: datetime, scope: str | None, owner: str) -> ColumnElement[bool]:
    """Pending, its time has come, no live claim by anyone else, and the village's to send.

    The claimer's own live claims count as none: a pass that ended with the database gone
    could not give its page back, and the claims, which only its own next pass can then use,
    would hold that mail for `pass_seconds` + 300 s (found by the crash harness)."""
    return and_(_STATE == OutboxState.PENDING, now >= _NEXT,
                or_(_UNTIL.is_(None), now >= _UNTIL, _T.c.claimed_by == owner),
                outbox_of(scope))


class OutboxStore:
    """The outbox table as one sending pass uses it, over one connection (`connect`)."""

    def __init__(self, conn: Connection, scope: str | None = None) -> None:
        """`scope`: the village whose rows this store claims (its SMTP settings send them)."""
        self.conn = conn
        self.scope = scope
        self._postgres = conn.dialect.name == "postgresql"

    @classmethod
    @contextmanager
    def connect(cls, engine: Engine, scope: str | None = None) -> Iterator[OutboxStore]:
        with engine.connect() as conn:
            yield cls(conn, scope)

    def claim(self, *, owner: str, now: datetime, until: datetime,
              limit: int, after_id: int = 0) -> list[Claimed]:
        """Claim up to `limit` due rows after `after_id` for `owner` until `until`, in one short
        transaction; the rows claimed, oldest first (none: nothing more is due for us)."""
        # The page is a CTE, not a subquery in the WHERE: PostgreSQL may run such a subquery
        # again for each row it scans, and with SKIP LOCKED each run locks the next rows, so
        # the LIMIT limited nothing and the first instance claimed every due row. A CTE with
        # FOR UPDATE is run once.
        page = (select(_ID).where(_due(now, self.scope, owner), after_id < _ID).order_by(_ID).limit(limit)
                .with_for_update(skip_locked=True).cte("page"))
        claim = (update(_T).where(_ID.in_(select(page.c.id)), _due(now, self.scope, owner))
                 .values(claimed_by=owner, claimed_until=until)
                 .returning(_ID, _T.c.recipient, _T.c.raw, _T.c.kind, _T.c.ticket_id,
                            _T.c.attempts))
        with self.conn.begin():
            rows = self.conn.execute(claim).all()
        claimed = [Claimed(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])
                   for row in rows]
        return sorted(claimed, key=lambda item: item.id)

    def sent(self, row_id: int, owner: str, now: datetime) -> bool:
        return self._set(row_id, owner, {"state": OutboxState.SENT, "sent_at": now,
                                         "last_error": ""})

    def deferred(self, row_id: int, owner: str, error: str, retry_at: datetime) -> bool:
        return self._set(row_id, owner, {"next_attempt_at": retry_at, "last_error": error})

    def parked(self, row_id: int, owner: str, error: str) -> bool:
        return self._set(row_id, owner, {"state": OutboxState.PARKED, "last_error": error})

    def _set(self, row_id: int, owner: str, values: dict[str, object]) -> bool:
        """One attempt's outcome in its own transaction; the claim ends with it. False: the
        row is gone, or `owner`'s claim on it is (another instance took the row back).

        On PostgreSQL this one transaction commits without waiting for the WAL flush (the
        stance db.py takes for SQLite with synchronous=NORMAL): a crash of mailflow loses
        nothing, since the commit is in the server; a crash of the database server itself
        may forget the outcomes of its last fraction of a second, and those messages are sent
        again, never lost. It keeps an fsync per message from setting the outbox's pace."""
        with self.conn.begin():
            if self._postgres:
                self.conn.execute(_NO_FLUSH_WAIT)
            return bool(self.conn.execute(_OUTCOME, {"row": row_id, "owner": owner,
                                                     **values}).rowcount == 1)

    def owners(self) -> list[str]:
        """Who holds claims on pending rows (live or run out)."""
        query = select(_BY).where(_STATE == OutboxState.PENDING, _BY.is_not(None)).distinct()
        with self.conn.begin():
            return [str(owner) for owner in self.conn.execute(query).scalars()]

    def release_all(self, owner: str) -> int:
        """Give back every claim of `owner` (an instance known to be gone); how many."""
        with self.conn.begin():
            return int(self.conn.execute(
                update(_T).where(_T.c.claimed_by == owner, _STATE == OutboxState.PENDING)
                .values(claimed_by=None, claimed_until=None)).rowcount)

    def release(self, owner: str, ids: Sequence[int]) -> None:
        """Give back claimed rows not attempted (the pass ended early): due again at once."""
        with self.conn.begin():
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                self.conn.execute(update(_T).where(_ID.in_(part), _T.c.claimed_by == owner)
                                  .values(claimed_by=None, claimed_until=None))


def next_outbox_due(session: Session, scope: str | None = None) -> datetime | None:
    """When the earliest pending message falls due (None: nothing pending). A claimed row is
    due again when its claim runs out (claims are taken only on due rows, and end with the
    attempt, so its `claimed_until` is past its `next_attempt_at`)."""
    pending = and_(_STATE == OutboxState.PENDING, outbox_of(scope))
    unclaimed = select(_NEXT).where(pending, _UNTIL.is_(None)).order_by(_NEXT).limit(1)
    claimed = (select(_UNTIL).where(pending, _UNTIL.is_not(None))
               .order_by(_UNTIL).limit(1))
    found = [session.scalars(query).first() for query in (unclaimed, claimed)]
    return min((moment for moment in found if moment is not None), default=None)


def parked_outbox(session: Session, ids: Sequence[int] | None,
                  scope: str | None) -> Sequence[OutboxMessage]:
    """The village's parked messages: all of them, or those among `ids` (at most IN_LIMIT)."""
    query = orm_select(OutboxMessage).where(OutboxMessage.state == OutboxState.PARKED,
                                        outbox_of(scope))
    if ids is not None:
        query = query.where(col(OutboxMessage.id).in_(list(ids)[:IN_LIMIT]))
    return session.exec(query).all()


def parked_with_numbers(session: Session, scope: str) -> list[tuple[OutboxMessage, str | None]]:
    """The village's parked rows, oldest first, each with its ticket's number (None: none)."""
    query = (orm_select(OutboxMessage, Ticket.number)
             .outerjoin(Ticket, col(OutboxMessage.ticket_id) == col(Ticket.id))
             .where(OutboxMessage.state == OutboxState.PARKED, outbox_of(scope))
             .order_by(col(OutboxMessage.id)))
    return [(row, number) for row, number in session.exec(query).all()]
