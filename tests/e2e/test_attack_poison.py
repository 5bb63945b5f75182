"""Single messages that once stopped or poisoned the service (issue 7, items 8-10 and 12-15).

Each test sends the hostile message through the real path (Dovecot, the loopback SMTP
server, SQLite) next to an ordinary complaint, and checks both: the hostile one is handled
(a ticket, a parked row, a quarantine entry: never silence) and the ordinary one is not held
back by it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import mailflow.runners.intake
from mailflow.adapters.smtp import Letter, Outcome, SmtpSender
from mailflow.config import Config
from mailflow.core.parse import ParsedMessage
from mailflow.service import PollResult, Service
from mailflow.store.models import Attachment, Quarantine
from tests.e2e.support import (
    BUDI,
    COMPLETE_BODY,
    INBOX,
    SEKDES,
    SITI,
    FixedClock,
    complaint,
    config_for,
    fail_on_marker,
    intake_records,
    outbox,
    reporters,
    rows,
    tickets,
)
from tests.harness.postgres import on_postgresql

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=WIB)
NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
BUEDI = "büdi@desa.test"
PLAIN_BODY = "Lampu jalan di gang Melati mati sejak seminggu yang lalu, mohon diperbaiki.\n"


def _poll(cfg: Config, clock: FixedClock | None = None) -> PollResult:
    service = Service(cfg, clock=clock or FixedClock(NOW))
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def _parsed(raw: bytes) -> Any:
    return message_from_bytes(raw, policy=default)


def _head(**fields: str) -> bytes:
    """A header block written by hand, UTF-8 and all, as a hostile or SMTPUTF8 client sends it."""
    base = {"From": f"Siti Aminah <{SITI}>", "To": INBOX, "Subject": "Pengaduan Masyarakat",
            "Date": "Fri, 27 Nov 2026 09:55:00 +0700", "MIME-Version": "1.0"}
    base.update({name.replace("_", "-"): value for name, value in fields.items()})
    return "".join(f"{name}: {value}\r\n" for name, value in base.items()).encode()


def _plain(head: bytes, body: str = PLAIN_BODY) -> bytes:
    return head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode()


# -- 8. a non-ASCII address never stops outgoing mail --------------------------------------


def _restart_smtp(world: Any, *, smtputf8: bool) -> None:
    world.smtp.stop()
    world.smtp.smtputf8 = smtputf8
    world.smtp.start()


@pytest.mark.parametrize("smtputf8", [True, False], ids=["server-offers-smtputf8", "ascii-server"])
def test_non_ascii_address_is_answered_or_parked_and_never_blocks_the_rest(
        mail_world: Any, tmp_path: Path, smtputf8: bool) -> None:
    mail_world.aliases[BUEDI] = BUDI  # no IMAP login for a UTF-8 name: the mail lands in Budi's box
    _restart_smtp(mail_world, smtputf8=smtputf8)
    cfg = config_for(mail_world, tmp_path)
    # Büdi's complaint comes first, so his acknowledgement is the first row of the outbox.
    mail_world.deliver(INBOX, _plain(_head(From=f"Büdi <{BUEDI}>",
                                           Message_ID="<budi-utf8@desa.test>")), RECEIVED)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)

    result = _poll(cfg)

    assert len(tickets(cfg)) == 2
    [siti_ack] = mail_world.messages(SITI)  # Siti is answered in the same pass, whatever Büdi's fate
    assert _parsed(siti_ack.raw)["Subject"].startswith("[ADU-2026-00002]")
    assert len(mail_world.messages(SEKDES)) == 2  # both notifications
    [budi_ack] = [o for o in outbox(cfg) if o.recipient == BUEDI]
    if smtputf8:
        assert (result.outbox.sent, result.outbox.parked) == (4, 0)
        [delivered] = mail_world.messages(BUDI)
        # The envelope and the header carry the address itself, in UTF-8, not an encoded-word.
        assert ("To: " + BUEDI).encode() in delivered.raw
        assert any(rcpts == (BUEDI,) for _from, rcpts, _raw in mail_world.smtp.accepted)
        assert budi_ack.state == "sent"
    else:
        assert (result.outbox.sent, result.outbox.parked) == (3, 1)
        assert budi_ack.state == "parked"
        assert "SMTPUTF8" in budi_ack.last_error
        assert mail_world.messages(BUDI) == []
        assert _poll(cfg).outbox.sent == 0  # parked, not retried in a loop


def test_one_bad_row_never_holds_back_the_rest_of_the_batch(mail_world: Any) -> None:
    """Encoding, an unsendable address, a 5xx and a server that hangs up: each is its row's alone."""
    mail_world.smtp.rcpt_replies["hangup@warga.example"] = "421 4.3.2 Closing connection"
    cfg = config_for(mail_world, Path("/nonexistent"))
    raw = complaint()
    batch = [
        Letter(1, SITI, raw),
        Letter(2, BUEDI, raw),  # no SMTPUTF8 on this server
        Letter(3, f"{SITI}>\r\nRCPT TO:<{BUDI}", raw),  # smuggles a second recipient
        Letter(4, "tidak-ada@warga.example", raw),  # 550 no such user
        Letter(5, "hangup@warga.example", raw),  # 421, and the connection is gone
        Letter(6, BUDI, raw),
    ]
    outcomes: dict[int, Outcome] = {}

    SmtpSender(cfg.smtp).deliver(batch, lambda row, outcome: outcomes.setdefault(row, outcome))

    assert sorted(outcomes) == [1, 2, 3, 4, 5, 6]
    assert [row for row, outcome in sorted(outcomes.items()) if outcome.sent] == [1, 6]
    assert outcomes[2].permanent and "SMTPUTF8" in outcomes[2].error
    assert outcomes[3].permanent
    assert outcomes[4].permanent and "550" in outcomes[4].error
    assert not outcomes[5].permanent and "421" in outcomes[5].error
    assert [rcpts for _from, rcpts, _raw in mail_world.smtp.accepted] == [(SITI,), (BUDI,)]


