"""Every message mailflow writes, built as outbox rows for the caller's transaction.

Residents get the acknowledgement; staff get a notification of each new ticket. What
a staff member reads depends on the role: only roles that need the reporter's
identity see it, everyone else reads "Identitas pelapor dirahasiakan" and a
description scrubbed of names and numbers. Staff mail never goes to a resident,
and a resident's address never appears in a staff mail's headers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mailflow.compose.render import Envelope, Renderer, build_message, format_moment, new_message_id
from mailflow.config import Config, StaffMember
from mailflow.core.identity import Identity, scrub
from mailflow.core.reply_address import signed_address
from mailflow.core.tickets import MISSING_TEXT, STATUS_EXPLANATIONS, STATUS_LABELS, Status
from mailflow.core.workdays import WorkCalendar, format_tanggal
from mailflow.core.workflow import FINAL
from mailflow.store.models import OutboxMessage, Reporter, Ticket

CHANNEL_LABELS = {"email": "email", "telepon": "telepon", "whatsapp": "WhatsApp",
                  "kotak_saran": "kotak saran"}


@dataclass(frozen=True)
class StoredAttachment:
    filename: str
    content_type: str
    size: int
    path: Path


class Notices:
    def __init__(self, cfg: Config, calendar: WorkCalendar, renderer: Renderer,
                 clock: Callable[[], datetime]) -> None:
        self.cfg = cfg
        self.calendar = calendar
        self.renderer = renderer
        self.clock = clock

    # -- shared ---------------------------------------------------------------------------

    @property
    def signature(self) -> str:
        return self.cfg.smtp.from_name or f"Pemerintah {self.cfg.village.name}"

    def reply_address(self, ticket: Ticket) -> str:
        """Where staff replies go: the signed per-ticket address when a secret is configured."""
        commands = self.cfg.commands
        if "signed_reply" in commands.accept:
            return signed_address(self.cfg.smtp.from_address, ticket.number, commands.secret_bytes())
        return self.cfg.smtp.from_address

    def _common(self, ticket: Ticket) -> dict[str, Any]:
        return {
            "number": ticket.number,
            "received": format_moment(ticket.received_at.astimezone(self.calendar.zone),
                                      self.cfg.calendar.timezone),
            "due": format_tanggal(ticket.due_date),
            "working_days": self.cfg.calendar.working_days,
            "status_label": STATUS_LABELS[ticket.status],
            "village": self.cfg.village.name,
            "signature": self.signature,
        }

    def _row(self, ticket: Ticket, kind: str, envelope: Envelope, template: str,
             context: dict[str, Any]) -> OutboxMessage:
        text, html = self.renderer.render(template, context)
        now = self.clock()
        message_id = new_message_id(self.cfg.smtp.from_address)
        return OutboxMessage(
            ticket_id=ticket.id, kind=kind, message_id=message_id, recipient=envelope.to,
            raw=build_message(envelope, text, html, message_id, now),
            next_attempt_at=now, created_at=now,
        )

    # -- to the resident ------------------------------------------------------------------

    def acknowledgement(self, ticket: Ticket, identity: Identity, nik_problem: str | None,
                        in_reply_to: str | None, references: Sequence[str],
                        recipient: str, kind: str = "ack") -> OutboxMessage:
        context = {
            **self._common(ticket),
            "salutation": f"Bapak/Ibu {identity.name}" if identity.name else "Bapak/Ibu",
            "missing": [MISSING_TEXT[m] for m in ticket.missing_items],
            "nik_problem": nik_problem,
        }
        envelope = Envelope(
            from_address=self.cfg.smtp.from_address, from_name=self.signature, to=recipient,
            subject=f"[{ticket.number}] Pengaduan Anda telah diterima",
            in_reply_to=in_reply_to, references=references, ticket_number=ticket.number,
        )
        return self._row(ticket, kind, envelope, "ack", context)

    def status_update(self, ticket: Ticket, reporter: Reporter, message: str, changed: bool,
                      ack_message_id: str | None) -> OutboxMessage:
        """The reporter is told of every public change, in the thread of the acknowledgement."""
        assert reporter.email is not None
        context = {
            **self._common(ticket),
            "salutation": f"Bapak/Ibu {reporter.name}" if reporter.name else "Bapak/Ibu",
            "changed": changed,
            "explanation": STATUS_EXPLANATIONS[ticket.status],
            "message": message,
            "final": Status(ticket.status) in FINAL,
        }
        envelope = Envelope(
            from_address=self.cfg.smtp.from_address, from_name=self.signature, to=reporter.email,
            subject=f"[{ticket.number}] Status pengaduan: {STATUS_LABELS[ticket.status]}",
            in_reply_to=ack_message_id, references=(), ticket_number=ticket.number,
        )
        return self._row(ticket, "status", envelope, "status", context)

    # -- to staff -------------------------------------------------------------------------

    def to_staff_plain(self, ticket: Ticket, to: str, subject: str, greeting: str,
                       paragraphs: Sequence[str], in_reply_to: str | None = None) -> OutboxMessage:
        """A short message to staff or the administrator (refusals, security alerts)."""
        context = {"greeting": greeting, "paragraphs": list(paragraphs),
                   "village": self.cfg.village.name}
        envelope = Envelope(
            from_address=self.cfg.smtp.from_address, from_name=self.signature, to=to,
            subject=subject, in_reply_to=in_reply_to, ticket_number=ticket.number,
            reply_to=self.reply_address(ticket),
        )
        return self._row(ticket, "staff", envelope, "notice", context)

    def new_ticket(self, ticket: Ticket, identity: Identity,
                   attachments: Sequence[StoredAttachment]) -> list[OutboxMessage]:
        """One notification per verifier: a new complaint is theirs to verify first."""
        return [self.to_staff(member, ticket, identity, attachments, "diverifikasi")
                for member in self.cfg.staff_with("verifikator")]

    def to_staff(self, member: StaffMember, ticket: Ticket, identity: Identity,
                 attachments: Sequence[StoredAttachment], action: str) -> OutboxMessage:
        sees = member.sees_identity
        limit = self.cfg.storage.notify_attachment_bytes
        attached, listed, total = [], [], 0
        for item in attachments:
            if total + item.size <= limit:
                attached.append((item.filename, item.content_type, item.path.read_bytes()))
                total += item.size
                listed.append(f"{item.filename} (terlampir)")
            else:
                listed.append(f"{item.filename} ({item.size} bytes, tersimpan di server; lihat "
                              f"`mailflow show {ticket.number}`)")
        context = {
            **self._common(ticket),
            "action": action,
            "channel": CHANNEL_LABELS.get(ticket.channel, ticket.channel),
            "priority": ticket.priority,
            "missing": [MISSING_TEXT[m] for m in ticket.missing_items],
            "subject": ticket.subject if sees else scrub(ticket.subject, identity),
            "description": ticket.description if sees else scrub(ticket.description, identity),
            "identity": identity if sees else None,
            "attachments": listed,
        }
        heading = "Pengaduan baru" if action == "diverifikasi" else "Tugas tindak lanjut"
        envelope = Envelope(
            from_address=self.cfg.smtp.from_address, from_name=self.signature, to=member.email,
            subject=f"[{ticket.number}] {heading}: {context['subject'][:80]}",
            ticket_number=ticket.number, reply_to=self.reply_address(ticket),
            attachments=attached,
        )
        return self._row(ticket, "notify", envelope, "notify", context)
