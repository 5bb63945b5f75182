"""Tickets as the command line and the demo show them: rows for scripts, lines for people.

Pure formatting over rows the caller has read (through mailflow.store.queries), so
that `mailflow tickets`, `mailflow show` and the demo print exactly the same thing,
and tests can check every line from objects built in memory, without a database.

Every listing and export goes through a mailflow.core.privacy Redactor: subjects,
descriptions, attachment names and audit notes are shown as a reader without identity
rights may see them. The caller reads the reporter's row to build the Redactor (what to
hide), which shows nothing of it; only `show --with-identity` prints the stored text and
the identity, and the caller records that view on the ticket before printing it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.config import Config
from mailflow.core.privacy import Redactor, redactor_for
from mailflow.core.ticket_priority import describe
from mailflow.core.workdays import format_tanggal
from mailflow.core.workflow import FINAL
from mailflow.store.models import Attachment, OutboxMessage, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind, OutboxKind, OutboxState, Priority, Status

#: What `mailflow tickets` prints when nothing matches, instead of an empty screen.
NO_TICKETS = "Belum ada tiket."
#: ... and when tickets exist but none matches the filters given.
NO_MATCH = "Tidak ada tiket yang cocok dengan filter."
#: The mark of a ticket past its due date and not closed.
OVERDUE = "TERLAMBAT"
#: In place of the reporter's identity unless staff asked for it (and were logged).
IDENTITY_HIDDEN = "Pelapor    : Identitas pelapor dirahasiakan (gunakan --with-identity)"
# Events of these actors (a resident's reply, a stranger's mail) do not name their message;
# staff and system events do, so that a change can be traced to the mail that caused it.
_UNSOURCED_ACTORS = ("reporter", "other")
# A note is cut here so that one event stays one short paragraph in a terminal.
_NOTE_CHARS = 200
#: What `mailflow outbox` prints when no mail waits and none is parked.
NO_OUTBOX = "Tidak ada email yang menunggu atau ditahan."
# Mail of these kinds goes to the reporter: its address is identity and is never printed.
_RESIDENT_KINDS = (OutboxKind.ACK, OutboxKind.STATUS)
# An SMTP error is cut here in the outbox table (the JSON keeps more).
_ERROR_CHARS = 60
_ADDRESS = re.compile(r"<?[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+>?")
_SMTP_REPLY = re.compile(r"\((\d{3}), ['\"]([^'\"]*)['\"]")
_ACTORS = {"system": "sistem", "reporter": "pelapor", "other": "pengirim lain"}
_PROOFS = {"signed_reply": "alamat balasan bertanda", "dkim": "DKIM",
           "authserv": "Authentication-Results", "os_user": "pengguna OS"}
# Notes written in English by older versions (and by intake today), as staff read them.
_NOTE_WORDS = (
    (re.compile(r"\bmissing: ([a-z,]+)"), lambda m: "kurang: " + m[1].replace(",", ", ")),
    (re.compile(r"\brecorded by staff for a (\w+) complaint"),
     lambda m: f"dicatat oleh staf untuk pengaduan lewat {m[1]}"),
    (re.compile(r"\b(mailflow [a-z-]+(?: --[a-z-]+)*) by OS user (\S+)(?: for (\S+))?"),
     lambda m: f"lewat {m[1]} oleh pengguna OS {m[2]}" + (f" untuk {m[3]}" if m[3] else "")),
    (re.compile(r"\breply-to differs from from; acknowledged at from only"),
     lambda m: "alamat balasan (Reply-To) berbeda dari alamat pengirim (From); tanda terima "
               "hanya ke alamat pengirim"),
)


def local_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as staff read it: the village's clock, with its zone (WIB)."""
    return "-" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


class _Unredacted(Redactor):
    """Shows everything as stored: only for a view of the identity that has been recorded."""

    def text(self, text: str) -> str:
        return text

    def subject(self, subject: str) -> str:
        return subject

    def filename(self, name: str) -> str:
        return name