# -- 9. a header with 260,000 message ids never blocks intake ------------------------------


def _flood(count: int, last: str = "") -> str:
    return " ".join([*(f"<banjir-{n}@spam.example>" for n in range(count)), last]).strip()


def test_a_references_flood_is_read_within_bounds_and_the_complaint_taken(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(message_id="<keluhan-a@warga.example>"), RECEIVED)
    _poll(cfg)
    [ack] = [_parsed(m.raw) for m in mail_world.messages(SITI)]
    recipients = ", ".join(f"warga{n}@spam.example" for n in range(20_000))
    flood = _plain(_head(From=f"Budi <{BUDI}>", To=f"{INBOX}, {recipients}",
                         Message_ID="<banjir@warga.example>", References=_flood(260_000),
                         In_Reply_To=_flood(5_000)))
    # A reply whose subject lost the ticket number: only its References, the last one ours,
    # tie it to the ticket.
    reply = _plain(_head(Subject="Re: jalan berlubang", Message_ID="<balasan@warga.example>",
                         References=_flood(260_000, last=str(ack["Message-ID"]))),
                   "Terima kasih, kami tunggu perbaikannya.\n")
    mail_world.deliver(INBOX, flood, RECEIVED)
    mail_world.deliver(INBOX, reply, RECEIVED)

    result = _poll(cfg)

    assert result.intake is not None and result.intake.quarantined == 0
    assert rows(cfg, Quarantine) == []
    first, second = tickets(cfg)
    assert second.source_message_id == "<banjir@warga.example>"
    by_uid = {r.uid: r for r in intake_records(cfg)}
    assert (by_uid[2].decision, by_uid[2].ticket_id) == ("ticket", second.id)
    assert (by_uid[3].decision, by_uid[3].ticket_id) == ("reply", first.id)
    # The flood's sender is acknowledged once, threaded under a bounded References.
    [budi_ack] = [_parsed(m.raw) for m in mail_world.messages(BUDI)]
    assert len(str(budi_ack["References"]).split()) <= 51


