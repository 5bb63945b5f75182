"""Recording a suggestion-box opening: one ticket per entry, the opening row, the team's mail.

Both ways in use it: a proven "Kotak Saran" mail (runners/handlers.py `suggestion_box`) and
`mailflow kotak-saran`. The decisions are core/suggestion_box.py (reading the entries) and
core/box_opening.py (each entry's ticket, the mail); this module numbers the tickets and
writes the rows, in the caller's transaction, so an opening is recorded whole or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from mailflow.config import StaffMember
from mailflow.core.box_opening import (
    NO_ENTRIES,
    NOT_IN_TEAM,
    may_open,
    nothing_recorded,
    opening_reply,
    plan_entry,
)
from mailflow.core.new_ticket import ticket_year
from mailflow.core.parse import Attachment as Part
from mailflow.core.suggestion_box import MAX_ENTRIES, files_for, parse_entries, unknown_names
from mailflow.core.tickets import format_number
from mailflow.errors import MailflowError
from mailflow.store import queries
from mailflow.store.db import Session
from mailflow.store.models import Attachment, Reporter, SuggestionBoxOpening, Ticket

if TYPE_CHECKING:
    from mailflow.runners.handlers import Handlers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Opened:
    """What an opening made: its tickets (none when refused), and a log-safe summary."""

    tickets: tuple[Ticket, ...]
    summary: str


def record_opening(h: Handlers, session: Session, member: StaffMember, text: str,
                   parts: Sequence[Part], received: datetime, *, key: str,
                   message_id: str | None = None, content: str | None = None) -> Opened:
    """`key`: the message key of the opening (its first ticket carries it, so the same mail
    taken again is a duplicate); `content`: its content key (a resend within the repeat
    window is a repeat); `message_id`: the opening's mail, None from the CLI."""
    now = h.clock()
    if not may_open(h.cfg, member):
        h.queue(session, None, [nothing_recorded(h.cfg, member, message_id, NOT_IN_TEAM)], now)
        return Opened((), f"suggestion box opening refused: {member.name} is not in the team")
    entries = parse_entries(text)
    if not entries:
        h.queue(session, None, [nothing_recorded(h.cfg, member, message_id, NO_ENTRIES)], now)
        return Opened((), "suggestion box opening without entries: nothing recorded")
    dropped = max(0, len(entries) - MAX_ENTRIES)
    entries = entries[:MAX_ENTRIES]
    stored = [h.files.save(p) for p in parts]
    year = ticket_year(received, h.calendar)
    tickets: list[Ticket] = []
    for index, (entry, own) in enumerate(zip(entries, files_for(entries, [p.filename for p in parts]),
                                             strict=True)):
        sequence = queries.next_ticket_number_seq(session, h.cfg.scope, year)
        number = format_number(h.cfg.tickets.prefix, year, sequence)
        plan = plan_entry(h.cfg, h.calendar, entry, number, received, now, member.address,
                          [parts[i] for i in own], h.lists)
        facts = plan.ticket
        ticket = Ticket(number=number, status=facts.status, channel=facts.channel, kind=plan.kind,
                        received_at=received, priority=facts.priority,
                        priority_reason=facts.priority_reason, due_date=facts.due_date,
                        subject=facts.subject, description=facts.description,
                        message_key=key if index == 0 else f"{key}#{index + 1}",
                        content_key=content if index == 0 else None, created_at=now)
        session.add(ticket)
        session.flush()
        if ticket.id is None:
            raise MailflowError(f"the database gave ticket {number} no id")
        reporter = Reporter(ticket_id=ticket.id)
        reporter.update_from(plan.identity)
        session.add(reporter)
        for i in own:
            session.add(Attachment(ticket_id=ticket.id, filename=parts[i].filename,
                                   content_type=parts[i].content_type, size=stored[i].size,
                                   sha256=stored[i].sha256, path=stored[i].path))
        queries.add_events(session, ticket.id, [plan.event], now)
        h.queue(session, ticket, plan.outgoing, now)
        tickets.append(ticket)
    made = [(t.number, e.kind) for t, e in zip(tickets, entries, strict=True)]
    session.add(SuggestionBoxOpening(
        opened_on=h.calendar.local_day(received), opened_at=received, opened_by=member.address,
        entries=len(tickets), ticket_numbers=",".join(t.number for t in tickets),
        message_id=message_id))
    missing = unknown_names(entries, [p.filename for p in parts])
    h.queue(session, None, [opening_reply(h.cfg, member, made, message_id, unknown_files=missing,
                                          dropped=dropped)], now)
    summary = (f"suggestion box opening recorded by={member.name} entries={len(tickets)} "
               f"tickets={tickets[0].number}..{tickets[-1].number} attachments={len(parts)}")
    log.info("%s", summary)
    return Opened(tuple(tickets), summary)
