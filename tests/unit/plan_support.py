"""Plain data for testing the pure plans: a realistic configuration, tickets, messages.

The values mirror tests/e2e/support.py (the same village, staff, resident and secret), so a
unit test here states in a millisecond what an end-to-end test states through Dovecot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.config import Config, StaffMember, parse_config
from mailflow.core.identity import Identity
from mailflow.core.notices import Outgoing
from mailflow.core.parse import ParsedMessage, parse_message
from mailflow.core.tickets import TicketFacts
from mailflow.vocabulary import Missing, OutboxKind, Status

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 11, 27, 10, tzinfo=WIB)  # a Friday; due Tuesday 2026-12-08
DUE = date(2026, 12, 8)
NUMBER = "ADU-2026-00001"
ACK_ID = "<ack-1@klero.desa.id>"

INBOX = "pengaduan@klero.desa.id"
SITI = "siti@warga.example"
BUDI = "budi@warga.example"
SEKDES = "sekdes@klero.desa.id"  # verifikator
KASI = "kasi@klero.desa.id"  # petugas
KADES = "kades@klero.desa.id"  # kepala desa
ADMIN = "admin@klero.desa.id"
SECRET = "rahasia-desa-klero-untuk-tes"
STAFF: list[dict[str, Any]] = [
    {"email": SEKDES, "name": "Sekretaris Desa", "roles": ["verifikator"]},
    {"email": KASI, "name": "Kasi Pelayanan", "roles": ["petugas"]},
    {"email": KADES, "name": "Kepala Desa", "roles": ["kepala_desa"]},
]

SITI_NIK = "3322114506890002"
COMPLETE_BODY = (
    "Nama: Siti Aminah\n"
    f"NIK: {SITI_NIK}\n"
    "Alamat: Dusun Krajan RT 02/RW 05\n"
    "No. HP: 0812-3456-7890\n"
    "\n"
    "Jalan di depan balai dusun Krajan berlubang besar sejak bulan lalu dan sudah dua kali\n"
    "menyebabkan pengendara motor jatuh. Mohon segera diperbaiki.\n"
)
DESCRIPTION = ("Jalan di depan balai dusun Krajan berlubang besar sejak bulan lalu dan sudah dua "
               "kali menyebabkan pengendara motor jatuh. Mohon segera diperbaiki.")
# What no one but the verifier may read about Siti.
SITI_SECRETS = ("Siti Aminah", SITI_NIK, "Krajan RT 02", "0812-3456-7890", "81234567890", SITI)


def config(*, staff: Sequence[dict[str, Any]] = STAFF, **sections: dict[str, Any]) -> Config:
    """The end-to-end tests' configuration, without servers: plans never connect to them."""
    data: dict[str, Any] = {
        "village": {"name": "Desa Klero"},
        "imap": {"host": "imap.invalid", "security": "plain", "username": INBOX,
                 "password": "x"},
        "smtp": {"host": "smtp.invalid", "security": "plain", "from_address": INBOX,
                 "from_name": "Pemerintah Desa Klero"},
        "storage": {"directory": "/nonexistent/mailflow"},
        "commands": {"accept": ["signed_reply", "authserv", "dkim"], "secret": SECRET,
                     "trusted_authserv_ids": ["mx.klero.desa.id"], "admin_address": ADMIN},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    data["staff"] = list(staff)
    return parse_config(data, source="test")


def member(cfg: Config, address: str) -> StaffMember:
    found = cfg.staff_member(address)
    assert found is not None, address
    return found


def mail(body: str = COMPLETE_BODY, *, sender: str = f"Siti Aminah <{SITI}>",
         subject: str = "Pengaduan Masyarakat", message_id: str | None = "<keluhan-1@warga.example>",
         attachments: Iterable[tuple[str, bytes]] = (), **headers: str) -> ParsedMessage:
    """A message as intake parses it; `attachments` are (filename, bytes) of image/png."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = INBOX
    msg["Subject"] = subject
    msg["Date"] = format_datetime(RECEIVED)
    if message_id is not None:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    for filename, data in attachments:
        msg.add_attachment(data, maintype="image", subtype="png", filename=filename)
    return parse_message(msg.as_bytes())


def staff_mail(sender: str, body: str, *, message_id: str = "<balasan-1@klero.desa.id>"
               ) -> ParsedMessage:
    """What a mail program sends when staff press Reply on a notification: quoted history below."""
    quoted = ("\n\nPada Jum, 27 Nov 2026 pukul 10.05 Layanan <pengaduan@klero.desa.id> menulis:\n"
              f"> Pengaduan {NUMBER} perlu diverifikasi.\n> Nama    : Siti Aminah\n")
    return mail(body + quoted, sender=sender, subject=f"Re: [{NUMBER}] Pengaduan baru: Pengaduan "
                "Masyarakat", message_id=message_id, In_Reply_To="<notify-1@klero.desa.id>")


def resident_mail(body: str, *, sender: str = f"Siti Aminah <{SITI}>") -> ParsedMessage:
    """A resident's answer to the acknowledgement, quoting it."""
    quoted = (f"\n\nPada Jum, 27 Nov 2026 pukul 10.05 Pemerintah Desa Klero <{INBOX}> menulis:\n"
              f"> Terima kasih, pengaduan Anda telah kami terima dan dicatat dengan nomor {NUMBER}\n")
    return mail(body + quoted, sender=sender, subject=f"Re: [{NUMBER}] Pengaduan Bapak/Ibu telah diterima",
                message_id="<balasan-warga-1@warga.example>", In_Reply_To=ACK_ID)


def siti(**changes: Any) -> Identity:
    """Siti's identity as the reporter row holds it."""
    identity = Identity(name="Siti Aminah", nik=SITI_NIK, phone="+6281234567890",
                        address="Dusun Krajan RT 02/RW 05", email=SITI)
    return replace(identity, **changes)


def ticket(status: Status = Status.DITERIMA, **changes: Any) -> TicketFacts:
    """Siti's ticket as the store would hand it to a decision."""
    facts = TicketFacts(number=NUMBER, status=status, received_at=RECEIVED, due_date=DUE,
                        subject="Pengaduan Masyarakat", description=DESCRIPTION,
                        ack_message_id=ACK_ID)
    return replace(facts, **changes)


def waiting_for(*missing: Missing, **changes: Any) -> TicketFacts:
    return ticket(Status.PERLU_DATA, missing=missing, **changes)


def sent(outgoing: Iterable[Outgoing]) -> list[tuple[OutboxKind, str]]:
    """(kind, recipient) of each outgoing message, in order."""
    return [(o.kind, o.to) for o in outgoing]


def to(outgoing: Iterable[Outgoing], address: str) -> list[Outgoing]:
    return [o for o in outgoing if o.to == address]


def text_of(item: Outgoing) -> str:
    """Everything a staff note or notification says, as one string (to look for words in it)."""
    ctx = item.context
    parts = [item.subject, *ctx.get("paragraphs", ()), str(ctx.get("description", "")),
             str(ctx.get("subject", "")), str(ctx.get("message", "")),
             str(ctx.get("identity", "")), str(ctx.get("salutation", ""))]
    return "\n".join(parts)