# -- 10. a message too deep to parse is never silently ignored -----------------------------


def _nested(depth: int) -> bytes:
    raw = _head(Message_ID="<dalam@warga.example>") + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for level in range(1, depth):
        raw += b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (level - 1, level)
    raw += b"--b%d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" % (depth - 1)
    raw += COMPLETE_BODY.encode().replace(b"\n", b"\r\n")
    for level in reversed(range(depth)):
        raw += b"--b%d--\r\n" % level
    return raw


def test_a_complaint_nested_1000_levels_deep_becomes_a_ticket(mail_world: Any,
                                                               tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, _nested(1000), RECEIVED)
    mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>"), RECEIVED)

    _poll(cfg)

    deep, plain = tickets(cfg)
    assert deep.subject == "Pengaduan Masyarakat"
    assert deep.source_message_id == "<dalam@warga.example>"
    # What could be read is kept: the complaint's own words, without the MIME scaffolding.
    assert "balai dusun Krajan berlubang" in deep.description
    assert "Content-Type" not in deep.description and "--b7" not in deep.description
    assert [r.decision for r in intake_records(cfg)] == ["ticket", "ticket"]
    assert len(mail_world.messages(SITI)) == 1
    assert len(mail_world.messages(BUDI)) == 1
    assert plain.number == "ADU-2026-00002"


