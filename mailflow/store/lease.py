"""A mailbox's lease in the database (core/lease.py has the rules), and the fence on intake.

Taking and renewing is one guarded UPDATE, `... WHERE mailbox = :m AND (holder = :me OR
expires_at <= :now)`: the database runs it atomically (SQLite has one writer at a time; on
PostgreSQL a second UPDATE of the row waits for the first to commit and re-checks the WHERE
against what it wrote), so of two instances racing for an expired lease exactly one sees
its row updated. The first lease of a mailbox is an INSERT; its primary key turns a second
INSERT into an IntegrityError, which means "someone else took it".

The fence: an instance that stalls longer than the lease (a pause, a database wait) must not
commit intake writes after a peer took over. `install_fence` makes the engine check, inside
every transaction that writes an intake record of a leased mailbox, that this instance still
holds that mailbox's lease at the generation it took, by the same kind of guarded UPDATE (which
also renews it). That UPDATE locks the lease row (SQLite: the database) until the transaction
ends, so no peer can take the lease between the check and the commit: either the writes
commit while the lease is held, or the peer's takeover comes first and the check fails
(LeaseLost), rolling the whole message back. The intake record's unique key (mailbox,
uidvalidity, uid) stays the last guard against a second ticket.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, event, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine

from mailflow.core.lease import (
    RELEASED,
    LeaseRow,
    LeaseRules,
    held_by_other,
    renewal_due,
)
from mailflow.errors import MailboxBusy
from mailflow.store.db import (
    IntegrityError,
    OperationalError,
    lock_wait_ended,
    outage_as_unavailable,
    storage_failure,
)
from mailflow.store.instance import dead_here, here
from mailflow.store.models import IntakeRecord, MailboxLease

log = logging.getLogger(__name__)

_TABLE = MailboxLease.__table__  # type: ignore[attr-defined]
_FENCED = IntakeRecord.__tablename__
_FENCED_ON = "_mailflow_fenced_mailboxes"  # the attribute a statement's context keeps them in
# The fence's check, built once (it runs in every intake transaction): the holder at the
# generation it took renews; anyone else matches no row.
_FENCE = update(_TABLE).where(
    _TABLE.c.mailbox == bindparam("b_mailbox"), _TABLE.c.holder == bindparam("b_me"),
    _TABLE.c.generation == bindparam("b_generation"),
).values(expires_at=bindparam("b_expires_at", type_=_TABLE.c.expires_at.type),
         heartbeat_at=bindparam("b_now", type_=_TABLE.c.heartbeat_at.type))
# How long taking or renewing a lease waits for the lease row: an intake transaction of its
# holder locks it (the fence), so a peer would otherwise wait for the whole transaction.
LOCK_WAIT = "2s"
_LOCK_WAIT = text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
_DONE = "mailflow_fenced"  # conn.info: the mailboxes already checked in this transaction
#: An execution option naming the mailbox a statement opens a transaction for: the fence
#: checks (and renews) the lease right there. An intake group opens its transaction with a
#: write that takes SQLite's write lock before any intake record is inserted; without the
#: check then, the daemon's renewal between two messages would run on a second connection
#: and wait for that very lock (30 s, then "database is locked").
FENCE_OPTION = "mailflow_fence_mailbox"


class LeaseLost(MailboxBusy):
    """This instance no longer holds the mailbox's lease: its intake writes are refused."""


class UnfencedWrite(RuntimeError):
    """An intake write the fence cannot check (a bug in mailflow, not the environment's):
    refused, so that no intake record is ever written without the lease being checked."""


# An INSERT into the intake table written as SQL text: the fence cannot read its mailboxes.
_TEXT_INTAKE_INSERT = re.compile(rf"\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+\"?{_FENCED}\"?[\s(]",
                                 re.IGNORECASE)


@dataclass(frozen=True)
class LeaseState:
    """What `take` found: whether `me` holds it now, and the other holder if not."""

    held: bool
    holder: str | None = None
    expires_at: datetime | None = None


