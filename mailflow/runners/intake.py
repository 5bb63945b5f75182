"""One intake pass: mailbox -> decisions -> tickets and outbox rows.

Each message is one unit of work in one transaction: its intake record, its
ticket, identity, attachments, first event, acknowledgement and the new last UID
commit together. The mailbox is marked only afterwards, and the database is
checked before anything is created, so a crash at any point neither loses a
complaint nor makes a second ticket. A message that fails in an unexpected way is
rolled back, quarantined with its reason, and the pass goes on (the crash barrier).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mailflow.adapters.imap import NETWORK_ERRORS, FetchedHeader, ImapSession, ImapSource
from mailflow.compose.render import Renderer
from mailflow.config import Config, StaffMember
from mailflow.core.commands import parse_staff_reply
from mailflow.core.identity import Identity, extract_identity
from mailflow.core.intake_rules import Decision, Kind, classify, message_key, not_complaint_reason
from mailflow.core.notices import Notices, StoredAttachment
from mailflow.core.parse import ParsedMessage, parse_message
from mailflow.core.reply_text import new_text
from mailflow.core.sender_auth import DnsTxt
from mailflow.core.tickets import assess, format_number
from mailflow.core.workdays import WorkCalendar
from mailflow.runners.resident_replies import ResidentReplies
from mailflow.runners.staff_replies import StaffReplies
from mailflow.store import queries as store
from mailflow.store.db import transaction
from mailflow.store.models import (
    Attachment,
    IntakeRecord,
    MailboxState,
    Quarantine,
    Reporter,
    Ticket,
    TicketEvent,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_CALLER_EMAIL = re.compile(r"(?im)^\s*e-?mail\s*[:=]?\s*<?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>?\s*$")

# Messages without a readable subject are re-read whole up to this size.
_SMALL_ENOUGH = 5 * 1024 * 1024


@dataclass
class IntakeStats:
    examined: int = 0
    skipped: int = 0
    tickets: int = 0
    replies: int = 0
    ignored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    already_done: int = 0
    ticket_numbers: list[str] = field(default_factory=list)


class Intake:
    def __init__(self, cfg: Config, engine: Engine, calendar: WorkCalendar, renderer: Renderer,
                 clock: Clock, dns_txt: DnsTxt | None = None) -> None:
        self.cfg = cfg
        self.engine = engine
        self.calendar = calendar
        self.clock = clock
        self.notices = Notices(cfg, calendar, renderer, clock)
        self.staff_replies = StaffReplies(cfg, self.notices, clock, dns_txt)
        self.resident_replies = ResidentReplies(cfg, self.notices, clock)
        self.own_addresses = {cfg.smtp.from_address.lower(), cfg.imap.username.lower()}

    # -- the pass ---------------------------------------------------------------------------

    def run(self, source: ImapSource) -> IntakeStats:
        stats = IntakeStats()
        with source.session() as imap:
            last_uid = self._start(imap)
            self._mark_pending(imap)
            uids = [] if imap.nothing_new(last_uid) else imap.new_uids(last_uid)
            chunk = self.cfg.imap.fetch_chunk
            for start in range(0, len(uids), chunk):
                for header in imap.fetch_headers(uids[start:start + chunk]):
                    stats.examined += 1
                    self._one(imap, header, stats)
                self._advance(imap, uids[min(start + chunk, len(uids)) - 1])
            self._mark_pending(imap)
        log.info(
            "intake pass done examined=%d tickets=%d replies=%d skipped=%d ignored=%d "
            "duplicates=%d quarantined=%d",
            stats.examined, stats.tickets, stats.replies, stats.skipped, stats.ignored,
            stats.duplicates, stats.quarantined,
        )
        return stats

    def _start(self, imap: ImapSession) -> int:
        """The last UID seen; a new UIDVALIDITY means old UIDs mean nothing any more."""
        with transaction(self.engine) as session:
            state = store.mailbox_state(session, imap.mailbox_key)
            if state is None:
                session.add(MailboxState(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity))
                log.info("mailbox first seen uidvalidity=%d", imap.uidvalidity)
                return 0
            if state.uidvalidity != imap.uidvalidity:
                log.warning("mailbox uidvalidity changed old=%d new=%d; rescanning (duplicates "
                            "are recognised by Message-ID)", state.uidvalidity, imap.uidvalidity)
                state.uidvalidity, state.last_uid = imap.uidvalidity, 0
            return state.last_uid

    def _advance(self, imap: ImapSession, uid: int) -> None:
        with transaction(self.engine) as session:
            _set_last_uid(session, imap.mailbox_key, uid)

    def _mark_pending(self, imap: ImapSession) -> None:
        with Session(self.engine) as session:
            records = store.unmarked_intake(session, imap.mailbox_key, imap.uidvalidity)
            pending = {r.id: r.uid for r in records if r.id is not None}
        if not pending:
            return
        if imap.mark(sorted(pending.values())):
            store.set_marked(self.engine, list(pending))
            log.info("imap marked taken messages count=%d", len(pending))

    # -- one message ------------------------------------------------------------------------

    def _one(self, imap: ImapSession, header: FetchedHeader, stats: IntakeStats) -> None:
        with Session(self.engine) as session:
            if store.intake_exists(session, imap.mailbox_key, imap.uidvalidity, header.uid):
                stats.already_done += 1
                return
        head = parse_message(header.header)
        decision = self._classify(head)
        if decision.kind is Kind.SKIP and not head.subject and header.size <= _SMALL_ENOUGH:
            # No subject in the header block the server returned (CR-only line endings or a
            # server quirk): judge the whole message rather than risk overlooking a complaint.
            raw_whole = imap.fetch_raw(header.uid)
            if raw_whole is not None:
                decision = self._classify(parse_message(raw_whole))
        if decision.kind is Kind.SKIP and (head.in_reply_to or head.references):
            decision = self._thread_reply(head) or decision
        if decision.kind is Kind.SKIP:
            stats.skipped += 1
            log.debug("skipped uid=%d reason=%s", header.uid, decision.reason)
            return
        if header.size > self.cfg.storage.max_message_bytes:
            reason = f"message too large ({header.size} bytes > {self.cfg.storage.max_message_bytes})"
            self._quarantine(imap, header, None, "size:" + str(header.uid), reason, stats)
            return
        if decision.kind is Kind.IGNORE:
            self._record_ignored(imap, header, decision, stats)
            return
        raw: bytes | None = None
        try:
            raw = imap.fetch_raw(header.uid)
            if raw is None:
                log.warning("message vanished before its body was fetched uid=%d", header.uid)
                return
            self._take(imap, header, raw, stats)
        except NETWORK_ERRORS:
            raise
        except Exception as exc:
            # The exception text may quote the message, so the log names only its type.
            log.error("message failed uid=%d error=%s", header.uid, type(exc).__name__)
            log.debug("message failure detail", exc_info=True)
            self._quarantine(imap, header, raw, f"uid:{header.uid}",
                             f"{type(exc).__name__}: {exc}", stats)

    def _thread_reply(self, head: ParsedMessage) -> Decision | None:
        """A reply whose subject lost the ticket number still belongs to the ticket it cites."""
        with Session(self.engine) as session:
            ticket = store.ticket_by_reference(session, [*head.in_reply_to, *head.references])
        if ticket is None:
            return None
        reason = not_complaint_reason(head, self.own_addresses)
        if reason is not None:
            return Decision(Kind.IGNORE, reason, ticket.number)
        return Decision(Kind.REPLY, "replies to a ticket's message", ticket.number)

    def _classify(self, msg: ParsedMessage) -> Decision:
        return classify(msg, self.cfg.intake.subject_phrases, self.cfg.tickets.prefix,
                        self.own_addresses)

    def _take(self, imap: ImapSession, header: FetchedHeader, raw: bytes, stats: IntakeStats) -> None:
        storage = self.cfg.storage
        msg = parse_message(raw, max_attachment_bytes=storage.max_attachment_bytes,
                            max_attachments=storage.max_attachments)
        for problem in msg.problems:
            log.info("parse note uid=%d: %s", header.uid, problem)
        decision = self._classify(msg)
        if decision.kind is Kind.SKIP:
            decision = self._thread_reply(msg) or decision
        key = message_key(msg)
        with transaction(self.engine) as session:
            record = IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                  uid=header.uid, message_key=key, decision="",
                                  created_at=self.clock())
            self._decide(session, record, decision, msg, header, raw, stats)
            session.add(record)
            _set_last_uid(session, imap.mailbox_key, header.uid)

    def _decide(self, session: Session, record: IntakeRecord, decision: Decision,
                msg: ParsedMessage, header: FetchedHeader, raw: bytes, stats: IntakeStats) -> None:
        """Fill in the intake record and create what the decision asks for (same transaction)."""
        if decision.kind in (Kind.IGNORE, Kind.SKIP):
            record.decision, record.reason = "ignored", decision.reason
            stats.ignored += 1
            log.info("ignored uid=%d reason=%s", header.uid, decision.reason)
            return
        existing = store.ticket_by_key(session, record.message_key)
        if existing is None:
            # The same reply delivered twice (or seen again after a UIDVALIDITY change) must
            # not apply its commands twice.
            existing = store.ticket_of_taken_reply(session, record.message_key)
        if existing is not None:
            record.decision, record.ticket_id = "duplicate", existing.id
            record.reason = f"same message as one already taken for {existing.number}"
            stats.duplicates += 1
            log.info("duplicate uid=%d ticket=%s", header.uid, existing.number)
            return
        target = self._reply_target(session, decision, msg)
        member = self.cfg.staff_member(msg.from_addr)
        if target is not None and member is not None:
            outcome = self.staff_replies.handle(session, target, member, msg, raw)
            record.decision, record.ticket_id, record.reason = "staff", target.id, outcome
            stats.replies += 1
            return
        if target is not None:
            outcome = self.resident_replies.handle(session, target, msg)
            record.decision, record.ticket_id, record.reason = "reply", target.id, outcome
            stats.replies += 1
            log.info("reply added uid=%d ticket=%s outcome=%s", header.uid, target.number, outcome)
            return
        ticket = self._create_ticket(session, msg, header, record.message_key)
        record.decision, record.ticket_id, record.reason = "ticket", ticket.id, decision.reason
        stats.tickets += 1
        stats.ticket_numbers.append(ticket.number)

    def _reply_target(self, session: Session, decision: Decision, msg: ParsedMessage) -> Ticket | None:
        if decision.ticket_number:
            found = store.ticket_by_number(session, decision.ticket_number)
            if found is not None:
                return found
        return store.ticket_by_reference(session, [*msg.in_reply_to, *msg.references])

    def _source(self, msg: ParsedMessage) -> tuple[str, str, str | None, StaffMember | None]:
        """(channel, text, reporter's address, recording staff) for a new complaint.

        A staff member records a phone or WhatsApp complaint by writing `#kanal telepon`
        above the caller's details: the caller, not the staff member, is the reporter.
        """
        member = self.cfg.staff_member(msg.from_addr)
        if member is not None:
            commands = parse_staff_reply(new_text(msg.text))
            if commands.channel and commands.channel != "email":
                found = _CALLER_EMAIL.search(commands.message)
                caller = found.group(1).lower() if found else None
                return commands.channel, _CALLER_EMAIL.sub("", commands.message), caller, member
        return "email", msg.text, msg.reply_to or msg.from_addr, None

    def _create_ticket(self, session: Session, msg: ParsedMessage, header: FetchedHeader,
                       key: str) -> Ticket:
        received = header.internaldate
        local = received.astimezone(self.calendar.zone)
        channel, text, reply_to, recorder = self._source(msg)
        extraction = extract_identity(text)
        identity = Identity(**{**extraction.identity.__dict__, "email": reply_to})
        verdict = assess(identity, extraction.description)
        number = format_number(self.cfg.tickets.prefix, local.year,
                               store.next_ticket_number_seq(session, local.year))
        ticket = Ticket(
            number=number, status=verdict.status.value, channel=channel, received_at=received,
            due_date=self.calendar.due_date(received), subject=msg.subject[:500],
            description=extraction.description, missing=",".join(verdict.missing),
            source_message_id=msg.message_id, message_key=key, html_only=msg.html_only,
            created_at=self.clock(),
        )
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        session.add(Reporter(ticket_id=ticket.id, name=identity.name, nik=identity.nik,
                             nik_problem=identity.nik_problem, phone=identity.phone,
                             address=identity.address, email=identity.email))
        saved = self._save_attachments(msg, ticket.id)
        for attachment in saved:
            session.add(attachment)
        session.add(TicketEvent(
            ticket_id=ticket.id, at=self.clock(), actor=recorder.address if recorder else "system",
            kind="created", to_status=ticket.status, message_id=msg.message_id,
            note=("missing: " + ticket.missing if ticket.missing else "")
            + (f" recorded by staff for a {channel} complaint" if recorder else "")))
        if reply_to:
            session.add(self.notices.acknowledgement(ticket, identity, verdict.nik_problem,
                                                     msg.message_id, msg.references, reply_to))
        elif recorder is None:
            log.warning("no reply address ticket=%s; acknowledgement not possible", number)
        if recorder is not None:
            # The staff member needs the number and due date to tell the caller.
            session.add(self.notices.acknowledgement(ticket, identity, verdict.nik_problem,
                                                     msg.message_id, msg.references,
                                                     recorder.email, kind="ack_staff"))
        base = Path(self.cfg.storage.directory)
        stored = [StoredAttachment(a.filename, a.content_type, a.size, base / a.path) for a in saved]
        for notice in self.notices.new_ticket(ticket, identity, stored):
            session.add(notice)
        log.info("ticket created ticket=%s uid=%d channel=%s status=%s due=%s missing=%s "
                 "attachments=%d", number, header.uid, channel, ticket.status, ticket.due_date,
                 ticket.missing or "-", len(msg.attachments))
        return ticket

    def _save_attachments(self, msg: ParsedMessage, ticket_id: int) -> list[Attachment]:
        """Content-addressed files: writing the same attachment twice (a retried pass) is harmless."""
        saved = []
        base = Path(self.cfg.storage.directory)
        for part in msg.attachments:
            digest = hashlib.sha256(part.data).hexdigest()
            relative = Path("attachments") / digest[:2] / digest
            target = base / relative
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_suffix(".part")
                temporary.write_bytes(part.data)
                temporary.replace(target)
            saved.append(Attachment(ticket_id=ticket_id, filename=part.filename,
                                    content_type=part.content_type, size=len(part.data),
                                    sha256=digest, path=str(relative)))
        return saved

    def _record_ignored(self, imap: ImapSession, header: FetchedHeader, decision: Decision,
                        stats: IntakeStats) -> None:
        """Not a complaint (auto-reply, bounce, our own mail): recorded, never answered."""
        with transaction(self.engine) as session:
            session.add(IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                     uid=header.uid, message_key=f"uid:{header.uid}",
                                     decision="ignored", reason=decision.reason,
                                     created_at=self.clock()))
            _set_last_uid(session, imap.mailbox_key, header.uid)
        stats.ignored += 1
        log.info("ignored uid=%d reason=%s", header.uid, decision.reason)

    # -- quarantine -------------------------------------------------------------------------

    def _quarantine(self, imap: ImapSession, header: FetchedHeader, raw: bytes | None, key: str,
                    reason: str, stats: IntakeStats) -> None:
        raw_path = None
        if raw is not None:
            relative = Path("quarantine") / f"{imap.uidvalidity}-{header.uid}.eml"
            target = Path(self.cfg.storage.directory) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
            raw_path = str(relative)
        with transaction(self.engine) as session:
            now = self.clock()
            session.add(Quarantine(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                   uid=header.uid, message_key=key, reason=reason[:2000],
                                   raw_path=raw_path, created_at=now))
            session.add(IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                     uid=header.uid, message_key=key, decision="quarantined",
                                     reason=reason[:500], created_at=now))
            _set_last_uid(session, imap.mailbox_key, header.uid)
        stats.quarantined += 1
        log.error("quarantined uid=%d reason=%s", header.uid, reason[:300])


def _set_last_uid(session: Session, mailbox: str, uid: int) -> None:
    state = store.mailbox_state(session, mailbox)
    if state is not None and uid > state.last_uid:
        state.last_uid = uid
