"""One intake pass over one mailbox: new messages -> decisions -> tickets and outbox rows.

Each message is one unit of work, all or nothing: its intake record, its ticket, identity,
attachments, first event and acknowledgement, in a savepoint of its group's transaction,
which commits with the new last UID (runners/intake_batch.py). The mailbox is marked only
afterwards, and the database is checked before anything is created, so a crash at any
point neither loses a complaint nor makes a second ticket.
Marking comes last in a pass, is best effort, and never blocks intake (runners/marking.py).

The crash barrier: a message that fails for its own sake (a parser or decision bug, a
hostile message) is rolled back alone, quarantined with its reason, and the pass goes on.
A failure of the environment (IMAP, the disk, the database) is not the message's fault: it
ends the pass, its group stays unrecorded, and the next pass takes it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailflow.adapters.clock import Clock
from mailflow.adapters.imap import FetchedHeader, ImapSession, ImapSource
from mailflow.config import Config
from mailflow.core.first_start import Boundary, predates_reason, predates_ticket, skipped
from mailflow.core.intake_rules import (
    Decision,
    Kind,
    Route,
    classify,
    content_key,
    message_key,
    not_complaint_reason,
    route,
)
from mailflow.core.parse import ParsedMessage, Spilled, SpillUnresolved, parse_head, parse_message
from mailflow.core.parse.spill import Reduced
from mailflow.core.suggestion_box import PHRASE as BOX_PHRASE
from mailflow.core.suggestion_box import is_opening_subject
from mailflow.errors import TransientError
from mailflow.runners.first_start import (
    backlog_due,
    backlog_uids,
    boundary_of,
    old_message,
    open_state,
    record_before_start,
)
from mailflow.runners.handlers import Handlers
from mailflow.runners.intake_batch import GroupIntake, Item, Look, UnreadableMessage
from mailflow.runners.intake_stats import IntakeStats
from mailflow.runners.known_keys import KnownKeys
from mailflow.runners.marking import Marker
from mailflow.runners.tracing import Tracer
from mailflow.store import cited_mail, intake_queries, queries, trace
from mailflow.store.db import Engine, Session, outage_as_unavailable, transaction
from mailflow.store.files import FileStore
from mailflow.store.models import Ticket
from mailflow.store.spool import MessageSpool
from mailflow.vocabulary import IntakeOutcome

log = logging.getLogger(__name__)

# Messages without a readable subject are re-read whole up to this size.
_SMALL_ENOUGH = 5 * 1024 * 1024


class Intake(GroupIntake):
    def __init__(self, cfg: Config, engine: Engine, handlers: Handlers, files: FileStore,
                 clock: Clock, stop_requested: Callable[[], bool] = lambda: False) -> None:
        """`stop_requested` is asked between messages: True ends the pass there (SIGTERM)."""
        self.cfg = cfg
        self.stop_requested = stop_requested
        self.engine = engine
        self.handlers = handlers
        self.files = files
        self.clock = clock
        self.own_addresses = {cfg.smtp.from_address.lower(), cfg.imap.username.lower()}
        self.zone = ZoneInfo(cfg.calendar.timezone)
        # Trace fields of each record; skipped messages are queued and written by _advance.
        self.tracer = Tracer(files)
        self.marker = Marker(engine, clock)
        self.known = KnownKeys()  # the current group's (runners/known_keys.py)

    # -- the pass ---------------------------------------------------------------------------

    def run(self, source: ImapSource) -> IntakeStats:
        """One pass. A database that goes away mid-pass (a restart, a full disk) is an outage
        whatever statement meets it, as in a message's own savepoint: StorageUnavailable, and
        the group it was writing is rolled back and taken again by the next pass."""
        with outage_as_unavailable():
            return self._run(source)

    def _run(self, source: ImapSource) -> IntakeStats:
        stats = IntakeStats()
        with source.session() as imap:
            last_uid, boundary, backlog = self._start(imap)
            if backlog and not self._backlog(imap, boundary, last_uid, stats):
                return stats
            uids = [] if imap.nothing_new(last_uid) else imap.new_uids(last_uid)
            if not self._examine(imap, uids, boundary, stats):
                return stats
            self.marker.mark_pending(imap)  # last, after new mail: it may fail (see marking.py)
        if stats.before_start:
            log.info("not taken: %d message(s) in the mailbox before mailflow's first start, "
                     "%d with a complaint subject (recorded); [intake] take_since chooses a day "
                     "to take them from", stats.before_start, stats.before_start_recorded)
        # An idle pass says nothing at INFO: a daemon polling every minute would fill the journal.
        log.log(
            logging.INFO if stats.examined else logging.DEBUG,
            "intake pass done examined=%d tickets=%d replies=%d skipped=%d ignored=%d "
            "duplicates=%d quarantined=%d",
            stats.examined, stats.tickets, stats.replies, stats.skipped, stats.ignored,
            stats.duplicates, stats.quarantined,
        )
        return stats

    def _examine(self, imap: ImapSession, uids: Sequence[int], boundary: Boundary,
                 stats: IntakeStats, *, advance: bool = True) -> bool:
        """Examine `uids` in chunks; False when a stop was requested (the pass ends there).

        Each chunk's header block is read first; the messages are then taken in groups
        (runners/intake_batch.py), in UID order, old ones recorded between them."""
        chunk = self.cfg.imap.fetch_chunk
        for start in range(0, len(uids), chunk):
            headers = imap.fetch_headers(uids[start:start + chunk])
            with Session(self.engine) as session:
                done = queries.intake_uids(session, imap.mailbox_key, imap.uidvalidity,
                                           [h.uid for h in headers])
            old: list[FetchedHeader] = []
            items: list[Item] = []
            for header in headers:
                if skipped(boundary, header.uid, header.internaldate):
                    if items and not self._run_items(imap, items, stats):
                        return self._stopped(imap)
                    old.append(header)
                    continue
                self._record_old(imap, old, stats)
                items.append(self._first_look(imap, header, header.uid in done))
            if items and not self._run_items(imap, items, stats):
                return self._stopped(imap)
            self._record_old(imap, old, stats)
            # Without `advance` (old mail) the skipped records are written, not the last UID.
            self._advance(imap, uids[min(start + chunk, len(uids)) - 1] if advance else 0)
        return True

    def _stopped(self, imap: ImapSession) -> bool:
        # Not advancing the last UID past the stop: the next pass starts at that message.
        self._advance(imap, 0)  # keeps the skipped records, not the UID
        return False

    def _start(self, imap: ImapSession) -> tuple[int, Boundary, bool]:
        """The last UID seen, the first start's boundary, and whether old mail is to be looked
        at again (take_since moved earlier); a new UIDVALIDITY means old UIDs mean nothing."""
        take_since = self.cfg.intake.take_since
        with transaction(self.engine) as session:
            state = open_state(session, imap, take_since, self.clock())
            return (state.last_uid, boundary_of(state, take_since, self.zone),
                    backlog_due(state, take_since))

    def _backlog(self, imap: ImapSession, boundary: Boundary, last_uid: int,
                 stats: IntakeStats) -> bool:
        """Take the old messages that `[intake] take_since` now covers. The mailbox, not the
        records, says which: a crash after a record was dropped finds its message again, and
        the backlog counts as done only once all of it was looked at."""
        chosen_uids = backlog_uids(imap, boundary, last_uid, self.cfg.imap.fetch_chunk)
        log.info("taking old mail since [intake] take_since=%s: %d message(s)",
                 self.cfg.intake.take_since, len(chosen_uids))
        with transaction(self.engine) as session:
            queries.forget_before_start(session, imap.mailbox_key, imap.uidvalidity, chosen_uids)
        if not self._examine(imap, chosen_uids, boundary, stats, advance=False):
            return False
        with transaction(self.engine) as session:
            state = queries.mailbox_state(session, imap.mailbox_key)
            if state is not None:
                state.backlog_since = self.cfg.intake.take_since
        return True

    def _record_old(self, imap: ImapSession, old: list[FetchedHeader], stats: IntakeStats) -> None:
        """Record the old messages whose subject matches; the rest are passed, as new ones are."""
        if old:
            worth = [m for m in (old_message(h, self._classify) for h in old) if m is not None]
            with transaction(self.engine) as session:
                record_before_start(session, imap.mailbox_key, imap.uidvalidity, worth,
                                    old[-1].uid, self.clock())
            stats.before_start += len(old)
            stats.before_start_recorded += len(worth)
            old.clear()

    def _advance(self, imap: ImapSession, uid: int) -> None:
        skipped = self.tracer.take_skipped()
        with transaction(self.engine) as session:
            trace.add_skipped(session, skipped)
            queries.set_last_uid(session, imap.mailbox_key, uid)

    # -- the header block ---------------------------------------------------------------------

    def _first_look(self, imap: ImapSession, header: FetchedHeader, done: bool) -> Item:
        """The decision from the header block alone, so unrelated mail is never downloaded."""
        if done:
            return Item(header, Look.DONE)
        try:
            head = parse_head(header.header)
            decision = self._classify(head)
            if decision.kind is Kind.SKIP and not head.subject and header.size <= _SMALL_ENOUGH:
                # No subject in the header block the server returned (CR-only line endings or
                # a server quirk): judge the whole message rather than risk overlooking one.
                raw_whole = imap.fetch_raw(header.uid)
                if raw_whole is not None:
                    decision = self._classify(parse_message(raw_whole))
            return Item(header, Look.DECIDED, decision, head)
        except TransientError:
            raise
        except Exception as exc:
            log.error("message failed uid=%d error=%s", header.uid, type(exc).__name__)
            log.debug("message failure detail", exc_info=True)
            return Item(header, Look.FAILED, failure=f"{type(exc).__name__}: {exc}")

    def _thread_reply(self, head: ParsedMessage, session: Session) -> Decision | None:
        """A reply whose subject lost the ticket number still belongs to the ticket it cites."""
        ticket = queries.ticket_by_reference(session, [*head.in_reply_to, *head.references],
                                             self.cfg.scope)
        if ticket is None:
            return None
        reason = not_complaint_reason(head, self.own_addresses)
        if reason is not None:
            return Decision(Kind.IGNORE, reason, ticket.number)
        return Decision(Kind.REPLY, "replies to a ticket's message", ticket.number)

    def _classify(self, msg: ParsedMessage) -> Decision:
        # Staff also write "Kotak Saran" to record a suggestion-box opening.
        staff = self.cfg.staff_member(msg.from_addr) is not None
        phrases = [*self.cfg.intake.subject_phrases, *((BOX_PHRASE,) if staff else ())]
        return classify(msg, phrases, self.cfg.tickets.prefix, self.own_addresses)

    # -- taking a message -------------------------------------------------------------------

    def _take(self, session: Session, imap: ImapSession, header: FetchedHeader, raw: bytes,
              stats: IntakeStats, spooled: tuple[MessageSpool, Reduced] | None = None,
              parsed: ParsedMessage | None = None) -> None:
        """Parse, decide and act in the group's transaction, inside the message's savepoint."""
        msg, raw = (parsed, raw) if parsed is not None else self._parse(header, raw, spooled)
        for problem in msg.problems:
            log.info("parse note uid=%d: %s", header.uid, problem)
        decision = self._classify(msg)
        if decision.kind is Kind.SKIP:
            decision = self._thread_reply(msg, session) or decision
        if decision.kind is Kind.SKIP:
            # Its header block was taken, the whole message is not: parsing lost what the
            # headers said. Recording "subject does not match" would drop it in silence.
            raise UnreadableMessage(f"the headers were taken but the whole message was not "
                                    f"({decision.reason}); parse notes: {'; '.join(msg.problems)}")
        key = message_key(msg)
        outcome, ticket, reason = self._handle(session, decision, msg, header, raw, key)
        self.known.taken(key, content_key(msg))  # a later message of the group may repeat it
        intake_queries.add_intake_record(
            session, mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity, uid=header.uid,
            message_key=key, decision=outcome, reason=reason,
            ticket_id=ticket.id if ticket else None, created_at=self.clock(),
            **self.tracer.fields(header, msg))
        stats.count(outcome, ticket.number if ticket is not None else None)

    def _parse_ahead(self, raw: bytes, spills: Mapping[str, Spilled] | None = None
                     ) -> ParsedMessage:
        """The message under this village's attachment limits (before the group, or in it)."""
        storage = self.cfg.storage
        return parse_message(raw, max_attachments=storage.max_attachments,
                             max_attachment_bytes=storage.max_attachment_bytes, spills=spills)

    def _load_known(self, session: Session, group: list[Item]) -> None:
        self.known.load(session, self.cfg.scope,
                        (item.parsed for item in group if item.parsed is not None),
                        self._repeat_since())

    def _repeat_since(self) -> datetime:
        """The start of the window in which the same words again are a repeat."""
        return self.clock() - timedelta(hours=self.cfg.limits.repeat_window_hours)

    def _parse(self, header: FetchedHeader, raw: bytes,
               spooled: tuple[MessageSpool, Reduced] | None) -> tuple[ParsedMessage, bytes]:
        """The message, and the bytes its sender's proof is checked on: for a spooled one the
        reduced form, or the whole of it when its reduction was a wrong guess (spill.py) or
        when a staff member sent it (DKIM signs every byte)."""
        if spooled is None:
            return self._parse_ahead(raw), raw
        spool, reduced = spooled
        try:
            msg = self._parse_ahead(raw, reduced.spills)
        except SpillUnresolved as exc:
            log.info("spooled uid=%d read whole: %s", header.uid, exc)
            raw = spool.whole()
            return self._parse_ahead(raw), raw
        if self.cfg.staff_member(msg.from_addr) is not None:
            raw = spool.whole()
        return msg, raw

    def _handle(self, session: Session, decision: Decision, msg: ParsedMessage,
                header: FetchedHeader, raw: bytes, key: str
                ) -> tuple[IntakeOutcome, Ticket | None, str]:
        """Route the message and let the handler act, in the message's transaction."""
        # The same message delivered twice (or seen again after a UIDVALIDITY change) must
        # not make a second ticket nor apply its commands twice.
        scope = self.cfg.scope
        existing = None
        if self.known.may_be_known(key):
            existing = (queries.ticket_by_key(session, key, scope)
                        or queries.ticket_of_taken_reply(session, key, scope))
        target = None if existing else self._reply_target(session, decision, msg)
        repeat = None if existing or target else self._repeat_of(session, decision, msg)
        member = self.cfg.staff_member(msg.from_addr)
        way = route(decision, existing is not None or repeat is not None, target is not None,
                    member is not None)
        if way is Route.IGNORE:
            log.info("ignored uid=%d reason=%s", header.uid, decision.reason)
            return IntakeOutcome.IGNORED, None, decision.reason
        if way is Route.DUPLICATE and existing is not None:
            log.info("duplicate uid=%d ticket=%s", header.uid, existing.number)
            return (IntakeOutcome.DUPLICATE, existing,
                    f"same message as one already taken for {existing.number}")
        if way is Route.DUPLICATE and repeat is not None:
            log.info("repeat uid=%d ticket=%s; no new ticket, no acknowledgement", header.uid,
                     repeat.number)
            return (IntakeOutcome.DUPLICATE, repeat,
                    f"repeat of {repeat.number}: same sender, subject and text within "
                    f"{self.cfg.limits.repeat_window_hours} h (a resend or a mail loop)")
        if way is Route.STAFF_REPLY and target is not None and member is not None:
            return (IntakeOutcome.STAFF, target, self.handlers.staff_reply(
                session, target, member, msg, raw, header.internaldate))
        if (way is Route.RESIDENT_REPLY and target is not None
                and predates_ticket(header.internaldate, target.created_at)):
            reason = predates_reason(target.number, header.internaldate, target.created_at)
            log.warning("reply uid=%d %s", header.uid, reason)
            return IntakeOutcome.IGNORED, target, reason
        if way is Route.RESIDENT_REPLY and target is not None:
            outcome = self.handlers.resident_reply(session, target, msg, raw)
            log.info("reply added uid=%d ticket=%s outcome=%s", header.uid, target.number, outcome)
            return IntakeOutcome.REPLY, target, outcome
        if member is not None and is_opening_subject(msg.subject):
            return self.handlers.suggestion_box(session, member, msg, raw, header.internaldate, key)
        elsewhere = self._elsewhere(session, msg)
        if elsewhere is not None:
            log.warning("ignored uid=%d reason=%s", header.uid, elsewhere)
            return IntakeOutcome.IGNORED, None, elsewhere
        ticket = self.handlers.new_ticket(session, msg, raw, header.internaldate, key)
        if ticket is None:
            return IntakeOutcome.REFUSED, None, "security: staff recording without proof of sender"
        return IntakeOutcome.TICKET, ticket, decision.reason

    def _repeat_of(self, session: Session, decision: Decision, msg: ParsedMessage) -> Ticket | None:
        """The ticket a would-be new ticket repeats: what stops a robot that answers every
        acknowledgement with the same words, at its first repeat (core content_key)."""
        content = content_key(msg) if decision.kind in (Kind.NEW, Kind.REPLY) else None
        if content is None or not self.known.may_be_known(content):
            return None
        return queries.first_ticket_with_content(session, content, self._repeat_since(),
                                                 self.cfg.scope)

    def _elsewhere(self, session: Session, msg: ParsedMessage) -> str | None:
        """Why a would-be new ticket is another village's business: it answers mail another
        village of this database sent (a staff member replying to Tegal's notification into
        Klero's mailbox). Taken as a complaint here, the text it quotes, the other village's
        reporter's identity included, would reach this village's staff."""
        cited = [*msg.in_reply_to, *msg.references]
        if not cited:
            return None
        other = cited_mail.village_of_cited_mail(session, cited, self.cfg.scope)
        if other is None:
            return None
        return (f"answers mail of village {other}, sent to this village's mailbox: not a "
                "complaint here")

    def _reply_target(self, session: Session, decision: Decision, msg: ParsedMessage) -> Ticket | None:
        if decision.ticket_number:
            found = queries.ticket_by_number(session, decision.ticket_number, self.cfg.scope)
            if found is not None:
                return found
        return queries.ticket_by_reference(session, [*msg.in_reply_to, *msg.references],
                                           self.cfg.scope)
