"""A suggestion-box opening, decided: who may record one, each entry's ticket, and the mail.

Recording an opening is a staff action, proven like a command (the handler checks it); the
plans here are pure. Each entry becomes a ticket of channel `kotak_saran` with its kind, the
due date counted from the opening like any complaint's (7 working days), the priority
suggested from its text, and no reporter unless the paper names one (then the name is
identity, seen only by the verifiers). Nobody is acknowledged (a paper has no address); the
verifiers are notified as for every new ticket; the team gets one mail listing the tickets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from mailflow.config import Config, StaffMember
from mailflow.core.first_start import promise
from mailflow.core.identity import Identity, extract_identity
from mailflow.core.notices import Outgoing, new_ticket_notices, record_address, staff_note
from mailflow.core.parse import Attachment
from mailflow.core.priority_lists import WordLists
from mailflow.core.privacy import redactor_for
from mailflow.core.suggestion_box import MAX_ENTRIES, Entry
from mailflow.core.ticket_priority import suggested
from mailflow.core.tickets import EventPlan, TicketFacts
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import (
    Channel,
    EntryKind,
    EventKind,
    OutboxKind,
    Role,
    Status,
)

REFUSED_SUBJECT = "Kotak Saran - pencatatan tidak dijalankan"


def team_of(cfg: Config) -> list[StaffMember]:
    """Who opens the box: `[suggestion_box] team` (addresses or role names), else the staff
    with the role verifikator (not the village head, who verifies but does not open boxes)."""
    wanted = {w.strip().lower() for w in cfg.suggestion_box.team}
    if not wanted:
        return [m for m in cfg.staff if Role.VERIFIKATOR in m.roles]
    roles = {r for r in Role if r.value in wanted}
    return [m for m in cfg.staff if m.address in wanted or not roles.isdisjoint(m.roles)]


def may_open(cfg: Config, member: StaffMember) -> bool:
    return any(m.address == member.address for m in team_of(cfg))


@dataclass(frozen=True)
class EntryTicket:
    """One entry's ticket: its facts, kind, identity (empty when the paper named no one),
    its first event and the verifiers' notifications."""

    ticket: TicketFacts
    kind: EntryKind
    identity: Identity
    event: EventPlan
    outgoing: tuple[Outgoing, ...]


def plan_entry(cfg: Config, calendar: WorkCalendar, entry: Entry, number: str,
               received: datetime, taken: datetime, actor: str,
               attachments: Sequence[Attachment], lists: WordLists | None) -> EntryTicket:
    """`received`: the opening's time (its mail's, or the CLI's now); `actor`: who opened."""
    extraction = extract_identity(entry.text)
    identity = extraction.identity
    due = promise(received, taken, calendar)
    # Waiting for data nobody can give would stall the entry: it is always `diterima`.
    ticket = TicketFacts(number=number, status=Status.DITERIMA, channel=Channel.KOTAK_SARAN,
                         received_at=received, due_date=due.due_date,
                         subject=f"Kotak saran: {entry.kind.label}",
                         description=extraction.description or entry.text)
    ticket = suggested(ticket, lists, redactor_for(cfg, identity))
    event = EventPlan(EventKind.CREATED, actor, to_status=ticket.status,
                      note=f"suggestion box entry, kind {entry.kind.value}"
                           + (", the paper names someone" if identity.name else ""))
    notices = new_ticket_notices(cfg, ticket, identity, attachments)
    return EntryTicket(ticket, entry.kind, identity, event, tuple(notices))


def opening_reply(cfg: Config, member: StaffMember, made: Sequence[tuple[str, EntryKind]],
                  in_reply_to: str | None, *, unknown_files: Sequence[str] = (),
                  dropped: int = 0) -> Outgoing:
    """The team's mail: one line per entry (number and kind, never a name), in their thread."""
    lines = [f"{i}. {number} \u2013 {kind.label}" for i, (number, kind) in enumerate(made, 1)]
    paragraphs = [f"Pembukaan kotak saran sudah dicatat: {len(made)} entri menjadi tiket "
                  "berikut (saluran: kotak saran).", "\n".join(lines),
                  "Setiap tiket mengikuti alur yang sama; verifikator sudah diberi tahu. Tiket "
                  "kotak saran hanya dapat diselesaikan dengan catatan tindak lanjut."]
    if unknown_files:
        paragraphs.append("Lampiran yang disebut tetapi tidak ada di email: "
                          + ", ".join(unknown_files[:10]))
    if dropped:
        paragraphs.append(f"Hanya {MAX_ENTRIES} entri pertama yang dicatat; {dropped} entri "
                          "lainnya belum: kirim dalam email terpisah.")
    return staff_note(cfg, None, member.email, "Kotak Saran: pembukaan tercatat",
                      f"Yth. {member.name},", paragraphs, in_reply_to=in_reply_to,
                      answerable=False)


