"""Taking a chunk of messages in groups: bodies fetched together, one commit per group.

A chunk's header block decides, message by message, what is to be done (runners/intake.py
`_first_look`); the messages that need their body are then fetched in batches (one UID
FETCH for many, bounded by bytes and by count, a huge message alone), and each batch is one
group: one transaction, every message in it inside its own SAVEPOINT.

The crash barrier per message is kept: a message that fails for its own sake rolls back its
savepoint alone, is quarantined, and the group goes on. A failure of the environment (IMAP,
the disk, the database) rolls the whole group back and ends the pass; nothing of the group
is recorded, and the next pass takes it again. The intake record per UID is what makes a
message taken, so a group that commits is taken once, and a group that does not is not taken
at all. The last UID moves with the group, in its transaction.

A plain new complaint (`_plain`: nothing to read from the database) has no savepoint: its
rows are kept and written with the group's other plain ones, one executemany per table
(store/group_rows.py), and dropped from what is kept should it fail.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from mailflow.adapters.clock import Clock
from mailflow.adapters.imap import FetchedHeader, ImapSession
from mailflow.config import Config
from mailflow.core.intake_rules import Decision, Kind, content_key, message_key
from mailflow.core.parse import ParsedMessage
from mailflow.core.parse.spill import Reduced
from mailflow.errors import MailboxBusy, TransientError
from mailflow.runners.handlers import Handlers
from mailflow.runners.intake_stats import IntakeStats
from mailflow.runners.known_keys import KnownKeys
from mailflow.runners.tracing import Tracer
from mailflow.store import intake_queries, queries, trace
from mailflow.store.db import (
    Engine,
    IntegrityError,
    Session,
    statement_refused,
    transaction,
    unavailable,
)
from mailflow.store.files import FileStore
from mailflow.store.group_rows import GroupRows, GroupRowsFailed, buffering
from mailflow.store.models import IntakeRecord, Quarantine
from mailflow.store.spool import MessageSpool
from mailflow.vocabulary import IntakeOutcome

log = logging.getLogger(__name__)

# One group: at most this many messages, and bodies of at most this many bytes together
# (RFC822.SIZE from the header fetch); a message larger than that is fetched alone.
GROUP_MESSAGES = 100
GROUP_BYTES = 4 * 1024 * 1024
# A message larger than this is fetched in pieces to a file and its long base64 runs are
# decoded to files of their own before it is parsed (store/spool.py), not held in memory.
SPOOL_ABOVE = 8 * 1024 * 1024


class Look(Enum):
    """What the header block said, before the group's transaction."""

    DONE = "done"  # an intake record exists: taken by an earlier pass
    DECIDED = "decided"  # a decision from the header block (core/intake_rules.py)
    FAILED = "failed"  # reading the header block failed: quarantined in the group


@dataclass
class Item:
    header: FetchedHeader
    look: Look
    decision: Decision | None = None
    head: ParsedMessage | None = None
    failure: str = ""
    spool: MessageSpool | None = None  # a large message's files while it is taken
    parsed: ParsedMessage | None = None  # its body parsed before the group's transaction

    def needs_body(self, max_bytes: int) -> bool:
        return (self.look is Look.DECIDED and self.decision is not None
                and self.decision.kind not in (Kind.SKIP, Kind.IGNORE)
                and self.header.size <= max_bytes)

    def fetched_with_group(self, max_bytes: int) -> bool:
        return self.needs_body(max_bytes) and self.header.size <= SPOOL_ABOVE


def groups(items: Sequence[Item], max_bytes: int) -> Iterator[list[Item]]:
    """`items` in order, cut into groups of at most GROUP_MESSAGES, whose bodies to fetch
    come to at most GROUP_BYTES together (one larger than that is alone with its neighbours
    that need no body)."""
    messages, body_bytes = GROUP_MESSAGES, GROUP_BYTES
    group: list[Item] = []
    size = 0
    for item in items:
        need = item.header.size if item.needs_body(max_bytes) else 0
        if group and (len(group) >= messages or (need and size and size + need > body_bytes)):
            yield group
            group, size = [], 0
        group.append(item)
        size += need
    if group:
        yield group