def test_a_message_whose_full_reading_loses_the_subject_is_quarantined_not_ignored(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net behind the parser: a future parsing bug must not drop a complaint."""
    real = mailflow.runners.intake.parse_message

    def lose_subject_of_whole_messages(raw: bytes, **limits: int) -> ParsedMessage:
        msg = real(raw, **limits)
        return replace(msg, subject="") if limits and b"MEMICU-GALAT" in raw else msg

    monkeypatch.setattr(mailflow.runners.intake, "parse_message", lose_subject_of_whole_messages)
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(body="MEMICU-GALAT jalan rusak parah"), RECEIVED)
    mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>"), RECEIVED)

    _poll(cfg)

    assert [r.decision for r in intake_records(cfg)] == ["quarantined", "ticket"]
    [entry] = rows(cfg, Quarantine)
    assert "headers were taken but the whole message was not" in entry.reason
    assert b"MEMICU-GALAT" in (cfg.storage_dir / entry.raw_path).read_bytes()


# -- 12. attachment names say what the file really is --------------------------------------

HOSTILE_NAMES = {
    "foto\u202egpj.exe": "fotogpj.exe",  # right-to-left override: shown as "fotoexe.jpg"
    "\u2066surat\u2069 \u200bpengantar\u200f.pdf": "surat pengantar.pdf",
    "CON.jpg": "_CON.jpg",
    "nul": "_nul",
    "Lpt9.tar.gz": "_Lpt9.tar.gz",
    "com1 .png": "_com1 .png",
    "laporan.pdf. . .": "laporan.pdf",
    "KTP\u061c\ufeff.png": "KTP.png",
}


def test_attachment_names_cannot_disguise_their_type(mail_world: Any, tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Siti Aminah <{SITI}>", INBOX, "Pengaduan Masyarakat"
    msg["Message-ID"] = "<nama-berkas@warga.example>"
    msg.set_content(COMPLETE_BODY)
    for number, name in enumerate(HOSTILE_NAMES):
        msg.add_attachment(b"isi berkas %d" % number, maintype="application",
                           subtype="octet-stream", filename=name)
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, msg.as_bytes(), RECEIVED)

    _poll(cfg)

    stored = [a.filename for a in sorted(rows(cfg, Attachment), key=lambda a: a.id)]
    assert stored == list(HOSTILE_NAMES.values())
    # The verifier's notification lists and attaches the files under the same honest names.
    [notice] = [_parsed(m.raw) for m in mail_world.messages(SEKDES)]
    attached = [part.get_filename() for part in notice.iter_attachments()]
    assert attached == list(HOSTILE_NAMES.values())
    text = notice.get_body(("plain",)).get_content()
    assert "fotogpj.exe" in text and "\u202e" not in text


# -- 13. what mailflow stores is private whatever the umask ---------------------------------


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_database_attachments_and_quarantine_are_private_under_umask_022(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_marker(monkeypatch)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Siti Aminah <{SITI}>", INBOX, "Pengaduan Masyarakat"
    msg.set_content(COMPLETE_BODY)
    msg.add_attachment(b"\x89PNG foto jalan", maintype="image", subtype="png", filename="jalan.png")
    mail_world.deliver(INBOX, msg.as_bytes(), RECEIVED)
    mail_world.deliver(INBOX, complaint(body="MEMICU-GALAT jalan rusak parah"), RECEIVED)
    cfg = config_for(mail_world, tmp_path)

    with _umask(0o022):
        service = Service(cfg, clock=FixedClock(NOW))
        try:
            result = service.poll_once()
            # Checked while the engine is open, so that SQLite's -wal and -shm files exist.
            modes = {path.relative_to(cfg.storage_dir).as_posix() or ".":
                     stat.S_IMODE(path.stat().st_mode)
                     for path in [cfg.storage_dir, *cfg.storage_dir.rglob("*")]}
        finally:
            service.engine.dispose()

    assert result.intake is not None and result.intake.quarantined == 1
    names = set(modes)
    sqlite = set() if on_postgresql() else {"mailflow.sqlite3", "mailflow.sqlite3-wal",
                                            "mailflow.sqlite3-shm"}
    assert {*sqlite, "quarantine", "attachments"} <= names
    assert any(name.startswith("quarantine/") for name in names)
    assert any(name.count("/") == 2 and name.startswith("attachments/") for name in names)
    exposed = {name: oct(mode) for name, mode in modes.items()
               if mode != (0o700 if (cfg.storage_dir / name).is_dir() else 0o600)}
    assert exposed == {}


# -- 14. the address in angle brackets is the address ---------------------------------------


@pytest.mark.parametrize("sender", [
    f"siti@warga <{SITI}>",  # a mail program that puts the login name before the address
    f"{BUDI} <{SITI}>",  # the display name is someone else's address
], ids=["partial-address-as-name", "other-address-as-name"])
def test_display_name_that_looks_like_an_address_is_not_the_address(
        mail_world: Any, tmp_path: Path, sender: str) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, _plain(_head(From=sender, Message_ID="<nama@warga.example>"),
                                     COMPLETE_BODY), RECEIVED)

    result = _poll(cfg)

    [reporter] = reporters(cfg)
    assert reporter.email == SITI
    assert result.outbox.parked == 0
    [ack] = mail_world.messages(SITI)
    assert _parsed(ack.raw)["To"] == SITI
    assert mail_world.messages(BUDI) == []


# -- 15. without a Message-ID, a duplicate is the same message, attachments included -------


def _with_photo(name: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Siti Aminah <{SITI}>", INBOX, "Pengaduan Masyarakat"
    msg["Date"] = "Fri, 27 Nov 2026 09:55:00 +0700"
    msg.set_content(COMPLETE_BODY)
    msg.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    return msg.as_bytes()


def test_same_text_with_other_attachments_is_another_ticket(mail_world: Any,
                                                            tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    first = _with_photo("foto.jpg", b"\xff\xd8 jalan berlubang")
    second = _with_photo("foto.jpg", b"\xff\xd8 jembatan retak")
    for raw in (first, second, first):
        mail_world.deliver(INBOX, raw, RECEIVED)

    _poll(cfg)

    one, two = tickets(cfg)
    assert sorted(r.decision for r in intake_records(cfg)) == ["duplicate", "ticket", "ticket"]
    stored = {a.ticket_id: (cfg.storage_dir / a.path).read_bytes() for a in rows(cfg, Attachment)}
    assert stored == {one.id: b"\xff\xd8 jalan berlubang", two.id: b"\xff\xd8 jembatan retak"}
