"""What each outgoing message says and to whom, as values; compose/ turns them into bytes.

Residents get the acknowledgement and every public change in its thread; staff get a
notification of each new ticket and of each assignment. What a staff member reads depends
on the role: only roles that need the reporter's identity see it, everyone else reads
"Identitas pelapor dirahasiakan", and the subject, description and attachment names as
mailflow.core.privacy's Redactor leaves them (no attachment rides along: a photo may be
of a KTP). Staff mail never goes to a resident, and a resident's address never appears in
a staff mail's headers. Pure: no template engine, no Message-ID, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailflow.config import Config, StaffMember
from mailflow.core.commands import command_lines
from mailflow.core.identity import Identity
from mailflow.core.parse import Attachment
from mailflow.core.privacy import redactor_for
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.core.ticket_priority import describe
from mailflow.core.tickets import SYSTEM, TicketFacts
from mailflow.core.workdays import format_moment, format_tanggal
from mailflow.core.workflow import FINAL
from mailflow.vocabulary import OutboxKind, Priority, Role, Status


@dataclass(frozen=True)
class Outgoing:
    """One message to send: the envelope, the template and what fills it."""

    kind: OutboxKind
    to: str
    subject: str
    template: str  # templates/<template>.txt.j2 and .html.j2
    context: Mapping[str, Any]
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=())  # (name, type, data)


def signature(cfg: Config) -> str:
    return cfg.smtp.from_name or f"Pemerintah {cfg.village.name}"


def reply_address(cfg: Config, ticket: TicketFacts, holder: str) -> str:
    """Where `holder` (a staff member or the reporter) replies about `ticket`: an address
    signed for them alone when signed replies are accepted, else the public address.

    Each person gets their own, so an address that reaches someone else (a forwarded mail, a
    colleague's notification) proves nothing for them (core/reply_address.py).
    """
    if "signed_reply" not in cfg.commands.accept:
        return cfg.smtp.from_address
    purpose = Purpose.STAFF if cfg.staff_member(holder) is not None else Purpose.REPORTER
    return signed_address(cfg.smtp.from_address, purpose, holder, cfg.commands.secret_bytes(),
                          ticket.number)


def record_address(cfg: Config, member: StaffMember) -> str | None:
    """Where `member` sends a phone or WhatsApp complaint to record it, proven by the address."""
    if "signed_reply" not in cfg.commands.accept:
        return None
    return signed_address(cfg.smtp.from_address, Purpose.RECORD, member.address,
                          cfg.commands.secret_bytes())


def _common(cfg: Config, ticket: TicketFacts) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "received": format_moment(ticket.received_at, cfg.calendar.timezone),
        "due": format_tanggal(ticket.due_date),
        "working_days": cfg.calendar.working_days,
        "status_label": ticket.status.label,
        "village": cfg.village.name,
        "signature": signature(cfg),
    }


def _salutation(name: str | None) -> str:
    return f"Bapak/Ibu {name}" if name else "Bapak/Ibu"


# -- to the resident ------------------------------------------------------------------------

def acknowledgement(cfg: Config, ticket: TicketFacts, identity: Identity, nik_problem: str | None,
                    in_reply_to: str | None, references: Sequence[str], recipient: str,
                    kind: OutboxKind = OutboxKind.ACK, recorded: datetime | None = None) -> Outgoing:
    """The number and the due date at once, in the thread of the complaint. `recorded`: set
    when the due date counts from that moment, not from receipt (taken late)."""
    context = {
        **_common(cfg, ticket),
        "recorded": format_moment(recorded, cfg.calendar.timezone) if recorded else None,
        "salutation": _salutation(identity.name),
        "missing": [m.text for m in ticket.missing],
        "nik_problem": nik_problem,
    }
    return Outgoing(kind, recipient, f"[{ticket.number}] Pengaduan Bapak/Ibu telah diterima", "ack",
                    context, in_reply_to=in_reply_to, references=tuple(references),
                    reply_to=reply_address(cfg, ticket, recipient))


def status_update(cfg: Config, ticket: TicketFacts, reporter: Identity, message: str,
                  changed: bool, *, reason: str = "", note: str = "", asked: bool = False,
                  closed_at: datetime | None = None, resumed: bool = False) -> Outgoing:
    """The reporter is told of every public change, in the thread of the acknowledgement.

    `message` is a staff member's words ("Pesan dari petugas"), `reason` why a complaint is
    rejected, `note` an automatic text (never attributed to an officer); `asked`: the answer
    to the reporter's own status question, which must not read as a change; `closed_at`: when
    a final status was given, said instead of a deadline that no longer applies; `resumed`:
    the ticket left perlu_data, so its deadline counts from the day its data was complete.
    """
    if not reporter.email:
        raise ValueError("status_update needs a reporter with an email address")
    final = ticket.status in FINAL
    context = {
        **_common(cfg, ticket),
        "salutation": _salutation(reporter.name),
        "changed": changed,
        "asked": asked,
        "explanation": ticket.status.explanation,
        "message": message,
        "reason": reason,
        "note": note,
        "final": final,
        "closed": format_tanggal(closed_at.astimezone(cfg.zone).date())
        if final and closed_at is not None else "",
        "closed_label": "Ditutup pada" if ticket.status is Status.DITOLAK else "Diselesaikan pada",
        "resumed": resumed,
        # Waiting for the reporter's data pauses the clock: no date to promise until then.
        "paused": ticket.status is Status.PERLU_DATA,
    }
    if asked:
        subject = f"[{ticket.number}] Informasi status pengaduan"
    elif changed:
        subject = f"[{ticket.number}] Status pengaduan: {ticket.status.label}"
    else:
        subject = f"[{ticket.number}] Pesan dari petugas"
    return Outgoing(OutboxKind.STATUS, reporter.email, subject, "status", context,
                    in_reply_to=ticket.ack_message_id,
                    reply_to=reply_address(cfg, ticket, reporter.email))


def proof_words(cfg: Config) -> str:
    """The accepted proofs of a staff sender ([commands] accept), in words an administrator
    reads without the manual."""
    words = {
        "signed_reply": "balasan ke alamat khusus dari tombol Balas (Reply) pada email "
                        "pemberitahuan tiket",
        "dkim": "tanda tangan DKIM dari server email kantor desa",
        "authserv": "hasil pemeriksaan server email desa yang dipercaya",
    }
    return "; ".join(words[method] for method in cfg.commands.accept)


# -- to staff -------------------------------------------------------------------------------

def staff_note(cfg: Config, ticket: TicketFacts | None, to: str, subject: str, greeting: str,
               paragraphs: Sequence[str], in_reply_to: str | None = None,
               answerable: bool = True) -> Outgoing:
    """A short message to staff or the administrator (refusals, security alerts, replies).

    `answerable`: the note invites a reply with commands on `ticket` (a refusal's explanation,
    a resident's reply passed on), so it carries the recipient's own signed address; a note
    that needs no answer (a security alert) carries no command address at all.
    """
    context = {"greeting": greeting, "paragraphs": list(paragraphs), "village": cfg.village.name}
    reply_to = reply_address(cfg, ticket, to) if answerable and ticket is not None else None
    return Outgoing(OutboxKind.STAFF_NOTE, to, subject, "notice", context, in_reply_to=in_reply_to,
                    reply_to=reply_to)


def new_ticket_notices(cfg: Config, ticket: TicketFacts, identity: Identity,
                       attachments: Sequence[Attachment], *,
                       other_reply_to: str | None = None) -> list[Outgoing]:
    """One notification per verifier: a new complaint is theirs to verify first.

    `other_reply_to` is a Reply-To that differs from From: it got no acknowledgement, and the
    verifier reads it so that a resident who meant it can still be reached by hand."""
    return [ticket_notice(cfg, member, ticket, identity, attachments, "diverifikasi",
                          other_reply_to=other_reply_to)
            for member in cfg.staff_with(Role.VERIFIKATOR)]


def _attachments(cfg: Config, ticket: TicketFacts, attachments: Sequence[Attachment]
                 ) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """Which attachments ride along (up to the configured total) and how each is listed.

    For a reader with identity rights only: names and contents are as the resident sent them.
    """
    limit = cfg.storage.notify_attachment_bytes
    attached: list[tuple[str, str, bytes]] = []
    listed: list[str] = []
    total = 0
    for item in attachments:
        size = item.size
        if item.spilled is None and total + size <= limit:
            attached.append((item.filename, item.content_type, item.data))
            total += size
            listed.append(f"{item.filename} (terlampir)")
        else:
            listed.append(f"{item.filename} ({size} byte, tersimpan di server; lihat "
                          f"`mailflow show {ticket.number}`)")
    return attached, listed


def ticket_notice(cfg: Config, member: StaffMember, ticket: TicketFacts, identity: Identity,
                  attachments: Sequence[Attachment], action: str, *,
                  other_reply_to: str | None = None) -> Outgoing:
    """A ticket's details for one staff member: to verify (`diverifikasi`) or to follow up."""
    sees = member.sees_identity
    hide = redactor_for(cfg, identity)
    if sees:
        attached, listed = _attachments(cfg, ticket, attachments)
        subject, description = ticket.subject, ticket.description
    else:
        attached, listed = [], [f"{hide.filename(item.filename)} (tersimpan di server)"
                                for item in attachments]
        subject, description = hide.subject(ticket.subject), hide.text(ticket.description)
    # A suggested `darurat` stands out: a line of its own at the top and in the subject.
    alarm = ticket.priority is Priority.DARURAT and ticket.priority_set_by == SYSTEM
    context = {
        **_common(cfg, ticket),
        "greeting": f"Yth. {member.name},",
        "action": action,
        "channel": ticket.channel.label,
        "priority": ticket.priority.value,
        "priority_text": hide.text(describe(ticket.priority, ticket.priority_reason,
                                            ticket.priority_set_by)),
        "darurat_reason": hide.text(ticket.priority_reason) if alarm else "",
        "missing": [m.text for m in ticket.missing],
        "subject": subject,
        "description": description,
        "identity": identity if sees else None,
        "other_reply_to": other_reply_to if sees else None,
        "attachments": listed,
        "commands": command_lines(member.roles),
    }
    heading = "Pengaduan baru" if action == "diverifikasi" else "Tugas tindak lanjut"
    heading = f"DARURAT - {heading}" if alarm else heading
    return Outgoing(OutboxKind.NOTIFY, member.email, f"[{ticket.number}] {heading}: {subject[:80]}",
                    "notify", context, reply_to=reply_address(cfg, ticket, member.address),
                    attachments=tuple(attached))
