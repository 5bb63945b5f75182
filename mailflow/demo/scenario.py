"""`mailflow demo`: the real daemon code against embedded mail servers on loopback.

Needs no root and no mail account: an in-memory IMAP server (pymap) holds the
village inbox and the residents' mailboxes, and an SMTP server (aiosmtpd) on
127.0.0.1 delivers mailflow's answers into those mailboxes. A few realistic
complaints are seeded, one poll runs, and the result is printed as residents and
staff would see it; then a verifier's reply, this month's report, and the digest staff get
on the next working day (demo/digest.py).
"""

from __future__ import annotations

import base64
import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from imap_tools import MailBoxUnencrypted

from mailflow import views
from mailflow.config import Config, parse_config
from mailflow.core.parse import parse_message
from mailflow.demo.digest import show_digest
from mailflow.demo.mail import INBOX, resident_mail, to_toml
from mailflow.errors import ConfigError
from mailflow.store.db import Session, make_engine
from mailflow.store.village_reads import listing

if TYPE_CHECKING:
    from mailflow.demo.loopback import EmbeddedIMAP
    from mailflow.service import PollResult, Service

PASSWORD = "demo"
EX_USAGE = 2
#: Written first into a --keep DIR: the demo only ever writes into a directory it made.
MARKER = ".mailflow-demo"
MARKER_TEXT = "This directory was made by `mailflow demo --keep`; it holds a demo, not a service.\n"
SEKDES = "sekdes@klero.desa.id"
KASI = "kasi@klero.desa.id"
ADMIN = "admin@klero.desa.id"
RESIDENTS = ("siti@warga.example", "budi@warga.example", "rina@warga.example",
             "liburan@warga.example", "pak.rt@warga.example")

# A 1x1 PNG, standing in for a resident's photo of the problem.
_PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def seed_messages() -> list[tuple[str, bytes]]:
    """(what it shows, raw bytes) for each message put into the village inbox."""
    siti = resident_mail(
        "Siti Aminah <siti@warga.example>", "Pengaduan Masyarakat",
        "Nama: Siti Aminah\nNIK: 3322114506890002\nAlamat: Dusun Krajan RT 02/RW 05\n"
        "No. HP: 0812-3456-7890\n\nJalan di depan balai dusun Krajan berlubang besar sejak "
        "bulan lalu dan sudah dua kali menyebabkan pengendara motor jatuh. Mohon segera "
        "diperbaiki.\n",
    )
    budi = resident_mail(
        "Budi Santoso <budi@warga.example>", "Re: pengaduan masyarakat - air PDAM",
        html="<div dir=\"ltr\"><p>Nama: <b>Budi Santoso</b></p><p>Air bersih di RT 03 "
             "tidak mengalir sudah <i>lima hari</i>, warga harus membeli air galon.</p>"
             "<p>Terima kasih.</p></div>",
    )
    rina = resident_mail(
        "=?UTF-8?B?UmluYSBXdWxhbmRhcmk=?= <rina@warga.example>",
        "=?UTF-8?Q?Fwd=3A_PENGADUAN_MASYARAKAT_=E2=80=93_lampu_jalan_mati?=",
        "Nama : Rina Wulandari\nNIK 3322116008950001\nWA 0857 1122 3344\n\nLampu penerangan "
        "jalan di perempatan dekat masjid mati sejak Jumat, jalan menjadi sangat gelap pada "
        "malam hari. Foto terlampir.\n",
    )
    rina.add_attachment(_PHOTO, maintype="image", subtype="png", filename="lampu-mati.png")
    vacation = resident_mail(
        "Liburan <liburan@warga.example>", "Automatic reply: Pengaduan Masyarakat",
        "Saya sedang cuti sampai tanggal 5.", Auto_Submitted="auto-replied",
    )
    unrelated = resident_mail("Pak RT <pak.rt@warga.example>", "Undangan rapat RT 02",
                      "Rapat RT hari Minggu pukul 19.30 di rumah Pak RW.")
    return [
        ("complete complaint (plain text)", siti.as_bytes()),
        ("HTML-only complaint without NIK", budi.as_bytes()),
        ("encoded subject, photo attached", rina.as_bytes()),
        ("the same complaint delivered twice", siti.as_bytes()),
        ("vacation auto-reply", vacation.as_bytes()),
        ("unrelated mail", unrelated.as_bytes()),
    ]


def demo_config(directory: Path, imap_port: int, smtp_port: int) -> dict[str, object]:
    return {
        "village": {"name": "Desa Klero", "region": "Kecamatan Tengaran, Kabupaten Semarang"},
        "imap": {"host": "127.0.0.1", "port": imap_port, "security": "plain", "username": INBOX,
                 "password": PASSWORD, "folder": "INBOX"},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "plain",
                 "from_address": INBOX, "from_name": "Pemerintah Desa Klero"},
        "storage": {"directory": str(directory / "state")},
        # The demo seeds its mailbox before the first poll: take that mail (README "First
        # start and old mail"); a real first start takes nothing that was already there.
        "intake": {"take_since": "2026-01-01"},
        "staff": [{"email": SEKDES, "name": "Sekretaris Desa", "roles": ["verifikator"]},
                  {"email": KASI, "name": "Kasi Pelayanan", "roles": ["petugas"]}],
        "commands": {"accept": ["signed_reply"], "secret": "demo-secret-desa-klero",
                     "admin_address": ADMIN},
    }


