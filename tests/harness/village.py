"""The test village: its addresses and staff, a resident's complaint, and a configuration.

Shared by the end-to-end tests and the benchmark, so both run mailflow against the
same village. Complaints are built by mailflow.demo.mail's builder, as the demo's
are; here they get the tests' defaults: Siti's complete complaint, sent at a fixed
moment so that dates in tickets and answers do not depend on the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailflow.config import Config, parse_config
from mailflow.demo.mail import resident_mail
from tests.harness import postgres

INBOX = "pengaduan@klero.desa.id"
SITI = "siti@warga.example"
BUDI = "budi@warga.example"
SEKDES = "sekdes@klero.desa.id"  # verifikator
KASI = "kasi@klero.desa.id"  # petugas
KADES = "kades@klero.desa.id"  # kepala desa
ADMIN = "admin@klero.desa.id"
SECRET = "rahasia-desa-klero-untuk-tes"
STAFF = [
    {"email": SEKDES, "name": "Sekretaris Desa", "roles": ["verifikator"]},
    {"email": KASI, "name": "Kasi Pelayanan", "roles": ["petugas"]},
    {"email": KADES, "name": "Kepala Desa", "roles": ["kepala_desa"]},
]

COMPLETE_BODY = (
    "Nama: Siti Aminah\n"
    "NIK: 3322114506890002\n"
    "Alamat: Dusun Krajan RT 02/RW 05\n"
    "No. HP: 0812-3456-7890\n"
    "\n"
    "Jalan di depan balai dusun Krajan berlubang besar sejak bulan lalu dan sudah dua kali\n"
    "menyebabkan pengendara motor jatuh. Mohon segera diperbaiki.\n"
)
#: The Date header of every test complaint (Friday morning in the village).
SENT_AT = datetime(2026, 11, 27, 2, 55, tzinfo=UTC)


#: The tests' `[intake] take_since`: everything delivered before the first poll is taken.
TAKE_ALL_SINCE = "2000-01-01"


def config_for(world: Any, tmp_path: Path, *, staff: list[dict[str, Any]] | None = None,
               **sections: dict[str, Any]) -> Config:
    """A validated config pointing at `world`'s servers (anything with imap_host,
    imap_port, smtp_host, smtp_port and users), storing under `tmp_path`; `sections`
    override single keys, e.g. intake={"poll_seconds": 0.3}; `staff` replaces STAFF. Mail
    already in the mailbox at the first poll is taken (`[intake] take_since` set early)."""
    data: dict[str, dict[str, Any]] = {
        "village": {"name": "Desa Klero"},
        "imap": {"host": world.imap_host, "port": world.imap_port, "security": "plain",
                 "username": INBOX, "password": world.users[INBOX], "timeout_seconds": 10.0},
        "smtp": {"host": world.smtp_host, "port": world.smtp_port, "security": "plain",
                 "from_address": INBOX, "from_name": "Pemerintah Desa Klero",
                 "timeout_seconds": 10.0},
        "storage": {"directory": str(tmp_path / "state")},
        "commands": {"accept": ["signed_reply", "authserv", "dkim"], "secret": SECRET,
                     "trusted_authserv_ids": ["mx.klero.desa.id"], "admin_address": ADMIN},
        # Tests deliver their mail before the first poll: taking it is the explicit choice
        # that a real first start does not make by default (README "First start and old mail").
        # intake={"take_since": None} leaves it unset.
        "intake": {"take_since": TAKE_ALL_SINCE},
        # The daemon runs the clock job on the real clock: on a weekday morning it would mail
        # reminders, escalations and digests into tests about something else. The tests of
        # the clock turn these on (reminders={"enabled": True}, digest={"enabled": True}).
        "reminders": {"enabled": False},
        "digest": {"enabled": False},
        "report": {"enabled": False},  # the monthly report to the head, likewise
    }
    if postgres.on_postgresql():  # MAILFLOW_TEST_DB: this test's own database, not a file
        data["database"] = {"url": postgres.database_url(tmp_path, migrated=True)}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    data["staff"] = STAFF if staff is None else staff  # type: ignore[assignment]
    return parse_config(data, source="test")


def complaint(sender: str = f"Siti Aminah <{SITI}>", subject: str = "Pengaduan Masyarakat",
              body: str = COMPLETE_BODY, *, html: str | None = None, message_id: str | None = "",
              to: str = INBOX, **headers: str) -> bytes:
    """A complaint's raw bytes: `body` as plain text, or HTML only when `html` is given.

    `message_id` "" makes a fresh one and None leaves it out (see resident_mail); `to` is
    where it was sent (a signed reply address, say; it is delivered to the inbox all the same).
    """
    text = None if html is not None else body
    return resident_mail(sender, subject, text, html, to=to, date=SENT_AT,
                         message_id=message_id, **headers).as_bytes()
