"""The spine end to end: a real IMAP server, a real SMTP server and SQLite, all on loopback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.service import Service
from tests.e2e.support import (
    BUDI,
    INBOX,
    SEKDES,
    SITI,
    SITI_SECRETS,
    FixedClock,
    complaint,
    config_for,
    intake_records,
    outbox,
    reporters,
    tickets,
)

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=WIB)  # due Tue 2026-12-08 (DESIGN.md)
NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)


def _poll(cfg: Any, clock: FixedClock | None = None) -> Any:
    service = Service(cfg, clock=clock or FixedClock(NOW))
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def _acks(world: Any, user: str) -> list[Any]:
    return [message_from_bytes(m.raw, policy=default) for m in world.messages(user)]


def test_acknowledgement_arrives_with_number_and_due_date(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    original = complaint(message_id="<keluhan-1@warga.example>")
    mail_world.deliver(INBOX, original, internaldate=RECEIVED)

    result = _poll(cfg)

    [ticket] = tickets(cfg)
    assert ticket.number == "ADU-2026-00001"
    assert ticket.status == "diterima"
    assert ticket.due_date.isoformat() == "2026-12-08"
    assert ticket.received_at == RECEIVED
    assert result.outbox.sent == 2  # the acknowledgement and the verifier's notification
    [ack] = _acks(mail_world, SITI)
    assert ack["Subject"].startswith("[ADU-2026-00001]")
    assert ack["In-Reply-To"] == "<keluhan-1@warga.example>"
    assert ack["Auto-Submitted"] == "auto-replied"
    text = ack.get_body(("plain",)).get_content()
    assert "ADU-2026-00001" in text
    assert "Selasa, 8 Desember 2026" in text
    assert "Jumat, 27 November 2026 pukul 10.00 WIB" in text


def test_receipt_time_is_internaldate_not_date_header(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    # The Date header says 27 Nov; the mailbox received it on Saturday 28 Nov.
    mail_world.deliver(INBOX, complaint(), internaldate=datetime(2026, 11, 28, 9, tzinfo=WIB))
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert ticket.received_at.astimezone(WIB).date().isoformat() == "2026-11-28"


def test_unrelated_mail_is_left_exactly_as_it_was(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(subject="Undangan rapat RT", sender=BUDI))
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)

    _poll(cfg)

    unrelated, taken = mail_world.messages(INBOX)
    assert unrelated.flags == ()
    assert "\\Seen" not in taken.flags
    if mail_world.backend == "dovecot":
        assert "$MailflowTaken" in taken.flags
    assert len(tickets(cfg)) == 1
    assert mail_world.messages(BUDI) == []


@pytest.mark.parametrize(
    "subject",
    ["pengaduan masyarakat", "Re: Fwd: PENGADUAN MASYARAKAT - jalan rusak",
     "=?UTF-8?B?UGVuZ2FkdWFuIE1hc3lhcmFrYXQ=?=", "=?UTF-8?Q?Fwd=3A_pengaduan_=20masyarakat?="],
)
def test_subject_variants_are_taken(mail_world: Any, tmp_path: Path, subject: str) -> None:
    cfg = config_for(mail_world, tmp_path)
    raw = complaint(subject="placeholder").replace(b"Subject: placeholder", b"Subject: " +
                                                   subject.encode())
    mail_world.deliver(INBOX, raw, internaldate=RECEIVED)
    _poll(cfg)
    assert len(tickets(cfg)) == 1


def test_same_message_twice_is_one_ticket(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    with_id = complaint(message_id="<dua-kali@warga.example>")
    without_id = complaint(sender=f"Budi <{BUDI}>", message_id=None)
    for raw in (with_id, with_id, without_id, without_id):
        mail_world.deliver(INBOX, raw, internaldate=RECEIVED)

    _poll(cfg)
    _poll(cfg)

    assert len(tickets(cfg)) == 2
    decisions = sorted(r.decision for r in intake_records(cfg))
    assert decisions == ["duplicate", "duplicate", "ticket", "ticket"]
    assert len(mail_world.messages(SITI)) == 1
    assert len(mail_world.messages(BUDI)) == 1


def _bounce() -> bytes:
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.warga.example>\r\n"
        b"To: pengaduan@klero.desa.id\r\nSubject: Undelivered Mail: Pengaduan Masyarakat\r\n"
        b"Message-ID: <bounce-1@mx.warga.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; x@warga.example\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (complaint(subject="Re: Pengaduan Masyarakat", Auto_Submitted="auto-replied"),
         "auto-submitted"),
        (complaint(subject="Pengaduan Masyarakat", Precedence="bulk"), "precedence"),
        (complaint(subject="Pengaduan Masyarakat", X_Autoreply="yes"), "auto-reply header"),
        (complaint(sender=INBOX, subject="[ADU-2026-00009] Pengaduan Masyarakat"), "own address"),
        (_bounce(), "delivery status"),
    ],
    ids=["auto-submitted", "precedence", "x-autoreply", "own-address", "bounce"],
)
def test_robots_make_no_ticket_and_get_no_reply(mail_world: Any, tmp_path: Path, raw: bytes,
                                                reason: str) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, raw, internaldate=RECEIVED)

    _poll(cfg)

    assert tickets(cfg) == []
    assert outbox(cfg) == []
    assert mail_world.smtp.accepted == []
    [record] = intake_records(cfg)
    assert record.decision == "ignored"
    assert reason in record.reason


_CRASH_AFTER_COMMIT = """
import json, os, sys
from mailflow.config import parse_config
from mailflow.adapters.imap import ImapSession
from mailflow.service import Service
ImapSession.mark_set = lambda self, uid_set: os._exit(137)   # die like a killed process
Service(parse_config(json.loads(sys.argv[1]))).poll_once()
"""


def test_crash_between_commit_and_mark_makes_no_second_ticket(mail_world: Any,
                                                              tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)

    crashed = subprocess.run([sys.executable, "-c", _CRASH_AFTER_COMMIT, cfg.model_dump_json()],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    assert crashed.returncode == 137, crashed.stderr
    assert len(tickets(cfg)) == 1
    assert [o.state for o in outbox(cfg)] == ["pending", "pending"]  # ack and notification

    after_restart = FixedClock(datetime.now(UTC) + timedelta(minutes=1))  # the crash used real time
    _poll(cfg, after_restart)
    _poll(cfg, after_restart)

    assert len(tickets(cfg)) == 1
    assert len(mail_world.messages(SITI)) == 1
    [record] = intake_records(cfg)
    assert record.marked
    if mail_world.backend == "dovecot":
        assert "$MailflowTaken" in mail_world.messages(INBOX)[0].flags


def test_smtp_outage_delays_and_delivers_exactly_once(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    mail_world.smtp.stop()
    try:
        first = _poll(cfg, clock)
        second = _poll(cfg, clock)
    finally:
        mail_world.smtp.start()
    assert first.outbox.smtp_unavailable and second.outbox.smtp_unavailable
    assert [o.state for o in outbox(cfg)] == ["pending", "pending"]
    assert mail_world.messages(SITI) == []

    mail_world.smtp.tempfail = True
    third = _poll(cfg, clock)
    mail_world.smtp.tempfail = False
    assert third.outbox.deferred == 2
    for item in outbox(cfg):
        assert item.next_attempt_at > clock.now
        assert "451" in item.last_error

    assert _poll(cfg, clock).outbox.sent == 0  # not due yet
    clock.now += timedelta(minutes=5)
    assert _poll(cfg, clock).outbox.sent == 2
    assert _poll(cfg, clock).outbox.sent == 0
    assert len(mail_world.messages(SITI)) == 1
    assert len(mail_world.messages(SEKDES)) == 1
    assert [o.state for o in outbox(cfg)] == ["sent", "sent"]


def test_permanent_refusal_parks_the_message(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(sender="Orang <tidak-ada@warga.example>"),
                       internaldate=RECEIVED)
    result = _poll(cfg)
    assert result.outbox.parked == 1
    [item] = [o for o in outbox(cfg) if o.kind == "ack"]
    assert item.state == "parked"
    assert "550" in item.last_error


def test_html_only_complaint_gives_readable_description(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    html = ("<html><body><div dir='ltr'><p>Nama: <b>Budi Santoso</b></p><p>Air bersih di "
            "<i>RT&nbsp;03</i> tidak mengalir sudah lima hari &amp; warga membeli galon.</p>"
            "</div></body></html>")
    mail_world.deliver(INBOX, complaint(sender=BUDI, html=html), internaldate=RECEIVED)
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert "Air bersih di RT 03 tidak mengalir sudah lima hari & warga membeli galon." in " ".join(
        ticket.description.split())
    assert "<" not in ticket.description
    assert ticket.html_only


def test_wrongly_declared_charset_gives_readable_description(mail_world: Any,
                                                             tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    body = "Nama: Budi\nSaluran air di gang Kenanga tersumbat — banjir setinggi 30 cm di café."
    raw = (b"From: budi@warga.example\r\nTo: pengaduan@klero.desa.id\r\n"
           b"Subject: Pengaduan Masyarakat\r\nMessage-ID: <cs@warga.example>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + body.encode("utf-8"))
    mail_world.deliver(INBOX, raw, internaldate=RECEIVED)
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert "tersumbat — banjir setinggi 30 cm di café." in ticket.description


def test_missing_data_is_asked_for_and_ticket_kept(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    body = "Nama: Budi Santoso\n\nLampu jalan di gang Melati mati sejak seminggu yang lalu."
    mail_world.deliver(INBOX, complaint(sender=BUDI, body=body), internaldate=RECEIVED)
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert ticket.status == "perlu_data"
    assert ticket.missing == "nik"
    [ack] = _acks(mail_world, BUDI)
    text = ack.get_body(("plain",)).get_content()
    assert "NIK (16 digit, sesuai KTP)" in text
    assert "nama lengkap" not in text


def test_identity_is_stored_apart_and_never_logged(mail_world: Any, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    mail_world.deliver(INBOX, complaint(sender="Siti <siti@warga.example>", message_id=None,
                                        subject="Pengaduan Masyarakat", Precedence="bulk"))
    with caplog.at_level(logging.DEBUG):
        _poll(cfg)
    [reporter] = reporters(cfg)
    assert reporter.name == "Siti Aminah"
    assert reporter.nik == "3322114506890002"
    assert reporter.phone == "+6281234567890"
    assert reporter.email == SITI
    [ticket] = tickets(cfg)
    assert "3322114506890002" not in ticket.description
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ticket created ticket=ADU-2026-00001" in logged
    for secret in SITI_SECRETS:
        assert secret not in logged


def test_attachments_are_saved_and_recorded(mail_world: Any, tmp_path: Path) -> None:
    from email.message import EmailMessage

    from mailflow.store.models import Attachment
    from tests.e2e.support import COMPLETE_BODY, rows

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SITI, INBOX, "Pengaduan Masyarakat"
    msg.set_content(COMPLETE_BODY)
    msg.add_attachment(b"\x89PNG fake photo", maintype="image", subtype="png",
                       filename="../../etc/jalan rusak.png")
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, msg.as_bytes(), internaldate=RECEIVED)
    _poll(cfg)
    [attachment] = rows(cfg, Attachment)
    assert "/" not in attachment.filename
    assert attachment.filename.endswith(".png")
    assert (cfg.storage_dir / attachment.path).read_bytes() == b"\x89PNG fake photo"


def test_second_poll_examines_only_new_mail(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    for n in range(5):
        mail_world.deliver(INBOX, complaint(subject=f"Info {n}"))
    first = _poll(cfg)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    second = _poll(cfg)
    third = _poll(cfg)
    assert first.intake.examined == 5
    assert second.intake.examined == 1
    assert second.intake.tickets == 1
    assert third.intake.examined == 0


def test_reply_to_acknowledgement_joins_the_ticket(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    _poll(cfg)
    [ack] = _acks(mail_world, SITI)
    reply = complaint(subject="Re: " + str(ack["Subject"]), body="Terima kasih, ditunggu.",
                      In_Reply_To=str(ack["Message-ID"]))
    mail_world.deliver(INBOX, reply)
    _poll(cfg)
    assert len(tickets(cfg)) == 1
    assert sorted(r.decision for r in intake_records(cfg)) == ["reply", "ticket"]


def test_taken_mail_can_be_moved_to_a_folder(mail_world: Any, tmp_path: Path) -> None:
    if mail_world.backend != "dovecot":
        pytest.skip("moving needs a server with MOVE or UIDPLUS semantics like Dovecot's")
    cfg = config_for(mail_world, tmp_path, imap={"mark": "move", "move_to_folder": "Pengaduan"})
    unrelated = complaint(subject="Undangan rapat RT", sender=BUDI)
    mail_world.deliver(INBOX, unrelated)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)

    _poll(cfg)
    _poll(cfg)

    [left] = mail_world.messages(INBOX)
    assert left.raw.replace(b"\r\n", b"\n") == unrelated.replace(b"\r\n", b"\n")
    [moved] = mail_world.messages(INBOX, folder="Pengaduan")
    assert b"Siti Aminah" in moved.raw
    assert len(tickets(cfg)) == 1
    assert len(mail_world.messages(SITI)) == 1