def _mailbox(port: int, user: str) -> list[tuple[str, str, str]]:
    with MailBoxUnencrypted("127.0.0.1", port).login(user, PASSWORD) as box:
        found = []
        for msg in box.fetch(mark_seen=False, bulk=False):
            found.append((msg.subject, ",".join(msg.flags), msg.obj.as_bytes().decode("utf-8",
                                                                                     "replace")))
        return found


def require_demo_servers() -> None:
    """ConfigError unless the demo's embedded servers are installed (the `demo` extra)."""
    missing = [name for name in ("pymap", "aiosmtpd") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"mailflow demo needs its embedded mail servers ({', '.join(missing)} "
                          "missing), which a production install leaves out: try the demo from "
                          "a checkout with `make demo`, or install mailflow[demo] elsewhere")


def run_demo(keep: str | None) -> int:
    require_demo_servers()
    if keep:
        refusal = keep_refusal(Path(keep))
        if refusal:
            print(f"mailflow: {refusal}", file=sys.stderr)
            return EX_USAGE
    from mailflow.demo.loopback import EmbeddedIMAP
    from mailflow.demo.smtp import LoopbackSMTP
    from mailflow.service import Service

    directory = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="mailflow-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    users = {INBOX: PASSWORD, **dict.fromkeys((*RESIDENTS, SEKDES, KASI, ADMIN), PASSWORD)}
    imap = EmbeddedIMAP(users)
    imap.start()
    smtp = LoopbackSMTP(deliver=imap.deliver, knows=lambda addr: addr.lower() in users)
    smtp.start()
    try:
        data = demo_config(directory, imap.port, smtp.port)
        (directory / "config.toml").write_text(to_toml(data), encoding="utf-8")
        cfg = parse_config(data, source=str(directory / "config.toml"))
        print(f"== Embedded IMAP on 127.0.0.1:{imap.port}, SMTP on 127.0.0.1:{smtp.port}")
        print(f"== Village inbox {INBOX}: seeding {len(seed_messages())} messages")
        for label, raw in seed_messages():
            imap.deliver(INBOX, raw)
            print(f"   - {label}")
        print("\n== One poll of the real daemon code (mailflow poll --once)")
        service = Service(cfg)
        result = service.poll_once()
        service.engine.dispose()
        print(_summary(result))
        _show_tickets(cfg)
        _show_acknowledgements(imap.port)
        _show_inbox(imap.port)
        _staff_round(imap, service_factory=lambda: Service(cfg))
        numbers = _show_tickets(cfg)
        _show_report(cfg)
        show_digest(cfg, lambda user: _mailbox(imap.port, user), (SEKDES, KASI), SEKDES)
        if keep:
            _kept_hint(directory, numbers)
    finally:
        smtp.stop()
        imap.stop()
        if not keep:
            print("(the demo directory is temporary; pass --keep DIR to keep it)")
            shutil.rmtree(directory, ignore_errors=True)
    return 0


def keep_refusal(directory: Path) -> str | None:
    """Why the demo must not keep its state in `directory`, or None when it may.

    The demo writes config.toml and a database there: only a new or empty directory, never
    one it did not make (`--keep /etc/mailflow` must not replace a real configuration), and
    not one holding an earlier demo, whose mailboxes died with its servers (a second run
    would add its tickets again beside the first run's).
    """
    if directory.exists() and not directory.is_dir():
        return f"{directory} is not a directory; pick a new one for --keep"
    if not directory.is_dir() or not any(directory.iterdir()):
        return None
    if (directory / MARKER).is_file():
        return (f"{directory} already holds a demo; remove it (rm -r {directory}) or pick "
                "another DIR")
    return (f"{directory} is not empty and was not made by `mailflow demo`; the demo keeps "
            "its state only in a new or empty directory (it would write config.toml there), "
            "so pick another DIR")


def _kept_hint(directory: Path, numbers: list[str]) -> None:
    config = directory / "config.toml"
    number = numbers[0] if numbers else "ADU-2026-00001"
    print(f"\nState and config are kept in {directory}; try:\n"
          f"  mailflow --config {config} tickets --json\n"
          f"  mailflow --config {config} show {number}\n"
          f"  mailflow --config {config} backup {directory / 'backup'}\n"
          "The demo's mail servers stopped with it, so the IMAP and SMTP ports in that config "
          "are closed\nnow (`poll --once` and `run` would report them unavailable). To "
          "start them again, empty\n(their mailboxes lived in memory), on the same ports:\n"
          f"  mailflow demo --serve {directory}\n")


