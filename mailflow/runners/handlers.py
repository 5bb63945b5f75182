"""Applying the core's plans inside the open transaction: rows, events and outbox rows.

The core decides (core/new_ticket.py, core/replies.py); a handler only reads what the
decision needs from the store, hands it over as plain data, and writes back what the plan
returns. Every outgoing message is composed here, once, and stored in the same transaction
as its cause, so a crash either keeps both or neither.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from mailflow.adapters.clock import Clock
from mailflow.compose.mime import Composer
from mailflow.config import Config, StaffMember
from mailflow.core.new_ticket import plan_new_ticket, ticket_year
from mailflow.core.notices import Outgoing
from mailflow.core.parse import ParsedMessage
from mailflow.core.replies import ReplyPlan, plan_resident_reply, plan_staff_reply
from mailflow.core.sender_auth import DkimCheck, authenticate
from mailflow.core.tickets import EventPlan, format_number
from mailflow.core.workdays import WorkCalendar
from mailflow.errors import MailflowError
from mailflow.store import queries
from mailflow.store.db import Session
from mailflow.store.files import FileStore
from mailflow.store.models import Attachment, OutboxMessage, Reporter, Ticket, TicketEvent

log = logging.getLogger(__name__)


class Handlers:
    def __init__(self, cfg: Config, calendar: WorkCalendar, composer: Composer, files: FileStore,
                 clock: Clock, dkim: DkimCheck) -> None:
        self.cfg = cfg
        self.calendar = calendar
        self.composer = composer
        self.files = files
        self.clock = clock
        self.dkim = dkim

    # -- new complaint ----------------------------------------------------------------------

    def new_ticket(self, session: Session, msg: ParsedMessage, received: datetime, key: str) -> Ticket:
        year = ticket_year(received, self.calendar)
        number = format_number(self.cfg.tickets.prefix, year,
                               queries.next_ticket_number_seq(session, year))
        plan = plan_new_ticket(msg, received, number, self.cfg, self.calendar)
        now = self.clock()
        facts = plan.ticket
        ticket = Ticket(
            number=number, status=facts.status, channel=facts.channel, received_at=received,
            due_date=facts.due_date, subject=facts.subject, description=facts.description,
            missing=",".join(facts.missing), source_message_id=plan.source_message_id,
            message_key=key, html_only=plan.html_only, created_at=now,
        )
        session.add(ticket)
        ticket_id = _flushed_id(session, ticket)
        reporter = Reporter(ticket_id=ticket_id)
        reporter.update_from(plan.identity)
        session.add(reporter)
        for part in msg.attachments:
            stored = self.files.save_attachment(part.data)
            session.add(Attachment(ticket_id=ticket_id, filename=part.filename,
                                   content_type=part.content_type, size=stored.size,
                                   sha256=stored.sha256, path=stored.path))
        self._record(session, ticket_id, [plan.event], now)
        self._queue(session, ticket, plan.outgoing, now)
        if plan.identity.email is None and plan.recorder is None:
            log.warning("no reply address ticket=%s; acknowledgement not possible", number)
        log.info("ticket created ticket=%s channel=%s status=%s due=%s missing=%s attachments=%d",
                 number, facts.channel, facts.status, facts.due_date, ticket.missing or "-",
                 len(msg.attachments))
        return ticket

    # -- replies ----------------------------------------------------------------------------

    def staff_reply(self, session: Session, ticket: Ticket, member: StaffMember,
                    msg: ParsedMessage, raw: bytes) -> str:
        method = authenticate(msg, raw, ticket.number, self.cfg.commands,
                              self.cfg.smtp.from_address, self.dkim)
        reporter = queries.reporter_of(session, ticket.id)
        identity = reporter.identity() if reporter is not None else None
        facts = ticket.facts(queries.ack_message_id(session, ticket.id))
        return self._apply(session, ticket, reporter,
                           plan_staff_reply(facts, identity, member, msg, method, self.cfg))

    def resident_reply(self, session: Session, ticket: Ticket, msg: ParsedMessage) -> str:
        reporter = queries.reporter_of(session, ticket.id)
        identity = reporter.identity() if reporter is not None else None
        facts = ticket.facts(queries.ack_message_id(session, ticket.id))
        return self._apply(session, ticket, reporter,
                           plan_resident_reply(facts, identity, msg, self.cfg))

    def _apply(self, session: Session, ticket: Ticket, reporter: Reporter | None,
               plan: ReplyPlan) -> str:
        now = self.clock()
        ticket.update_from(plan.ticket)
        session.add(ticket)
        if plan.reporter is not None and reporter is not None:
            reporter.update_from(plan.reporter)
            session.add(reporter)
        self._record(session, _flushed_id(session, ticket), plan.events, now)
        self._queue(session, ticket, plan.outgoing, now)
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
        for event in events:
            session.add(TicketEvent(
                ticket_id=ticket_id, at=now, actor=event.actor, kind=event.kind,
                from_status=event.from_status, to_status=event.to_status, note=event.note,
                message_id=event.message_id, auth=event.auth))

    def _queue(self, session: Session, ticket: Ticket, outgoing: Iterable[Outgoing],
               now: datetime) -> None:
        for item in outgoing:
            composed = self.composer.compose(item, ticket.number, now)
            session.add(OutboxMessage(
                ticket_id=ticket.id, kind=item.kind, message_id=composed.message_id,
                recipient=composed.recipient, raw=composed.raw, next_attempt_at=now,
                created_at=now))


def _flushed_id(session: Session, row: Ticket) -> int:
    """The row's primary key, flushing first if the database has not given one yet."""
    if row.id is None:
        session.flush()
    if row.id is None:
        raise MailflowError(f"the database gave ticket {row.number} no id")
    return row.id
