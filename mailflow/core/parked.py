"""The daily note to the administrator about mail that could not be delivered (parked).

A parked message waits until someone fixes its cause and puts it back in the queue; without
this note the only trace was a log line. The note lists each one (what kind, which ticket,
since when, the server's error in one line), says who it was for only as "pelapor" or a
staff address (a resident's address is identity), and names the command that retries.
Pure: the runner (runners/parked_note.py) reads the rows and queues the note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailflow.config import Config
from mailflow.core.notices import Outgoing, staff_note
from mailflow.core.workdays import format_moment
from mailflow.vocabulary import OutboxKind

RETRY_COMMAND = "mailflow outbox --retry"
# At most this many are listed one by one; the rest are counted.
LISTED = 30
_ERROR_CHARS = 160
_ADDRESS = re.compile(r"<?(?P<address>[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+)>?")


@dataclass(frozen=True)
class ParkedMail:
    """One parked outbox row, as the note reads it."""

    kind: OutboxKind
    ticket: str | None
    recipient: str
    since: datetime  # the last attempt, the one that parked it
    error: str


def recipient_word(cfg: Config, address: str) -> str:
    """Who a parked mail was for, without identity: a staff address, or "pelapor"."""
    if cfg.staff_member(address) is not None:
        return address.lower()
    if address.lower() == (cfg.commands.admin_address or "").lower():
        return "administrator"
    return "pelapor"


def error_line(cfg: Config, error: str) -> str:
    """The server's error on one line, cut short, with every non-staff address hidden (an
    SMTP error quotes the recipient, who may be a resident)."""
    line = " ".join(error.split())

    def hide(match: re.Match[str]) -> str:
        known = cfg.staff_member(match["address"]) is not None
        return match.group(0) if known else "<alamat disembunyikan>"

    line = _ADDRESS.sub(hide, line)
    return (line[:_ERROR_CHARS - 3] + "...") if len(line) > _ERROR_CHARS else (line or "-")


def _item(cfg: Config, index: int, mail: ParkedMail) -> str:
    ticket = f", tiket {mail.ticket}" if mail.ticket else ""
    return (f"{index}. {mail.kind.label} untuk {recipient_word(cfg, mail.recipient)}{ticket}\n"
            f"   tertahan sejak: {format_moment(mail.since, cfg.calendar.timezone)}\n"
            f"   kesalahan: {error_line(cfg, mail.error)}")


def parked_note(cfg: Config, admin: str, parked: Sequence[ParkedMail]) -> Outgoing:
    """The note to `admin` listing `parked` (not empty)."""
    items = [_item(cfg, i, mail) for i, mail in enumerate(parked[:LISTED], start=1)]
    if len(parked) > LISTED:
        items.append(f"... dan {len(parked) - LISTED} email lainnya.")
    paragraphs = [
        f"Ada {len(parked)} email dari layanan pengaduan yang tidak dapat dikirim dan kini "
        "tertahan (tidak akan dicoba lagi dengan sendirinya):",
        "\n\n".join(items),
        "Periksa penyebabnya: alamat tujuan yang salah atau penuh, atau pengaturan [smtp] di "
        "berkas konfigurasi mailflow. Setelah diperbaiki, kirim ulang semuanya dengan perintah "
        f"berikut di server:\n\n    {RETRY_COMMAND}",
        "Pemberitahuan ini dikirim paling banyak sekali setiap hari kerja, selama masih ada "
        "email yang tertahan.",
    ]
    return staff_note(cfg, None, admin, f"Pemberitahuan: {len(parked)} email tertahan, belum "
                      "terkirim", "Yth. Administrator,", paragraphs, answerable=False)