def _show_tickets(cfg: Config) -> list[str]:
    """The listing staff get from `mailflow tickets`, printed by the same view; the numbers."""
    print("\n== mailflow tickets")
    engine = make_engine(cfg.database_url)
    try:
        with Session(engine) as session:
            rows = [views.ticket_row(ticket, cfg.zone, views.redactor(cfg, reporter))
                    for ticket, reporter in listing(session, cfg.scope)]
    finally:
        engine.dispose()
    for line in views.ticket_table(rows):
        print(line)
    return [str(row["id"]) for row in rows]


def _show_report(cfg: Config) -> None:
    """This month's report so far, as `mailflow report --month` prints it."""
    from mailflow.adapters.clock import utc_now
    from mailflow.core.report import Month
    from mailflow.core.report_text import report_lines
    from mailflow.runners.report import read_report
    from mailflow.store.migrate import open_database

    now = utc_now()
    local = now.astimezone(cfg.zone)
    month = Month(local.year, local.month)
    print(f"\n== mailflow report --month {month} (the village head gets last month's by mail)")
    engine = open_database(cfg.database_url)
    try:
        lines = report_lines(read_report(cfg, engine, month, now), cfg.calendar.timezone)
    finally:
        engine.dispose()
    for line in lines[:lines.index("Tren 12 bulan")]:
        print(f"   {line}" if line else "")


def _show_acknowledgements(port: int) -> None:
    print("\n== What the residents received")
    for user in RESIDENTS:
        for subject, _flags, raw in _mailbox(port, user):
            body = parse_message(raw.encode()).text.strip().splitlines()
            print(f"\n--- {user}: {subject}")
            for line in body[:14]:
                print(f"    {line}")


def _show_inbox(port: int) -> None:
    print("\n== The village inbox afterwards: no message was marked \\Seen, moved or deleted.\n"
          "   (A real server also shows the private keyword $MailflowTaken on taken complaints;\n"
          "   the embedded server drops private keywords, so the database keeps the record.)")
    for subject, flags, _raw in _mailbox(port, INBOX):
        print(f"   {subject[:60]:<60} flags: {flags or '(none)'}")


def _latest(port: int, user: str) -> tuple[str, str]:
    """(subject, raw) of the newest message in a mailbox."""
    subject, _flags, raw = _mailbox(port, user)[-1]
    return subject, raw


def _staff_reply(notification: bytes, sender: str, body: str) -> bytes:
    """What Gmail sends when a staff member presses Reply on a notification."""
    from email import message_from_bytes
    from email.policy import default

    note = message_from_bytes(notification, policy=default)
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(note["Reply-To"])
    reply["Subject"] = "Re: " + str(note["Subject"])
    reply["Message-ID"] = make_msgid(domain="klero.desa.id")
    reply["In-Reply-To"] = str(note["Message-ID"])
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply.set_content(body + "\n\nPada hari ini Layanan Pengaduan <" + INBOX + "> menulis:\n> ...\n")
    return reply.as_bytes()


def _staff_round(imap: EmbeddedIMAP, service_factory: Callable[[], Service]) -> None:
    """The verifier verifies ticket 1 and assigns an officer, by replying to the notification."""
    port = imap.port
    subject, raw = next((s, r) for s, _f, r in _mailbox(port, SEKDES) if "00001" in s)
    body = (f"#status diverifikasi\n#petugas {KASI}\n#prioritas tinggi\n\n"
            "Terima kasih, laporan sudah kami periksa. Petugas akan meninjau lokasi minggu ini.")
    print(f"\n== The verifier {SEKDES} received: {subject}")
    print("   and replies (to the signed Reply-To address) with:")
    for line in body.splitlines():
        print(f"     {line}")
    imap.deliver(INBOX, _staff_reply(raw.encode(), SEKDES, body))
    print("\n== Second poll")
    service = service_factory()
    service.poll_once()
    service.engine.dispose()
    subject, raw = _latest(port, "siti@warga.example")
    print(f"\n--- siti@warga.example now also has: {subject}")
    for line in parse_message(raw.encode()).text.strip().splitlines()[:10]:
        print(f"    {line}")
    subject, raw = _latest(port, KASI)
    text = parse_message(raw.encode()).text
    print(f"\n--- the officer {KASI} received: {subject}")
    print("    (identity hidden: " + ("yes" if "Identitas pelapor dirahasiakan" in text else "NO") + ")")


def _summary(result: PollResult) -> str:
    """The poll's counts as a person reads them (not the dataclasses' reprs)."""
    taken = result.intake
    lines = ["\n== Result"]
    if taken is not None:
        lines.append(f"   intake: {taken.examined} messages examined, {taken.tickets} tickets "
                     f"({', '.join(taken.ticket_numbers) or '-'}), {taken.replies} replies, "
                     f"{taken.duplicates} duplicates, {taken.ignored} ignored, "
                     f"{taken.skipped} skipped (subject does not match)")
    lines.append(f"   outbox: {result.outbox.sent} sent, {result.outbox.deferred} waiting, "
                 f"{result.outbox.parked} parked")
    return "\n".join(lines)