def nothing_recorded(cfg: Config, member: StaffMember, in_reply_to: str | None,
                     why: str) -> Outgoing:
    """No ticket made, for a reason the member can act on (not in the team, no entries)."""
    return staff_note(cfg, None, member.email, REFUSED_SUBJECT, f"Yth. {member.name},",
                      ["Pembukaan kotak saran dari Bapak/Ibu tidak dicatat; tidak ada tiket yang "
                       "dibuat.",
                       f"Alasannya: {why}"], in_reply_to=in_reply_to, answerable=False)


NOT_IN_TEAM = ("Bapak/Ibu tidak termasuk tim kotak saran. Mintalah administrator menambahkan "
               "Bapak/Ibu ke tim, atau mintalah anggota tim mengirimkannya.")
NO_ENTRIES = ("tidak ada entri di dalam email. Tulis satu entri per bagian, dipisahkan baris "
              "berisi ---, misalnya:\nsaran: Mohon lampu jalan di RT 03 diperbaiki.\n---\n"
              "keluhan: Antrean surat pengantar terlalu lama.")


def refused_opening(cfg: Config, member: StaffMember, message_id: str | None,
                    reason: str) -> tuple[Outgoing, ...]:
    """An opening whose sender is unproven: the administrator is alerted, the member is told
    at their real address how to send it again; no ticket is made."""
    outgoing: list[Outgoing] = []
    if cfg.commands.admin_address:
        outgoing.append(staff_note(cfg, None, cfg.commands.admin_address,
                                   "Peringatan keamanan: pembukaan kotak saran tanpa bukti "
                                   "pengirim", "Yth. Administrator,", [
            f"Sebuah email yang mengaku berasal dari staf {member.name} <{member.address}> "
            "mencatat pembukaan kotak saran, tetapi tidak dapat dibuktikan bahwa staf tersebut "
            "yang mengirimnya. Tanyakan kepadanya apakah ia mengirim email ini; jika tidak, "
            "alamat pengirimnya dipalsukan.", "Tidak ada tiket yang dibuat.",
            f"Message-ID: {message_id or '-'}", f"Keterangan teknis: {reason}"],
            answerable=False))
    record = record_address(cfg, member)
    how = (f"kirim ulang ke alamat khusus Bapak/Ibu: {record}" if record else
           "kirim ulang dari akun email resmi Bapak/Ibu yang ditandatangani (DKIM)")
    told = nothing_recorded(cfg, member, message_id,
                            "email ini tidak terbukti berasal dari alamat Bapak/Ibu. Jika "
                            f"Bapak/Ibu memang mengirimnya, {how}. Jika tidak, beri tahu "
                            "administrator.")
    outgoing.append(told)
    return tuple(outgoing)


def box_reminder(cfg: Config, member: StaffMember, last_opening: str | None) -> Outgoing:
    """The opening-day reminder to one team member. Its Reply-To is the member's record
    address: answering it with the entries records the opening, proven by that address."""
    last = (f"Pembukaan terakhir yang tercatat: {last_opening}." if last_opening else
            "Belum ada pembukaan kotak saran yang tercatat.")
    note = staff_note(cfg, None, member.email, "Pengingat: jadwal membuka kotak saran hari ini",
                      f"Yth. {member.name},", [
        "Hari ini jadwal membuka kotak saran di kantor desa. Setiap masukan warga akan "
        "ditindaklanjuti, jadi setiap kertas dicatat sebagai satu tiket.", last,
        "Cara mencatat: balas email ini (atau kirim email ke alamat desa dengan subjek "
        "\"Kotak Saran\"). Tulis satu entri per bagian, dipisahkan baris berisi ---, dan "
        "awali dengan jenisnya (saran, kritik, keluhan, pengaduan). Lampirkan foto atau "
        "pindaian kertasnya. Jika tidak ada isinya, abaikan email ini."], answerable=False)
    return replace(note, kind=OutboxKind.REMINDER, reply_to=record_address(cfg, member))