class Lease:
    """The lease of one mailbox, as seen by one instance."""

    def __init__(self, engine: Engine, mailbox: str, me: str, rules: LeaseRules, *,
                 quiet: bool = False) -> None:
        """`quiet`: taking and releasing it logs at DEBUG (a `poll --once` does both each time,
        and an idle pass says nothing at INFO); a daemon logs them at INFO."""
        self.engine = engine
        self._level = logging.DEBUG if quiet else logging.INFO
        self.mailbox = mailbox
        self.me = me
        self.rules = rules
        self.generation: int | None = None  # set while held
        # Between a successful take and a release: the fence checks this lease's writes (and
        # goes on refusing them once the lease was lost, until the next take).
        self.active = False
        self._renewed: float | None = None  # monotonic time of the last take
        # Open transactions the fence checked (and which lock the lease row until they end):
        # meanwhile `keep` renews nothing, as a second connection of this process would wait
        # for that lock (on PostgreSQL for ever).
        self.open_fences = 0
        self._busy = False  # its row was found locked by the holder's transaction last time

    @property
    def held(self) -> bool:
        return self.generation is not None

    def keep(self, now: datetime) -> bool:
        """Renew the lease if `renew` seconds passed since the last take; False once lost
        (True when not taking part: never taken, or released)."""
        if not self.active:
            return True
        if self.generation is None:
            return False
        if self.due():
            return self.take(now).held
        return True

    def renewed(self) -> None:
        """Renewed for it elsewhere: by the fence's check, or a fleet's bulk renewal
        (store/lease_table.py `renew_many`)."""
        self._renewed = time.monotonic()

    def due(self, within: float = 0.0) -> bool:
        """Whether `keep` would renew it now (or `within` seconds from now): held, `renew`
        seconds since the last take, and no open transaction of this process holding its row."""
        return (self.active and self.generation is not None and self.open_fences == 0
                and renewal_due(self._renewed, time.monotonic() + within, self.rules))

    def take(self, now: datetime, *, local: bool = False) -> LeaseState:
        """Take or renew the lease at `now`; a lease another instance holds is left alone,
        unless `local`: then one held by another process on this machine is taken over (a
        `poll --once` that holds the mailbox's lock file: that service is between passes)."""
        self._renewed = time.monotonic()
        with outage_as_unavailable():
            generation = self._take(now, local)
            row = None if generation is not None else self.read()
        if generation is not None:
            if self.generation != generation:
                log.log(self._level, "mailbox lease taken mailbox=%s holder=%s generation=%d",
                        self.mailbox, self.me, generation)
            self.generation, self.active = generation, True
            return LeaseState(True, self.me)
        if self.generation is not None:
            log.warning("mailbox lease lost mailbox=%s holder=%s", self.mailbox, self.me)
        self.generation = None  # `active` stays: the fence goes on refusing until released
        return LeaseState(False, held_by_other(row, self.me, now) or (row.holder if row else None),
                          row.expires_at if row else None)

    def _take(self, now: datetime, local: bool) -> int | None:
        try:
            generation = self._take_or_wait(now, local)
            self._busy = False
            return generation
        except OperationalError as exc:
            if not lock_wait_ended(exc):
                raise
            # The holder is inside an intake transaction, which locks the lease row (the
            # fence): not ours now. Waiting for it would hold up this instance's other
            # mailboxes, its outbox and its jobs for as long as that transaction lasts.
            log.log(logging.DEBUG if self._busy else logging.INFO, "mailbox lease busy "
                    "mailbox=%s: its holder is in the middle of a transaction", self.mailbox)
            self._busy = True  # said once while it lasts: a standby asks every few seconds
            return None

    def _take_or_wait(self, now: datetime, local: bool) -> int | None:
        with self._briefly() as conn:
            generation = _renew(conn, self.mailbox, self.me, self.rules, now)
        if generation is None:
            generation = self._insert(now)
        row = self.read() if generation is None else None
        if row is not None and (dead_here(row.holder) or (local and here(row.holder))):
            # Its process is gone (a crash, then a restart on the same machine): no need to
            # wait for the lease to run out. Only that holder is replaced, in one UPDATE.
            # (A live one that loses it this way is stopped by the fence, not harmed.)
            with self._briefly() as conn:
                generation = _renew(conn, self.mailbox, self.me, self.rules, now,
                                    dead=row.holder)
            if generation is not None:
                log.log(self._level, "mailbox lease taken over from a process on this machine "
                        "mailbox=%s was=%s", self.mailbox, row.holder)
        return generation

    @contextmanager
    def _briefly(self) -> Iterator[Connection]:
        """A transaction whose waits for a lock end after LOCK_WAIT (PostgreSQL; SQLite's
        wait is its busy timeout)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(_LOCK_WAIT)
            yield conn

    def _insert(self, now: datetime) -> int | None:
        """The mailbox's first lease; None when a row exists (another instance's)."""
        try:
            with self._briefly() as conn:
                if conn.execute(select(_TABLE.c.mailbox).where(
                        _TABLE.c.mailbox == self.mailbox)).first() is not None:
                    return None
                conn.execute(insert(_TABLE).values(
                    mailbox=self.mailbox, holder=self.me, generation=1,
                    expires_at=self.rules.expiry(now), heartbeat_at=now))
        except IntegrityError:
            return None  # inserted by another instance at the same moment
        return 1

    def release(self, now: datetime) -> None:
        """Give the lease up (a clean stop): a peer may take it at once."""
        self.active = False
        if self.generation is None:
            return
        self.generation = None
        try:
            with self.engine.begin() as conn:
                conn.execute(update(_TABLE).where(
                    _TABLE.c.mailbox == self.mailbox, _TABLE.c.holder == self.me,
                ).values(holder="", expires_at=RELEASED, heartbeat_at=now))
        except Exception as exc:
            if not storage_failure(exc):
                raise
            log.warning("mailbox lease not released, a peer takes over when it runs out: %s",
                        exc)
            return
        log.log(self._level, "mailbox lease released mailbox=%s holder=%s", self.mailbox, self.me)

    def read(self) -> LeaseRow | None:
        return read_lease(self.engine, self.mailbox)


def read_lease(engine: Engine, mailbox: str) -> LeaseRow | None:
    with engine.connect() as conn:
        row = conn.execute(select(_TABLE.c.holder, _TABLE.c.expires_at).where(
            _TABLE.c.mailbox == mailbox)).first()
    return None if row is None else LeaseRow(row.holder, row.expires_at)


def describe_lease(engine: Engine, mailbox: str, now: datetime) -> str:
    """Who polls `mailbox` (for `mailflow check`)."""
    if not inspect(engine).has_table(_TABLE.name):
        return f"{mailbox}: no instance has polled it yet"
    row = read_lease(engine, mailbox)
    if row is None or not row.holder:
        return f"{mailbox}: no instance holds it" + ("" if row is None else " (released)")
    left = (row.expires_at - now).total_seconds()
    if left <= 0:
        return (f"{mailbox}: the lease of {row.holder} ran out {-left:.0f}s ago; the next "
                "instance to poll takes it")
    return f"{mailbox}: polled by {row.holder} (lease renewed, {left:.0f}s left)"


def _renew(conn: Connection, mailbox: str, me: str, rules: LeaseRules, now: datetime,
           generation: int | None = None, dead: str | None = None) -> int | None:
    """The guarded UPDATE; the generation held afterwards, or None if another holds it.
    With `generation` (the fence) only the holder at that generation passes; with `dead`,
    that holder may be replaced too."""
    table = _TABLE
    guard = ((table.c.holder == me) & (table.c.generation == generation) if generation is not None
             else (table.c.holder == me) | (table.c.expires_at <= now))
    if dead is not None:
        guard = guard | (table.c.holder == dead)
    result = conn.execute(
        update(table).where(table.c.mailbox == mailbox, guard).values(
            holder=me, expires_at=rules.expiry(now), heartbeat_at=now,
            generation=case((table.c.holder == me, table.c.generation),
                            else_=table.c.generation + 1),
        ).returning(table.c.generation))
    row = result.first()
    return None if row is None else int(row[0])


def _fence(conn: Connection, lease: Lease, now: datetime) -> bool:
    """Whether `lease` is still this instance's at its generation (renewing it if so)."""
    return conn.execute(_FENCE, {"b_mailbox": lease.mailbox, "b_me": lease.me,
                                 "b_generation": lease.generation,
                                 "b_expires_at": lease.rules.expiry(now), "b_now": now}
                        ).rowcount == 1


