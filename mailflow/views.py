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

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.config import Config
from mailflow.core.privacy import Redactor, redactor_for
from mailflow.core.workdays import format_tanggal
from mailflow.store.models import Attachment, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind

#: What `mailflow tickets` prints when nothing matches, instead of an empty screen.
NO_TICKETS = "Belum ada tiket."
#: In place of the reporter's identity unless staff asked for it (and were logged).
IDENTITY_HIDDEN = "Pelapor    : Identitas pelapor dirahasiakan (gunakan --with-identity)"
# Events of these actors (a resident's reply, a stranger's mail) do not name their message;
# staff and system events do, so that a change can be traced to the mail that caused it.
_UNSOURCED_ACTORS = ("reporter", "other")
# A note is cut here so that one event stays one short paragraph in a terminal.
_NOTE_CHARS = 200


class _Unredacted(Redactor):
    """Shows everything as stored: only for a view of the identity that has been recorded."""

    def text(self, text: str) -> str:
        return text

    def subject(self, subject: str) -> str:
        return subject

    def filename(self, name: str) -> str:
        return name


_AS_STORED = _Unredacted()


def redactor(cfg: Config, reporter: Reporter | None) -> Redactor:
    """What to hide of one ticket in listings and in `show` without identity."""
    return redactor_for(cfg, reporter.identity() if reporter is not None else None)


def ticket_row(ticket: Ticket, zone: ZoneInfo, hide: Redactor) -> dict[str, Any]:
    """One ticket for scripts (`tickets --json`): no identity, times in the village's zone.

    The subject is the one thing residents write here, so it is scrubbed (`hide`, built from
    this ticket's reporter). Plain strings and lists only, so the row is the same JSON
    whatever types the model uses.
    """
    return {
        "id": ticket.number,
        "status": str(ticket.status),
        "channel": str(ticket.channel),
        "received_at": ticket.received_at.astimezone(zone).isoformat(),
        "due_date": ticket.due_date.isoformat(),
        "subject": hide.subject(ticket.subject),
        "missing": [str(item) for item in ticket.missing_items],
    }


def ticket_line(row: Mapping[str, Any]) -> str:
    """One row of the `tickets` table, in columns that line up for the usual widths."""
    return (f"{row['id']}  {row['status']:<13} {row['channel']:<8} {row['received_at'][:16]}  "
            f"tenggat {row['due_date']}  {row['subject'][:60]}")


def ticket_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The `tickets` listing: a line per row, or a sentence saying there is none."""
    return [ticket_line(row) for row in rows] if rows else [NO_TICKETS]


def show_lines(ticket: Ticket, zone: ZoneInfo, *, attachments: Sequence[Attachment],
               events: Sequence[TicketEvent], hide: Redactor,
               identity: Sequence[str] | None = None) -> list[str]:
    """The `show` page: the ticket, its description, files and audit trail.

    `identity` is `identity_lines(...)` when staff asked for it (and the view was recorded):
    then everything is printed as stored. None keeps the reporter hidden, which is the
    default because the page is often read over someone's shoulder: subject, description,
    file names and notes then go through `hide`.
    """
    if identity is not None:
        hide = _AS_STORED
    lines = [
        f"Tiket      : {ticket.number}",
        f"Status     : {ticket.status} ({ticket.status.label})",
        f"Kanal      : {ticket.channel}",
        f"Diterima   : {ticket.received_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        f"Tenggat    : {ticket.due_date.isoformat()} ({format_tanggal(ticket.due_date)})",
        f"Subjek     : {hide.subject(ticket.subject)}",
        f"Prioritas  : {ticket.priority}",
        f"Petugas    : {ticket.assignee or '-'}",
    ]
    if ticket.missing:
        lines.append(f"Kurang     : {ticket.missing}")
    lines.extend(identity if identity is not None else [IDENTITY_HIDDEN])
    lines.extend(["", "Uraian:", *hide.text(ticket.description).split("\n"), ""])
    lines.extend(f"Lampiran   : {hide.filename(item.filename)} ({item.content_type}, "
                 f"{item.size} bytes)" for item in attachments)
    lines.append("Riwayat:")
    for event in events:
        lines.extend(event_lines(event, zone, hide))
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
    proof = f" [{event.auth}]" if event.auth else ""
    source = (f" pesan {event.message_id}"
              if event.message_id and event.actor not in _UNSOURCED_ACTORS else "")
    when = f"{event.at.astimezone(zone):%Y-%m-%d %H:%M}"
    lines = [f"  {when}  {event.kind}{change}  oleh {event.actor}{proof}{source}"]
    note = " ".join(hide.text(event.note).split())
    if note and event.kind != EventKind.REPLY:
        lines.append(f"      {note[:_NOTE_CHARS]}")
    return lines
