"""Applying the core's plans inside the open transaction: rows, events and outbox rows.

The core decides (core/new_ticket.py, core/replies.py); a handler only reads what the
decision needs from the store, hands it over as plain data, and writes back what the plan
returns. Every outgoing message is composed here, once, and stored in the same transaction
as its cause, so a crash either keeps both or neither.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from mailflow.adapters.clock import Clock
from mailflow.compose.mime import Composer
from mailflow.config import Config, StaffMember
from mailflow.core.box_opening import refused_opening
from mailflow.core.first_start import predates_problem, predates_reason, predates_ticket
from mailflow.core.identity import Identity
from mailflow.core.intake_rules import content_key
from mailflow.core.mail_limits import Attempt
from mailflow.core.new_ticket import (
    plan_new_ticket,
    plan_refused_recording,
    source_of,
    ticket_year,
)
from mailflow.core.notices import Outgoing
from mailflow.core.parse import ParsedMessage
from mailflow.core.priority_lists import WordLists
from mailflow.core.promise import due_on_resuming
from mailflow.core.replies import ReplyPlan, plan_resident_reply, plan_staff_reply
from mailflow.core.reply_address import Purpose
from mailflow.core.sender_auth import Claim, DkimCheck, Proof, authenticate, signature_digests
from mailflow.core.tickets import EventPlan, TicketFacts, format_number
from mailflow.core.workdays import WorkCalendar
from mailflow.errors import MailflowError
from mailflow.runners.box_opening import record_opening
from mailflow.runners.clock import event_facts, timeline_of
from mailflow.runners.mail_gate import MailGate
from mailflow.store import cited_mail, intake_queries, queries
from mailflow.store.db import Session
from mailflow.store.files import FileStore
from mailflow.store.models import Reporter, Ticket
from mailflow.store.scope import ticket_key
from mailflow.vocabulary import IntakeOutcome, OutboxKind, Status

log = logging.getLogger(__name__)


class Handlers:
    def __init__(self, cfg: Config, calendar: WorkCalendar, composer: Composer, files: FileStore,
                 clock: Clock, dkim: DkimCheck, lists: WordLists | None = None) -> None:
        """`lists`: the priority suggester's word lists, loaded once per Service; None keeps
        every new ticket at the default priority."""
        self.cfg = cfg
        self.lists = lists
        self.calendar = calendar
        self.composer = composer
        self.files = files
        self.clock = clock
        self.dkim = dkim
        self.gate = MailGate(cfg, composer)

    # -- new complaint ----------------------------------------------------------------------

    def new_ticket(self, session: Session, msg: ParsedMessage, raw: bytes, received: datetime,
                   key: str) -> Ticket | None:
        """The new ticket, or None when a staff recording (`#kanal`) is refused for lack of proof."""
        recorder = source_of(msg, self.cfg).recorder
        proof = None
        if recorder is not None:
            proof = self._prove(session, msg, raw, Claim(recorder.address, Purpose.RECORD, None))
            if proof.method is None:
                refused = plan_refused_recording(msg, recorder, self.cfg, proof.reason)
                now = self.clock()
                attempt = Attempt(None, now, msg.message_id, "unproven phone/WhatsApp recording "
                                  f"claiming to be from {recorder.address}")
                self._queue(session, None, refused.outgoing, now, security=True, attempt=attempt)
                log.warning("%s reason=%s", refused.summary, proof.reason)
                return None
        year = ticket_year(received, self.calendar)
        number = format_number(self.cfg.tickets.prefix, year,
                               queries.next_ticket_number_seq(session, self.cfg.scope, year))
        now = self.clock()
        plan = plan_new_ticket(msg, received, number, self.cfg, self.calendar, taken=now,
                               lists=self.lists)
        facts = plan.ticket
        row: dict[str, Any] = dict(
            number=number, status=facts.status, channel=facts.channel, received_at=received,
            priority=facts.priority, priority_reason=facts.priority_reason,
            priority_set_by=facts.priority_set_by, assignee=None, due_date=facts.due_date,
            subject=facts.subject, description=facts.description,
            missing=",".join(facts.missing), source_message_id=plan.source_message_id,
            message_key=ticket_key(self.cfg.scope, key), content_key=content_key(msg),
            html_only=plan.html_only, created_at=now, kind=None,
        )
        # Core INSERTs, not the ORM's unit of work: a fifth of a ticket's cost (issue 10).
        ticket_id = intake_queries.insert_ticket(session, **row)
        # Its values only (number, id), for the mail and the intake record: model_construct
        # skips the ORM's instrumentation (100 us a ticket); adding it to a session would fail
        # loudly (UnmappedInstanceError), never write it twice.
        ticket = Ticket.model_construct(id=ticket_id, **row)
        intake_queries.add_reporter(session, ticket_id, plan.identity)
        for part in msg.attachments:
            stored = self.files.save(part)
            intake_queries.add_attachment(session, ticket_id=ticket_id, filename=part.filename,
                                          content_type=part.content_type, size=stored.size,
                                          sha256=stored.sha256, path=stored.path)
        event = plan.event if proof is None else replace(plan.event, auth=proof.method or "")
        self._record(session, ticket_id, [event], now)
        self._queue(session, ticket, plan.outgoing, now)
        if proof is not None:
            # A staff recording: its signature acts once in the whole database (None).
            queries.use_signatures(session, signature_digests(raw), ticket_id, msg.message_id, now,
                                   None)
        if plan.identity.email is None and plan.recorder is None:
            log.warning("no reply address ticket=%s; acknowledgement not possible", number)
        log.info("ticket created ticket=%s channel=%s status=%s priority=%s due=%s missing=%s "
                 "attachments=%d", number, facts.channel, facts.status, facts.priority,
                 facts.due_date, ticket.missing or "-", len(msg.attachments))
        return ticket

    def suggestion_box(self, session: Session, member: StaffMember, msg: ParsedMessage,
                       raw: bytes, received: datetime, key: str
                       ) -> tuple[IntakeOutcome, Ticket | None, str]:
        """A "Kotak Saran" mail from staff (runners/box_opening.py), proven like a recording:
        without proof nothing is made, the administrator is alerted, the member told. A reply
        to one of mailflow's own mails (a "thank you" to the list of tickets) is no opening."""
        # A reply to the opening-day reminder (OutboxKind.REMINDER) is an opening.
        if OutboxKind.STAFF_NOTE in cited_mail.outbox_kinds(session, msg.in_reply_to, self.cfg.scope):
            return (IntakeOutcome.IGNORED, None,
                    "a reply to mailflow's mail with the suggestion-box subject: not an opening")
        proof = self._prove(session, msg, raw, Claim(member.address, Purpose.RECORD, None))
        now = self.clock()
        if proof.method is None:
            attempt = Attempt(None, now, msg.message_id, "unproven suggestion-box opening "
                              f"claiming to be from {member.address}")
            self._queue(session, None, refused_opening(self.cfg, member, msg.message_id,
                                                       proof.reason),
                        now, security=True, attempt=attempt)
            summary = f"security: unproven suggestion box opening refused claimed_staff={member.name}"
            log.warning("%s reason=%s", summary, proof.reason)
            return IntakeOutcome.REFUSED, None, summary
        opened = record_opening(self, session, member, msg.text, msg.attachments, received,
                                key=key, message_id=msg.message_id, content=content_key(msg))
        first = opened.tickets[0] if opened.tickets else None
        queries.use_signatures(session, signature_digests(raw), first.id if first else None,
                               msg.message_id, now, None)
        return (IntakeOutcome.TICKET if first else IntakeOutcome.STAFF), first, opened.summary

    def queue(self, session: Session, ticket: Ticket | None, outgoing: Iterable[Outgoing],
              now: datetime) -> None:
        """Queue mail through the gate (runners/box_opening.py)."""
        self._queue(session, ticket, outgoing, now)

    # -- replies ----------------------------------------------------------------------------

    def staff_reply(self, session: Session, ticket: Ticket, member: StaffMember,
                    msg: ParsedMessage, raw: bytes, received: datetime) -> str:
        """`received`: the server's INTERNALDATE; a command received before its ticket was
        created names a ticket of an earlier database and is refused (core/first_start.py)."""
        others = tuple(m.address for m in self.cfg.staff)
        proof = self._prove(session, msg, raw,
                            Claim(member.address, Purpose.STAFF, ticket.number, others))
        reporter, identity, facts = _read(session, ticket)
        stale = predates_ticket(received, ticket.created_at)
        refusal = predates_problem(ticket.number, received, ticket.created_at,
                                   self.cfg.calendar.timezone) if stale else None
        # A reply to a receipt without commands gets none back (core/receipts.py: no loops).
        answered = cited_mail.outbox_kinds(session, msg.in_reply_to, self.cfg.scope)
        answers_receipt = OutboxKind.RECEIPT in answered
        plan = plan_staff_reply(facts, identity, member, msg, proof.method, self.cfg, proof.reason,
                                refusal=refusal, answers_receipt=answers_receipt,
                                now=self.clock(), resumed_due=self._resumed_due(session, ticket))
        outcome = self._apply(session, ticket, reporter, plan, msg, raw, proof, None)
        if stale:
            reason = predates_reason(ticket.number, received, ticket.created_at)
            log.warning("staff command %s", reason)
            return f"{outcome}: {reason}"
        return outcome

    def resident_reply(self, session: Session, ticket: Ticket, msg: ParsedMessage,
                       raw: bytes) -> str:
        reporter, identity, facts = _read(session, ticket)
        proof = Proof(None)
        if identity is not None and identity.email and msg.from_addr == identity.email.lower():
            proof = self._prove(session, msg, raw,
                                Claim(msg.from_addr, Purpose.REPORTER, ticket.number))
        plan = plan_resident_reply(facts, identity, msg, self.cfg, proof.method, self.lists,
                                   resumed_due=self._resumed_due(session, ticket))
        # A resident's answer sent to two villages completes the ticket in each.
        return self._apply(session, ticket, reporter, plan, msg, raw, proof, self.cfg.scope)

    def _resumed_due(self, session: Session, ticket: Ticket) -> date | None:
        """The promise's due date should `ticket` leave perlu_data now (the clock stood still
        while it waited, core/promise.py); None when it is not waiting."""
        if ticket.status is not Status.PERLU_DATA:
            return None
        events = event_facts(queries.events_of(session, ticket.id))
        timeline = timeline_of(ticket, events, self.calendar)
        return due_on_resuming(timeline, self.calendar, self.calendar.working_days, self.clock())

    def _prove(self, session: Session, msg: ParsedMessage, raw: bytes, claim: Claim) -> Proof:
        """The sender's proof for `claim`; a copy of an earlier proven message has none."""
        replayed = queries.signatures_used(session, signature_digests(raw), self.cfg.scope)
        return authenticate(msg, raw, claim, self.cfg.commands, self.cfg.smtp.from_address,
                            self.cfg.tickets.prefix, self.dkim, replayed=replayed)

    def _apply(self, session: Session, ticket: Ticket, reporter: Reporter | None,
               plan: ReplyPlan, msg: ParsedMessage, raw: bytes, proof: Proof,
               signature_scope: str | None) -> str:
        """`signature_scope`: where the message's signature may not act again, this village
        (a resident's answer) or every village (None: staff, whose acts could be replayed
        into another village where they are staff too)."""
        now = self.clock()
        ticket.update_from(plan.ticket)
        session.add(ticket)
        if plan.reporter is not None and reporter is not None:
            reporter.update_from(plan.reporter)
            session.add(reporter)
        ticket_id = _flushed_id(session, ticket)
        self._record(session, ticket_id, plan.events, now)
        self._queue(session, ticket, plan.outgoing, now, security=plan.security)
        if proof.method is not None:
            # Proven, applied or refused for its content: its signature never counts again.
            queries.use_signatures(session, signature_digests(raw), ticket_id, msg.message_id, now,
                                   signature_scope)
        if plan.security:
            log.warning("%s", plan.summary)
        else:
            log.info("%s", plan.summary)
        for note in plan.notes:
            log.log(logging.WARNING if note.startswith("security") else logging.INFO, "%s", note)
        return plan.outcome

    # -- rows -------------------------------------------------------------------------------

    def _record(self, session: Session, ticket_id: int, events: Iterable[EventPlan],
                now: datetime) -> None:
        queries.add_events(session, ticket_id, events, now)

    def _queue(self, session: Session, ticket: Ticket | None, outgoing: Iterable[Outgoing],
               now: datetime, *, security: bool = False, attempt: Attempt | None = None) -> None:
        """Queue the plan's mail through the gate (per-address limits, coalesced alerts); what
        it withholds joins the ticket's audit trail. `ticket` None for mail about no ticket (a
        refused recording): what is withheld then is only logged."""
        withheld = self.gate.queue(session, ticket, outgoing, now, security=security,
                                   attempt=attempt)
        if ticket is not None:
            self._record(session, _flushed_id(session, ticket), withheld, now)


def _read(session: Session, ticket: Ticket) -> tuple[Reporter | None, Identity | None, TicketFacts]:
    """What a reply's plan reads of its ticket: the reporter row, its identity, the facts."""
    reporter = queries.reporter_of(session, ticket.id)
    identity = reporter.identity() if reporter is not None else None
    return reporter, identity, ticket.facts(queries.ack_message_id(session, ticket.id))


def _flushed_id(session: Session, row: Ticket) -> int:
    """The row's primary key, flushing first if the database has not given one yet."""
    if row.id is None:
        session.flush()
    if row.id is None:
        raise MailflowError(f"the database gave ticket {row.number} no id")
    return row.id