def _may_read_or_make(item: Item) -> bool:
    """Whether a message taken in its savepoint may read the database or make a ticket: the
    group's kept rows are written before it (it would not see them; its ticket's number and id
    follow theirs). Written before its savepoint, never inside one whose rollback would take
    them along. Taken before, done, skipped, ignored, quarantined: none of these."""
    if item.look is not Look.DECIDED or item.decision is None:
        return False
    if item.decision.kind is Kind.SKIP:
        return item.head is None or bool(item.head.in_reply_to or item.head.references)
    return item.decision.kind is not Kind.IGNORE


class UnreadableMessage(Exception):
    """A message whose full reading contradicts its header block; the barrier quarantines it."""


class GroupIntake(ABC):
    """The group half of `Intake` (runners/intake.py), which provides `_take` and the rest."""

    cfg: Config
    engine: Engine
    handlers: Handlers
    files: FileStore
    clock: Clock
    tracer: Tracer
    stop_requested: Callable[[], bool]
    known: KnownKeys  # what the current group read of its keys (`_load_known`)

    @abstractmethod
    def _take(self, session: Session, imap: ImapSession, header: FetchedHeader, raw: bytes,
              stats: IntakeStats, spooled: tuple[MessageSpool, Reduced] | None = None,
              parsed: ParsedMessage | None = None) -> None:
        """Take one message whose body is in hand (or `spooled`: on disk, and `raw` is its
        reduced form; `parsed`: read already), inside its savepoint (Intake._take)."""

    @abstractmethod
    def _parse_ahead(self, raw: bytes) -> ParsedMessage:
        """A message of the group parsed before its transaction (Intake._parse_ahead)."""

    @abstractmethod
    def _load_known(self, session: Session, group: list[Item]) -> None:
        """Which of the group's messages may be known already, in one go (Intake)."""


    @abstractmethod
    def _thread_reply(self, head: ParsedMessage, session: Session) -> Decision | None:
        """The ticket a reply without a number cites, if any (Intake._thread_reply)."""

    def _run_items(self, imap: ImapSession, items: list[Item], stats: IntakeStats) -> bool:
        """Take `items` group by group; False when a stop was requested (the pass ends)."""
        max_bytes = self.cfg.storage.max_message_bytes
        try:
            for group in groups(items, max_bytes):
                wanted = [item.header.uid for item in group if item.fetched_with_group(max_bytes)]
                bodies = imap.fetch_bodies(wanted) if wanted else {}
                if not self._commit_group(imap, group, bodies, stats):
                    return False
                del bodies  # the group's bodies go before the next batch comes
            return True
        finally:
            items.clear()

    def _commit_group(self, imap: ImapSession, group: list[Item], bodies: dict[int, bytes],
                      stats: IntakeStats) -> bool:
        """One transaction for the group; False if a stop came before its end.

        Its plain new complaints keep their rows for one write per table (store/group_rows.py);
        should that write fail for a reason of its own, the group is rolled back and taken
        again with every message in its savepoint, where the one at fault is quarantined."""
        before = stats.mark()
        try:
            return self._commit_group_once(imap, group, bodies, stats, keep_rows=True)
        except GroupRowsFailed as exc:
            # Nothing of the group was committed, and its log lines of tickets made were not.
            log.warning("intake group from uid=%d (%d messages) not written together: %s; "
                        "taking it again message by message", group[0].header.uid, len(group),
                        exc)
            log.debug("group write failure detail", exc_info=True)
            stats.restore(before)
            self.tracer.take_skipped()
            self.handlers.gate.forget()
            return self._commit_group_once(imap, group, bodies, stats, keep_rows=False)

    def _commit_group_once(self, imap: ImapSession, group: list[Item], bodies: dict[int, bytes],
                           stats: IntakeStats, *, keep_rows: bool) -> bool:
        going = True
        for item in group:
            raw = bodies.get(item.header.uid)
            if raw is not None:
                # Parsed before the write lock is taken; a failure is left to the barrier,
                # which parses it again inside the message's savepoint.
                try:
                    item.parsed = self._parse_ahead(raw)
                except Exception:  # noqa: BLE001 - see above
                    item.parsed = None
        rows = GroupRows(sum(item.decision is not None and item.decision.kind is Kind.NEW
                             for item in group)) if keep_rows else None
        try:
            with transaction(self.engine) as session:
                last = 0
                for index, item in enumerate(group):
                    # Asked before the group's first write as well: a lease renewal it does (from
                    # another connection) must not wait for this transaction's write lock; after
                    # that write the lease is renewed inside the group (store/lease.py FENCE_OPTION).
                    if self.stop_requested():
                        # The messages in hand are committed; the next pass starts at this one.
                        log.info("intake pass stopped before uid=%d examined=%d",
                                 item.header.uid, stats.examined)
                        going = False
                        break
                    if index == 0:
                        self._open_group(session, imap, group)
                        self._load_known(session, group)
                    stats.examined += 1
                    raw = bodies.get(item.header.uid)
                    if rows is not None and self._plain(item):
                        self._plain_item(session, imap, item, raw, stats, rows)
                    else:
                        if rows is not None and _may_read_or_make(item):
                            rows.flush(session)
                        self._item(session, imap, item, raw, stats)
                    last = item.header.uid
                if rows is not None:
                    rows.flush(session)
                trace.add_skipped(session, self.tracer.take_skipped())
                queries.set_last_uid(session, imap.mailbox_key, last)
        finally:
            self.known.clear()  # also when the group failed: the next one reads afresh
        return going

    def _open_group(self, session: Session, imap: ImapSession, group: list[Item]) -> None:
        intake_queries.begin_group(session, imap.mailbox_key)
        # The per-address mail limits of everyone the group may answer, in one query.
        self.handlers.gate.prefetch(session, [
            *(item.head.from_addr for item in group if item.head and item.head.from_addr),
            *(member.email for member in self.cfg.staff)], self.clock())

    # -- one plain new complaint: its rows kept for the group -------------------------------

    def _plain(self, item: Item) -> bool:
        """A new complaint whose handling needs nothing read from the database: no ticket it
        may belong to (number, thread), not from staff (commands, recordings), no key the
        group may already know (a resend, a repeat). Its attachments' files are saved as it
        is taken (by their content: a retake saves nothing new), their rows kept with the
        rest. Anything read all the same (a mail limit's count) first writes the kept rows."""
        msg, decision = item.parsed, item.decision
        if (item.look is not Look.DECIDED or decision is None or decision.kind is not Kind.NEW
                or decision.ticket_number or msg is None
                or msg.in_reply_to or msg.references
                or self.cfg.staff_member(msg.from_addr) is not None):
            return False
        content = content_key(msg)
        return not (self.known.may_be_known(message_key(msg))
                    or (content is not None and self.known.may_be_known(content)))

    def _plain_item(self, session: Session, imap: ImapSession, item: Item, raw: bytes | None,
                    stats: IntakeStats, rows: GroupRows) -> None:
        """`_item` without a savepoint: the message's rows are kept in `rows` and dropped
        from it should it fail, which then quarantines it as `_item` would."""
        rows.begin_message()
        try:
            with buffering(session, rows):
                self._act(session, imap, item, raw, stats)
            rows.end_message()
        except (TransientError, GroupRowsFailed):
            raise
        except Exception as exc:
            rows.drop_message()
            if statement_refused(exc):
                # Without a savepoint, PostgreSQL now refuses every later statement of the
                # group: taken again one by one, the message's savepoint keeps this its own.
                raise GroupRowsFailed(f"uid {item.header.uid}: the database refused a "
                                      f"statement ({type(exc).__name__})") from exc
            self._failed(session, imap, item, raw, stats, exc)
        finally:
            item.parsed = None

    # -- one message: the crash barrier -----------------------------------------------------

    def _item(self, session: Session, imap: ImapSession, item: Item, raw: bytes | None,
              stats: IntakeStats) -> None:
        if item.look is Look.DONE:
            stats.already_done += 1
            return
        try:
            with session.begin_nested():
                self._act(session, imap, item, raw, stats)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 - the crash barrier; _failed sorts it out
            self._failed(session, imap, item, raw, stats, exc)
        finally:
            item.parsed = None
            if item.spool is not None:
                item.spool.close()
                item.spool = None

    def _failed(self, session: Session, imap: ImapSession, item: Item, raw: bytes | None,
                stats: IntakeStats, exc: Exception) -> None:
        """The crash barrier: the message's own failure quarantines it; the environment's ends
        the pass."""
        header = item.header
        if isinstance(exc, IntegrityError):
            # Another process wrote the same row at the same moment: not the message's
            # fault. The pass ends; the next one finds what the other process did.
            raise MailboxBusy(f"another process took uid {header.uid} at the same "
                              "moment") from exc
        outage = unavailable(exc)
        if outage is not None:
            # The database is locked, full or read-only: nothing is the message's fault.
            raise outage from exc
        self.handlers.gate.forget()  # its counts may include what was rolled back
        # The exception text may quote the message, so the log names only its type.
        log.error("message failed uid=%d error=%s", header.uid, type(exc).__name__)
        log.debug("message failure detail", exc_info=True)
        # A spooled message is kept as the server gave it, not in its reduced form.
        kept = item.spool.raw_path if item.spool is not None else raw
        self._quarantine(session, imap, header, kept, f"uid:{header.uid}",
                         f"{type(exc).__name__}: {exc}", stats)

    def _act(self, session: Session, imap: ImapSession, item: Item, raw: bytes | None,
             stats: IntakeStats) -> None:
        header, decision, head = item.header, item.decision, item.head
        if item.look is Look.FAILED or decision is None or head is None:
            self._quarantine(session, imap, header, None, f"uid:{header.uid}", item.failure,
                             stats)
            return
        if decision.kind is Kind.SKIP and (head.in_reply_to or head.references):
            # In the group's transaction: a reply to a ticket made earlier in this group counts.
            decision = self._thread_reply(head, session) or decision
        if decision.kind is Kind.SKIP:
            stats.skipped += 1
            log.debug("skipped uid=%d reason=%s", header.uid, decision.reason)
            self.tracer.skip(imap.mailbox_key, imap.uidvalidity, header, decision.reason, head,
                             self.clock())
            return
        if header.size > self.cfg.storage.max_message_bytes:
            reason = (f"message too large ({header.size} bytes > "
                      f"{self.cfg.storage.max_message_bytes})")
            self._quarantine(session, imap, header, None, f"size:{header.uid}", reason, stats)
            return
        if decision.kind is Kind.IGNORE:
            self._record_ignored(session, imap, header, decision, stats, head)
            return
        if raw is None and header.size > SPOOL_ABOVE:
            item.spool = MessageSpool(self.files.directory, header.uid)
            if imap.fetch_to(header.uid, item.spool.write, size=header.size) is not None:
                reduced = item.spool.reduce()
                log.info("spooled uid=%d bytes=%d spilled=%d", header.uid, item.spool.size,
                         len(reduced.spills))
                self._take(session, imap, header, reduced.data, stats, (item.spool, reduced))
                return
        elif raw is None:
            raw = imap.fetch_raw(header.uid)  # a reply found by its thread, or vanished
        if raw is None:
            log.warning("message vanished before its body was fetched uid=%d", header.uid)
            return
        self._take(session, imap, header, raw, stats, parsed=item.parsed)

    # -- records without a ticket -----------------------------------------------------------

    def _record_ignored(self, session: Session, imap: ImapSession, header: FetchedHeader,
                        decision: Decision, stats: IntakeStats, head: ParsedMessage) -> None:
        """Not a complaint (auto-reply, bounce, our own mail): recorded, never answered."""
        session.add(IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                 uid=header.uid, message_key=f"uid:{header.uid}",
                                 decision=IntakeOutcome.IGNORED, reason=decision.reason,
                                 created_at=self.clock(), **self.tracer.fields(header, head)))
        stats.ignored += 1
        log.info("ignored uid=%d reason=%s", header.uid, decision.reason)

    def _quarantine(self, session: Session, imap: ImapSession, header: FetchedHeader,
                    raw: bytes | Path | None, key: str, reason: str, stats: IntakeStats) -> None:
        """`raw`: the message's bytes, or its spool file (a large one), or None (not fetched)."""
        raw_path = None
        if raw is not None:
            raw_path = self.files.save_quarantined(f"{imap.uidvalidity}-{header.uid}", raw)
        now = self.clock()
        session.add(Quarantine(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                               uid=header.uid, message_key=key, reason=reason[:2000],
                               raw_path=raw_path, created_at=now))
        session.add(IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                 uid=header.uid, message_key=key,
                                 decision=IntakeOutcome.QUARANTINED, reason=reason[:500],
                                 created_at=now, **self.tracer.fields(header, None)))
        stats.quarantined += 1
        # The reason may quote an exception that quotes the message (a name, a NIK): the log
        # gets only what precedes its first ":" (the exception's type); the row keeps it all.
        log.error("quarantined uid=%d reason=%s", header.uid, reason.split(":", 1)[0][:300])
