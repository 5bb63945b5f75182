"""A new complaint, decided: its ticket, its reporter, its first event and every message it causes.

`plan_new_ticket` is the whole decision as one pure function; the intake handler writes what
it returns inside the message's transaction. A staff member records a phone or WhatsApp
complaint by writing `#kanal telepon` above the caller's details: the caller, not the staff
member, is then the reporter, and the staff member gets the acknowledgement to read out.

Recording is a staff action, so it needs the same proof as a command (the handler checks it:
DKIM, a trusted Authentication-Results, or the member's signed record address). A recording
without proof is refused whole (`plan_refused_recording`): a forger must get neither a ticket
"recorded by staff" nor an acknowledgement mailed to an address of their choosing. It does not
become an ordinary complaint either, which would file the caller's data under the staff
member's address; the genuine member is told at their real address how to send it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from mailflow.config import Config, StaffMember
from mailflow.core.commands import parse_staff_reply
from mailflow.core.first_start import promise
from mailflow.core.identity import Identity, extract_identity
from mailflow.core.notices import (
    Outgoing,
    acknowledgement,
    new_ticket_notices,
    record_address,
    staff_note,
)
from mailflow.core.parse import ParsedMessage
from mailflow.core.priority_lists import WordLists
from mailflow.core.privacy import redactor_for
from mailflow.core.reply_text import new_text
from mailflow.core.ticket_priority import suggested
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
    # A Reply-To other than From: never answered (that address did not write), only shown
    # to the verifiers, who may judge whether the reporter meant it.
    other_reply_to: str | None = None


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
    """The channel, the text, the reporter's address and the recording staff member.

    The reporter is answered at From, never at a Reply-To: anyone can write a stranger's
    address into Reply-To and have mailflow mail them (an acknowledgement, later every
    status update) without that person ever having written.
    """
    member = cfg.staff_member(msg.from_addr)
    if member is not None:
        commands = parse_staff_reply(new_text(msg.text))
        if commands.channel and commands.channel is not Channel.EMAIL:
            found = _CALLER_EMAIL.search(commands.message)
            caller = found.group(1).lower() if found else None
            return Source(commands.channel, _CALLER_EMAIL.sub("", commands.message), caller, member)
    other = msg.reply_to if msg.reply_to and msg.reply_to != msg.from_addr else None
    return Source(Channel.EMAIL, msg.text, msg.from_addr, None, other)


def ticket_year(received: datetime, calendar: WorkCalendar) -> int:
    """Numbers run per year of receipt in the village's zone (the counter the number uses)."""
    return calendar.local_day(received).year


def plan_new_ticket(msg: ParsedMessage, received: datetime, number: str, cfg: Config,
                    calendar: WorkCalendar, taken: datetime | None = None,
                    lists: WordLists | None = None) -> NewTicket:
    """Everything a new complaint creates, given its number (the store hands out numbers).

    `taken`: when mailflow takes it; a complaint whose due date from receipt is already
    today or past gets one counted from then, and is told so (core/first_start.py `promise`).
    `lists`: the priority suggester's word lists; the ticket's priority and its reason are
    suggested from the subject and the description (core/ticket_priority.py). None keeps
    the default priority without a reason.
    """
    source = source_of(msg, cfg)
    extraction = extract_identity(source.text)
    identity = replace(extraction.identity, email=source.reply_to)
    verdict = assess(identity, extraction.description)
    due = promise(received, taken, calendar)
    ticket = TicketFacts(
        number=number, status=verdict.status, channel=source.channel, received_at=received,
        due_date=due.due_date, subject=msg.subject[:500],
        description=extraction.description, missing=verdict.missing,
    )
    ticket = suggested(ticket, lists, redactor_for(cfg, identity))
    note = " ".join(part for part in (
        "taken late: due date counted from the day it was recorded" if due.recorded else "",
        "missing: " + ",".join(verdict.missing) if verdict.missing else "",
        f"recorded by staff for a {source.channel} complaint" if source.recorder else "",
        "reply-to differs from from; acknowledged at from only" if source.other_reply_to else "",
    ) if part)
    event = EventPlan(EventKind.CREATED, source.recorder.address if source.recorder else "system",
                      note=note, to_status=ticket.status, message_id=msg.message_id)
    outgoing: list[Outgoing] = []
    if source.reply_to:
        outgoing.append(acknowledgement(cfg, ticket, identity, verdict.nik_problem, msg.message_id,
                                        msg.references, source.reply_to, recorded=due.recorded))
    if source.recorder is not None:
        # The staff member needs the number and due date to tell the caller.
        outgoing.append(acknowledgement(cfg, ticket, identity, verdict.nik_problem, msg.message_id,
                                        msg.references, source.recorder.email, OutboxKind.ACK_STAFF,
                                        recorded=due.recorded))
    outgoing.extend(new_ticket_notices(cfg, ticket, identity, msg.attachments,
                                       other_reply_to=source.other_reply_to))
    return NewTicket(ticket, identity, source.recorder, event, tuple(outgoing), msg.message_id,
                     msg.html_only)


@dataclass(frozen=True)
class RefusedRecording:
    """A `#kanal` recording whose sender is unproven: no ticket, only these messages."""

    outgoing: tuple[Outgoing, ...]
    summary: str  # a log line without identity


def plan_refused_recording(msg: ParsedMessage, member: StaffMember, cfg: Config,
                           reason: str) -> RefusedRecording:
    """The administrator is alerted (no command address); the member learns how to record."""
    outgoing: list[Outgoing] = []
    if cfg.commands.admin_address:
        outgoing.append(staff_note(cfg, None, cfg.commands.admin_address,
                                   "Peringatan keamanan: pencatatan pengaduan tanpa bukti pengirim",
                                   "Yth. Administrator,", [
            f"Sebuah email yang mengaku berasal dari staf {member.name} <{member.address}> "
            "mencatat pengaduan telepon/WhatsApp, tetapi tidak dapat dibuktikan bahwa staf "
            "tersebut yang mengirimnya. Tanyakan kepadanya apakah ia mengirim email ini; jika "
            "tidak, alamat pengirimnya dipalsukan.",
            "Tidak ada tiket yang dibuat dan tidak ada email yang dikirim ke alamat di dalamnya.",
            f"Message-ID: {msg.message_id or '-'}", f"Keterangan teknis: {reason}"],
            answerable=False))
    record = record_address(cfg, member)
    how = (f"kirim ulang pencatatan ke alamat khusus Bapak/Ibu: {record} (tombol Balas pada "
           "email ini juga mengirim ke alamat itu)" if record else
           "kirim ulang dari akun email resmi Bapak/Ibu yang ditandatangani (DKIM)")
    # A fixed subject (no text of the forger's) that still carries the phrase intake takes.
    subject = f"Re: {cfg.intake.subject_phrases[0]} - pencatatan tidak dijalankan"
    told = staff_note(cfg, None, member.email, subject, f"Yth. {member.name},", [
        "Pencatatan pengaduan telepon/WhatsApp dari Bapak/Ibu tidak dijalankan; tidak ada "
        "tiket yang dibuat.",
        "Alasannya: email ini tidak terbukti berasal dari alamat Bapak/Ibu. Jika Bapak/Ibu "
        f"memang mengirimnya, {how}. Jika tidak, beri tahu administrator."],
        in_reply_to=msg.message_id, answerable=False)
    outgoing.append(replace(told, reply_to=record))
    return RefusedRecording(tuple(outgoing),
                            f"security: unproven phone/WhatsApp recording refused "
                            f"claimed_staff={member.name}")