def _fenced_mailboxes(context: Any) -> list[str]:
    """The mailboxes a statement writes for: those of the intake records it inserts, or the
    one named by FENCE_OPTION (an intake group's first statement, store/intake_queries.py).

    Worked out once per statement and kept on its context: an executemany of n rows runs the
    cursor (and so the fence's check) once per batch, which may be once per row, and reading
    all n rows' parameters each time made inserting 12,000 intake records take minutes."""
    if context is None:
        return []
    found: list[str] | None = getattr(context, _FENCED_ON, None)
    if found is None:
        found = _mailboxes_of(context)
        setattr(context, _FENCED_ON, found)
    return found


def _mailboxes_of(context: Any) -> list[str]:
    named = context.execution_options.get(FENCE_OPTION)
    if isinstance(named, str):
        return [named]
    compiled = getattr(context, "compiled", None)
    if compiled is None or not context.isinsert:
        return []
    if getattr(compiled.statement, "table", None) is None \
            or compiled.statement.table.name != _FENCED:
        return []
    found = [p.get("mailbox") for p in context.compiled_parameters]
    if not found or not all(isinstance(m, str) for m in found):
        # A shape whose rows' mailboxes are not plain "mailbox" parameters (a multi-row
        # VALUES, a renamed bind): refused rather than let through unchecked.
        raise UnfencedWrite("an intake INSERT whose mailboxes the lease fence cannot read; "
                            "write intake records one row per parameter set")
    return list(dict.fromkeys(found))


