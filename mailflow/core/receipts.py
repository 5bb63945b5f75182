"""The receipt a staff member gets when their reply was applied: what changed, who was told.

Staff are not technical, and a command that works used to be answered by silence. One short
note per applied reply, in its thread, says what the reply did. It goes to the staff member
whose reply was proven and applied, and to no one else; it names the resident only as
"pelapor" (the receipt may go to an officer who must not see the reporter's identity).

A reply that answers a receipt without any command (an auto-responder's "I am away", or a
thank-you) gets no receipt of its own, so two robots cannot keep writing to each other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mailflow.config import Config, StaffMember
from mailflow.core.commands import StaffReply
from mailflow.core.notices import Outgoing, staff_note
from mailflow.core.parse import ParsedMessage
from mailflow.core.tickets import TicketFacts
from mailflow.vocabulary import OutboxKind


@dataclass(frozen=True)
class Told:
    """Who heard of the reply: whether the reporter was mailed (`resident_why_not` says why
    not), and the officer a new assignment notified, if any."""

    resident: bool
    resident_why_not: str = ""
    officer: str | None = None


def wants_receipt(cfg: Config, member: StaffMember, reply: StaffReply,
                  answers_receipt: bool) -> bool:
    """Whether `member` gets a receipt for `reply` (config, and the loop guard above)."""
    enabled = cfg.commands.receipts if member.receipts is None else member.receipts
    return enabled and not (answers_receipt and not reply.has_commands)


def _changes(before: TicketFacts, after: TicketFacts, reply: StaffReply) -> list[str]:
    lines = []
    if after.status != before.status:
        lines.append(f"- Status: {before.status.label} -> {after.status.label}")
    if after.assignee != before.assignee:
        lines.append(f"- Petugas tindak lanjut: {after.assignee}")
    if after.priority != before.priority:
        lines.append(f"- Prioritas: {before.priority.label} -> {after.priority.label}")
    if reply.message and reply.internal:
        lines.append("- Catatan internal dicatat di riwayat tiket (tidak dikirim kepada pelapor).")
    elif reply.message or reply.reject_reason:
        lines.append("- Pesan untuk pelapor dicatat di riwayat tiket.")
    if reply.public_words:
        lines.append("- Teks untuk halaman publik desa (tampil saat halaman diperbarui, tanpa "
                     f"identitas pelapor): {reply.public_words[:300]}")
    return lines or ["- Tidak ada yang berubah: tiket sudah seperti yang diminta."]


def _told(told: Told) -> list[str]:
    resident = ("ya, lewat email di utas pengaduannya" if told.resident
                else f"tidak ({told.resident_why_not})")
    lines = [f"- Pelapor: {resident}"]
    if told.officer:
        lines.append(f"- Petugas: {told.officer} (pemberitahuan tugas tindak lanjut)")
    return lines


def staff_receipt(cfg: Config, member: StaffMember, msg: ParsedMessage, before: TicketFacts,
                  after: TicketFacts, reply: StaffReply, told: Told) -> Outgoing:
    """The receipt for `member`'s applied reply `msg`, threaded under it."""
    paragraphs = [
        f"Balasan Bapak/Ibu untuk tiket {after.number} sudah dijalankan.",
        "Yang berubah:\n" + "\n".join(_changes(before, after, reply)),
        "Yang diberi tahu:\n" + "\n".join(_told(told)),
        f"Status tiket saat ini: {after.status.label}. Untuk perintah "
        "berikutnya, balas email ini atau email pemberitahuan tiket.",
    ]
    note = staff_note(cfg, after, member.email, f"Re: [{after.number}] Perintah sudah dijalankan",
                      f"Yth. {member.name},", paragraphs, in_reply_to=msg.message_id)
    # The reply's own thread, then the reply (compose/mime.py bounds what a long thread gives).
    thread = tuple(dict.fromkeys((*msg.references, *msg.in_reply_to)))
    return replace(note, kind=OutboxKind.RECEIPT, references=thread)