_AS_STORED = _Unredacted()


def known_addresses(cfg: Config) -> frozenset[str]:
    """The office's own addresses (staff, administrator, the mailbox): these may be printed."""
    own = [cfg.smtp.from_address, cfg.imap.username, cfg.commands.admin_address or ""]
    return frozenset(a.lower() for a in [*own, *(m.address for m in cfg.staff)] if a)


def redactor(cfg: Config, reporter: Reporter | None) -> Redactor:
    """What to hide of one ticket in listings and in `show` without identity."""
    return redactor_for(cfg, reporter.identity() if reporter is not None else None)


def is_overdue(ticket: Ticket, today: date) -> bool:
    """Past its due date (before `today`, the village's day), not closed, and not waiting for
    the reporter's data (the clock stands still then, core/promise.py)."""
    return (ticket.due_date < today and ticket.status not in FINAL
            and ticket.status is not Status.PERLU_DATA)


def ticket_row(ticket: Ticket, zone: ZoneInfo, hide: Redactor,
               today: date | None = None) -> dict[str, Any]:
    """One ticket for scripts (`tickets --json`): no identity, times in the village's zone.

    The subject is the one thing residents write here, so it is scrubbed (`hide`, built from
    this ticket's reporter). `overdue` compares the due date with `today` (default: today in
    `zone`). Plain strings, lists and a bool only, so the row is the same JSON whatever types
    the model uses; `received_at_text` is the time as the table prints it.
    """
    today = today or datetime.now(zone).date()
    return {
        "id": ticket.number,
        "status": str(ticket.status),
        "priority": str(ticket.priority),
        # Why (the suggester's reasons, scrubbed again on the way out) and who set it.
        "priority_reason": hide.text(ticket.priority_reason),
        "priority_set_by": ticket.priority_set_by,
        "assignee": ticket.assignee or "-",
        "channel": str(ticket.channel),
        "kind": str(ticket.kind) if ticket.kind else "-",  # a suggestion-box entry's kind
        "received_at": ticket.received_at.astimezone(zone).isoformat(),
        "received_at_text": local_time(ticket.received_at, zone),
        "due_date": ticket.due_date.isoformat(),
        "overdue": is_overdue(ticket, today),
        "subject": hide.subject(ticket.subject),
        "missing": [str(item) for item in ticket.missing_items],
    }


_PRIORITY_RANK = {value: rank for rank, value in enumerate(
    (Priority.DARURAT, Priority.TINGGI, Priority.SEDANG, Priority.RENDAH))}
_TICKET_LINE = "{:<14}  {:<13} {:<9} {:<24} {:<8} {:<20}  {:<11}  {:<9}  {}"


