"""A new complaint, decided: its ticket, its reporter, its first event and every message it causes.

`plan_new_ticket` is the whole decision as one pure function; the intake handler writes what
it returns inside the message's transaction. A staff member records a phone or WhatsApp
complaint by writing `#kanal telepon` above the caller's details: the caller, not the staff
member, is then the reporter, and the staff member gets the acknowledgement to read out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from mailflow.config import Config, StaffMember
from mailflow.core.commands import parse_staff_reply
from mailflow.core.identity import Identity, extract_identity
from mailflow.core.notices import Outgoing, acknowledgement, new_ticket_notices
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_text import new_text
from mailflow.core.tickets import EventPlan, TicketFacts, assess
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Channel, EventKind, OutboxKind

_CALLER_EMAIL = re.compile(r"(?im)^\s*e-?mail\s*[:=]?\s*<?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>?\s*$")


@dataclass(frozen=True)
class Source:
    """Who a complaint comes from and by which channel."""

    channel: Channel
    text: str
    reply_to: str | None  # where the reporter is answered; None: nobody can be
    recorder: StaffMember | None  # the staff member who recorded a phone complaint


@dataclass(frozen=True)
class NewTicket:
    ticket: TicketFacts
    identity: Identity
    recorder: StaffMember | None
    event: EventPlan
    outgoing: tuple[Outgoing, ...]
    source_message_id: str | None
    html_only: bool


def source_of(msg: ParsedMessage, cfg: Config) -> Source:
    """The channel, the text, the reporter's address and the recording staff member."""
    member = cfg.staff_member(msg.from_addr)
    if member is not None:
        commands = parse_staff_reply(new_text(msg.text))
        if commands.channel and commands.channel is not Channel.EMAIL:
            found = _CALLER_EMAIL.search(commands.message)
            caller = found.group(1).lower() if found else None
            return Source(commands.channel, _CALLER_EMAIL.sub("", commands.message), caller, member)
    return Source(Channel.EMAIL, msg.text, msg.reply_to or msg.from_addr, None)


def ticket_year(received: datetime, calendar: WorkCalendar) -> int:
    """Numbers run per year of receipt in the village's zone (the counter the number uses)."""
    return calendar.local_day(received).year


def plan_new_ticket(msg: ParsedMessage, received: datetime, number: str, cfg: Config,
                    calendar: WorkCalendar) -> NewTicket:
    """Everything a new complaint creates, given its number (the store hands out numbers)."""
    source = source_of(msg, cfg)
    extraction = extract_identity(source.text)
    identity = replace(extraction.identity, email=source.reply_to)
    verdict = assess(identity, extraction.description)
    ticket = TicketFacts(
        number=number, status=verdict.status, channel=source.channel, received_at=received,
        due_date=calendar.due_date(received), subject=msg.subject[:500],
        description=extraction.description, missing=verdict.missing,
    )
    note = ("missing: " + ",".join(verdict.missing) if verdict.missing else "") + (
        f" recorded by staff for a {source.channel} complaint" if source.recorder else "")
    event = EventPlan(EventKind.CREATED, source.recorder.address if source.recorder else "system",
                      note=note, to_status=ticket.status, message_id=msg.message_id)
    outgoing: list[Outgoing] = []
    if source.reply_to:
        outgoing.append(acknowledgement(cfg, ticket, identity, verdict.nik_problem, msg.message_id,
                                        msg.references, source.reply_to))
    if source.recorder is not None:
        # The staff member needs the number and due date to tell the caller.
        outgoing.append(acknowledgement(cfg, ticket, identity, verdict.nik_problem, msg.message_id,
                                        msg.references, source.recorder.email, OutboxKind.ACK_STAFF))
    outgoing.extend(new_ticket_notices(cfg, ticket, identity, msg.attachments))
    return NewTicket(ticket, identity, source.recorder, event, tuple(outgoing), msg.message_id,
                     msg.html_only)