def install_fence(engine: Engine, leases: Mapping[str, Lease], clock: Any) -> None:
    """Make `engine` refuse (LeaseLost) a transaction that writes an intake record of a
    mailbox in `leases` unless that lease is still this instance's at the generation taken.
    `clock()` is "now" for the renewal the check does. Mailboxes not in `leases` pass."""
    key = (_DONE, secrets.token_hex(4))  # this fence's mark on a connection

    def check(conn: Connection, _cursor: Any, statement: str, _parameters: Any,
              context: Any, _executemany: bool) -> None:
        done: set[str] = conn.info.setdefault(key, set())
        mailboxes = _fenced_mailboxes(context)
        if not mailboxes and _TEXT_INTAKE_INSERT.match(statement):
            raise UnfencedWrite("an intake INSERT as SQL text: the lease fence cannot read its "
                                "mailboxes; use the table's insert()")
        for mailbox in mailboxes:
            lease = leases.get(mailbox)
            if lease is None or not lease.active or mailbox in done:
                continue
            if lease.generation is None or not _fence(conn, lease, clock()):
                lease.generation = None
                raise LeaseLost(f"this instance ({lease.me}) no longer holds the lease of the "
                                f"mailbox {mailbox}; another instance serves it")
            done.add(mailbox)
            lease.open_fences += 1
            lease.renewed()  # the check renewed it

    def forget(info: dict[Any, Any]) -> None:
        for mailbox in info.pop(key, ()):
            leases[mailbox].open_fences -= 1

    def ended(conn: Connection) -> None:
        # An invalidated connection (the server restarted) has no `info` to read: reading it
        # raised inside the rollback, which then never finished, and every later use of the
        # connection failed ("Can't reconnect until invalid transaction is rolled back").
        # Its marks were forgotten when it was invalidated.
        if not conn.invalidated:
            forget(conn.info)

    event.listen(engine, "before_cursor_execute", check)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    # A connection that went back to the pool or broke has no transaction open either.
    event.listen(engine, "checkin", lambda _dbapi, record: forget(record.info))
    event.listen(engine, "invalidate", lambda _dbapi, record, _exc: forget(record.info))