def by_urgency(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Most urgent first: by priority (darurat first), then the earliest due date."""
    return sorted(rows, key=lambda r: (_PRIORITY_RANK.get(Priority(r["priority"]), 9),
                                       r["due_date"], r["id"]))


def ticket_line(row: Mapping[str, Any]) -> str:
    """One row of the `tickets` table, in columns that line up for the usual widths."""
    received = row.get("received_at_text") or row["received_at"][:16]
    return _TICKET_LINE.format(
        row["id"], row["status"], row.get("priority", "-"), row.get("assignee", "-")[:24],
        row["channel"], received, row["due_date"], OVERDUE if row.get("overdue") else "",
        row["subject"][:60]).rstrip()


def ticket_table(rows: Sequence[Mapping[str, Any]], *, filtered: bool = False) -> list[str]:
    """The `tickets` listing: a header and a line per row, or a sentence saying there is none
    (`filtered`: tickets exist, but none matches the filters)."""
    if not rows:
        return [NO_MATCH if filtered else NO_TICKETS]
    header = _TICKET_LINE.format("TIKET", "STATUS", "PRIORITAS", "PETUGAS", "SALURAN", "DITERIMA",
                                 "BATAS WAKTU", "", "PERIHAL")
    return [header, *(ticket_line(row) for row in rows)]


def show_lines(ticket: Ticket, zone: ZoneInfo, *, attachments: Sequence[Attachment],
               events: Sequence[TicketEvent], hide: Redactor,
               identity: Sequence[str] | None = None,
               mail: Sequence[Mapping[str, Any]] | None = None) -> list[str]:
    """The `show` page: the ticket, its description, files and audit trail.

    `identity` is `identity_lines(...)` when staff asked for it (and the view was recorded):
    then everything is printed as stored. None keeps the reporter hidden, which is the
    default because the page is often read over someone's shoulder: subject, description,
    file names and notes then go through `hide`. `mail` is the ticket's `outbox_row(...)`s,
    printed as "Email keluar" when given.
    """
    if identity is not None:
        hide = _AS_STORED
    priority = hide.text(describe(ticket.priority, ticket.priority_reason, ticket.priority_set_by))
    lines = [
        f"Tiket      : {ticket.number}",
        f"Status     : {ticket.status} ({ticket.status.label})",
        f"Saluran    : {ticket.channel}" + (f" ({ticket.kind})" if ticket.kind else ""),
        f"Diterima   : {ticket.received_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        f"Batas waktu: {ticket.due_date.isoformat()} ({format_tanggal(ticket.due_date)})",
        f"Perihal    : {hide.subject(ticket.subject)}",
        f"Prioritas  : {priority}",
        f"Petugas    : {ticket.assignee or '-'}",
    ]
    if ticket.missing:
        lines.append(f"Data kurang: {ticket.missing}")
    lines.extend(identity if identity is not None else [IDENTITY_HIDDEN])
    lines.extend(["", "Uraian:", *hide.text(ticket.description).split("\n"), ""])
    lines.extend(f"Lampiran   : {hide.filename(item.filename)} ({item.content_type}, "
                 f"{item.size} byte), disimpan di {item.path}" for item in attachments)
    if mail is not None:
        lines.extend(mail_lines(mail))
    lines.append("Riwayat:")
    for event in events:
        lines.extend(event_lines(event, zone, hide))
    return lines


def mail_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The `show` page's "Email keluar": whether each mail of the ticket went out.

    `rows` are `outbox_row(...)`s of the ticket; the reporter is named by role only.
    """
    lines = ["Email keluar:"]
    for row in rows:
        if row["state"] == OutboxState.SENT:
            what = f"terkirim {row['sent_at_text']}"
        elif row["state"] == OutboxState.PARKED:
            what = (f"DITAHAN setelah {row['attempts']} percobaan: {row['error_short'] or '-'} "
                    f"(kirim ulang: mailflow outbox --retry {row['id']})")
        else:
            tried = (f", percobaan {row['attempts']}, berikutnya {row['next_attempt_text']}"
                     if row["attempts"] else "")
            what = f"menunggu sejak {row['created_at_text']}{tried}"
        lines.append(f"  #{row['id']} {row['kind_label']} untuk {row['recipient']}: {what}")
    if len(lines) == 1:
        lines.append("  (belum ada)")
    return lines


def shown_recipient(recipient: str, kind: OutboxKind, known: Collection[str]) -> str:
    """Who a mail went to, as staff may see it: a staff or administrator address as it is; a
    reporter (or anyone else outside the office) by role, since the address is identity."""
    if recipient.lower() in known:
        return recipient.lower()
    return "pelapor" if kind in _RESIDENT_KINDS else "(alamat dirahasiakan)"


def short_error(error: str, known: Collection[str], chars: int = _ERROR_CHARS) -> str:
    """An SMTP error on one line, every address outside the office replaced (servers quote
    the recipient), cut to `chars`."""
    reply = _SMTP_REPLY.search(error) if chars <= _ERROR_CHARS else None
    if reply is not None:  # "[SMTPRecipientRefused(550, '5.1.1 ...', '<a@b>')]" as "550 5.1.1 ..."
        error = f"{reply[1]} {reply[2]}"
    text = " ".join(_ADDRESS.sub(
        lambda m: m[0] if m[0].strip("<>").lower() in known else "<alamat>", error).split())
    return text if len(text) <= chars else text[:chars - 1] + "…"


def outbox_row(item: OutboxMessage, ticket_number: str | None, zone: ZoneInfo,
               known: Collection[str]) -> dict[str, Any]:
    """One outbox row for `outbox --json`, the outbox table and `show`: no resident address.

    `known` is the set of lower-case addresses that may be printed (staff, administrator).
    The `*_text` keys are the times as the table prints them; the others are ISO 8601.
    """
    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(zone).isoformat()

    return {
        "id": item.id, "kind": str(item.kind), "kind_label": item.kind.label,
        "ticket": ticket_number, "state": str(item.state), "state_label": item.state.label,
        "attempts": item.attempts, "recipient": shown_recipient(item.recipient, item.kind, known),
        "created_at": iso(item.created_at), "next_attempt_at": iso(item.next_attempt_at),
        "sent_at": iso(item.sent_at), "last_error": short_error(item.last_error, known, 300),
        "error_short": short_error(item.last_error, known),
        "created_at_text": local_time(item.created_at, zone),
        "next_attempt_text": local_time(item.next_attempt_at, zone),
        "sent_at_text": local_time(item.sent_at, zone),
    }


def outbox_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The `mailflow outbox` listing: a header and a line per message, or a sentence."""
    if not rows:
        return [NO_OUTBOX]
    line = "{:>5}  {:<23} {:<14} {:<9} {:>5}  {:<20} {:<24} {}"
    lines = [line.format("ID", "JENIS", "TIKET", "KEADAAN", "COBA", "BERIKUTNYA", "PENERIMA",
                         "GALAT TERAKHIR")]
    for row in rows:
        waiting = row["next_attempt_text"] if row["state"] == OutboxState.PENDING else "-"
        lines.append(line.format(row["id"], row["kind_label"], row["ticket"] or "-",
                                 row["state_label"], row["attempts"], waiting, row["recipient"],
                                 row["error_short"] or "-").rstrip())
    return lines


def identity_lines(reporter: Reporter | None) -> list[str]:
    """The reporter's identity for `show --with-identity`; a ticket may have none on record."""
    if reporter is None:
        return ["Pelapor    : (tidak ada data)"]
    nik_note = f" ({reporter.nik_problem})" if reporter.nik_problem else ""
    return [
        f"Nama       : {reporter.name or '-'}",
        f"NIK        : {reporter.nik or '-'}{nik_note}",
        f"Telepon    : {reporter.phone or '-'}",
        f"Alamat     : {reporter.address or '-'}",
        f"Email      : {reporter.email or '-'}",
    ]


def event_lines(event: TicketEvent, zone: ZoneInfo, hide: Redactor) -> list[str]:
    """One entry of the audit trail: when, what, who, proven how, from which message.

    A second, indented line carries the note, folded to one paragraph and scrubbed by `hide`
    (staff write residents' names into messages too), except for a reporter's reply: it
    is the resident's own text, which `show` leaves out.
    """
    change = f" {event.from_status or ''}->{event.to_status}" if event.to_status else ""
    proof = f" [{_PROOFS.get(event.auth, event.auth)}]" if event.auth else ""
    source = (f" pesan {event.message_id}"
              if event.message_id and event.actor not in _UNSOURCED_ACTORS else "")
    actor = _ACTORS.get(event.actor, event.actor)
    lines = [f"  {local_time(event.at, zone)}  {event.kind.label}{change}  oleh {actor}{proof}"
             f"{source}"]
    note = " ".join(hide.text(event.note).split())
    for pattern, words in _NOTE_WORDS:
        note = pattern.sub(words, note)
    if note and event.kind != EventKind.REPLY:
        lines.append(f"      {note[:_NOTE_CHARS]}")
    return lines
