"""The whole cycle by email: staff replies move a ticket, the resident is told in thread."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailflow.core.notices import record_address
from mailflow.service import Service
from mailflow.store.models import TicketEvent
from tests.e2e.support import (
    ADMIN,
    INBOX,
    KASI,
    SEKDES,
    SITI,
    SITI_SECRETS,
    FixedClock,
    complaint,
    config_for,
    rows,
    tickets,
)

pytestmark = pytest.mark.e2e
RECEIVED = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta"))


def _record_address(cfg: Any, address: str) -> str:
    member = cfg.staff_member(address)
    assert member is not None
    found = record_address(cfg, member)
    assert found is not None
    return found


def _poll(cfg: Any, dns_txt: Any = None, clock: Any = None) -> Any:
    service = Service(cfg, dns_txt=dns_txt, **({"clock": clock} if clock else {}))
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def _read(stored: Any) -> Any:
    return message_from_bytes(stored.raw, policy=default)


def _text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def _start(world: Any, tmp_path: Path, **sections: Any) -> tuple[Any, Any]:
    """A complaint taken and acknowledged; returns the config and the verifier's notification."""
    cfg = config_for(world, tmp_path, **sections)
    world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    _poll(cfg)
    [note] = world.messages(SEKDES)
    return cfg, _read(note)


def staff_reply(sender: str, note: Any, body: str, to: str | None = None,
                **headers: str) -> bytes:
    """What a mail program sends when staff press Reply on a notification."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to or str(note["Reply-To"])
    msg["Subject"] = "Re: " + str(note["Subject"])
    msg["Message-ID"] = make_msgid(domain="klero.desa.id")
    msg["In-Reply-To"] = str(note["Message-ID"])
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    quoted = "\n".join("> " + line for line in _text(note).splitlines())
    msg.set_content(f"{body}\n\nPada Jum, 27 Nov 2026 pukul 10.05 Layanan <{INBOX}> menulis:\n"
                    f"{quoted}\n")
    return msg.as_bytes()


def test_staff_drive_a_ticket_to_done_and_the_resident_hears_each_step(mail_world: Any,
                                                                        tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    [ack] = [_read(m) for m in mail_world.messages(SITI)]

    mail_world.deliver(INBOX, staff_reply(SEKDES, note, f"#status diverifikasi\n#petugas {KASI}\n"
                                          "#prioritas tinggi\n\nPengaduan Anda sudah kami periksa."))
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert (ticket.status, ticket.assignee, ticket.priority) == ("diverifikasi", KASI, "tinggi")
    [officer_note] = [_read(m) for m in mail_world.messages(KASI)]
    officer_text = _text(officer_note)
    assert "Identitas pelapor dirahasiakan" in officer_text
    for secret in SITI_SECRETS:
        assert secret not in officer_note.as_string()

    mail_world.deliver(INBOX, staff_reply(KASI, officer_note,
                                          "#status diproses\nPetugas datang besok pagi."))
    _poll(cfg)
    mail_world.deliver(INBOX, staff_reply(KASI, officer_note,
                                          "#status selesai\nJalan sudah ditambal kemarin sore."))
    _poll(cfg)

    assert tickets(cfg)[0].status == "selesai"
    updates = [_read(m) for m in mail_world.messages(SITI)][1:]
    assert [u["Subject"] for u in updates] == [
        "[ADU-2026-00001] Status pengaduan: Sudah diverifikasi",
        "[ADU-2026-00001] Status pengaduan: Sedang ditindaklanjuti",
        "[ADU-2026-00001] Status pengaduan: Selesai",
    ]
    for update in updates:
        assert update["In-Reply-To"] == ack["Message-ID"]
        assert update["Auto-Submitted"] == "auto-replied"
    assert "Pengaduan Anda sudah kami periksa." in _text(updates[0])
    assert "Petugas datang besok pagi." in _text(updates[1])
    final = _text(updates[2])
    assert "Jalan sudah ditambal kemarin sore." in final and "kami tutup" in final
    assert "menulis:" not in final and "#status" not in final
    events = rows(cfg, TicketEvent)
    assert [(e.from_status, e.to_status) for e in events if e.kind == "status"] == [
        ("diterima", "diverifikasi"), ("diverifikasi", "diproses"), ("diproses", "selesai")]
    assert {e.auth for e in events if e.kind == "status"} == {"signed_reply"}


def test_the_officer_reads_the_state_the_reply_set_and_only_the_commands_an_officer_may_use(
        mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, f"#petugas {KASI}\n#status diverifikasi\n"
                                          "#prioritas tinggi\n\nSudah kami periksa."))
    _poll(cfg)
    [officer_note] = [_read(m) for m in mail_world.messages(KASI)]
    text = _text(officer_note).replace("\r\n", "\n")
    assert re.search(r"^Status\s*: Sudah diverifikasi$", text, re.MULTILINE), text
    # The staff word, and whose it is (the system's suggestion follows it as history).
    assert re.search(r"^Prioritas\s*: Tinggi \(ditetapkan oleh sekdes@klero\.desa\.id; saran "
                     r"sistem: ", text, re.MULTILINE), text
    assert "#status diproses | selesai\n" in text
    assert "diverifikasi |" not in text and "perlu_data" not in text and "#tolak" not in text
    html = officer_note.get_body(("html",)).get_content()
    assert "#status diproses | selesai" in html and "#tolak" not in html


def test_internal_note_never_reaches_the_resident(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#internal\nPelapor tetangga Pak Kadus."))
    _poll(cfg)
    assert len(mail_world.messages(SITI)) == 1  # only the acknowledgement
    [event] = [e for e in rows(cfg, TicketEvent) if e.kind == "internal_note"]
    assert event.note == "Pelapor tetangga Pak Kadus."


def test_forged_command_changes_nothing_and_alerts_the_administrator(mail_world: Any,
                                                                     tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    forged = staff_reply(SEKDES, note, "#tolak tidak penting\nDitutup.", to=INBOX)
    mail_world.deliver(INBOX, forged)

    _poll(cfg)

    assert tickets(cfg)[0].status == "diterima"
    assert len(mail_world.messages(SITI)) == 1
    [alert] = [_read(m) for m in mail_world.messages(ADMIN)]
    assert "Peringatan keamanan" in str(alert["Subject"])
    assert [e.kind for e in rows(cfg, TicketEvent) if e.kind == "security"] == ["security"]
    # The real staff member is told at their own address how to send a command that counts.
    told = _text(_read(mail_world.messages(SEKDES)[-1]))
    assert "tidak terbukti berasal dari alamat Bapak/Ibu" in told and "Balas (Reply)" in told


@pytest.mark.parametrize(
    ("results", "status"),
    [
        ("mx.klero.desa.id; dkim=pass header.d=klero.desa.id", "diverifikasi"),
        ("mx.klero.desa.id; spf=fail smtp.mailfrom=klero.desa.id; dmarc=pass header.from=klero.desa.id",
         "diverifikasi"),
        ("evil.example; dkim=pass header.d=klero.desa.id", "diterima"),  # untrusted server
        ("mx.klero.desa.id; dkim=fail header.d=klero.desa.id", "diterima"),
        ("mx.klero.desa.id; dkim=pass header.d=other.example", "diterima"),  # not the From domain
    ],
    ids=["dkim-pass", "dmarc-pass", "untrusted-server", "dkim-fail", "other-domain"],
)
def test_authentication_results_authenticate_only_when_trusted_and_aligned(
        mail_world: Any, tmp_path: Path, results: str, status: str) -> None:
    cfg, note = _start(mail_world, tmp_path)
    reply = staff_reply(SEKDES, note, "#status diverifikasi", to=INBOX, Authentication_Results=results)
    # The signature the server reports on: mailflow checks what its h= covers, not its crypto.
    reply = (b"DKIM-Signature: v=1; a=rsa-sha256; d=klero.desa.id; s=desa;\r\n"
             b" h=from:to:subject:message-id:in-reply-to; bh=AAAA; b=QUFBQQ==\r\n" + reply)
    mail_world.deliver(INBOX, reply)
    _poll(cfg)
    assert tickets(cfg)[0].status == status
    expected_auth = ["authserv"] if status == "diverifikasi" else []
    assert [e.auth for e in rows(cfg, TicketEvent) if e.kind == "status"] == expected_auth


def test_dkim_signed_command_is_applied(mail_world: Any, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    public_der = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)

    def dns_txt(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"desa._domainkey.klero.desa.id." else None

    cfg, note = _start(mail_world, tmp_path, commands={"accept": ["dkim"]})
    unsigned = staff_reply(SEKDES, note, "#status diverifikasi\nSudah kami cek.", to=INBOX)
    signature = dkim.sign(unsigned, b"desa", b"klero.desa.id", private_pem,
                          include_headers=[b"from", b"to", b"subject", b"message-id"])
    mail_world.deliver(INBOX, signature + unsigned)

    _poll(cfg, dns_txt)

    assert tickets(cfg)[0].status == "diverifikasi"
    assert [e.auth for e in rows(cfg, TicketEvent) if e.kind == "status"] == ["dkim"]


def test_invalid_command_gets_an_explaining_reply(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status beres\nSudah."))
    _poll(cfg)
    assert tickets(cfg)[0].status == "diterima"
    explanations = [_read(m) for m in mail_world.messages(SEKDES)][1:]
    [explanation] = explanations
    text = _text(explanation)
    assert "status 'beres' tidak dikenal" in text
    assert "#status diverifikasi" in text  # how to write it
    assert len(mail_world.messages(SITI)) == 1


def test_refused_transition_is_explained(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status selesai\nSudah."))
    _poll(cfg)
    assert tickets(cfg)[0].status == "diterima"
    text = _text(_read(mail_world.messages(SEKDES)[-1]))
    assert "dari 'diterima' hanya boleh ke: perlu_data, diverifikasi, ditolak" in text


def test_residents_reply_lands_on_the_same_ticket(mail_world: Any, tmp_path: Path) -> None:
    cfg, _note = _start(mail_world, tmp_path)
    [ack] = [_read(m) for m in mail_world.messages(SITI)]
    reply = complaint(subject="Re: " + str(ack["Subject"]), body="Foto tambahan menyusul.",
                      In_Reply_To=str(ack["Message-ID"]))
    mail_world.deliver(INBOX, reply)
    _poll(cfg)
    assert len(tickets(cfg)) == 1
    assert [e.note for e in rows(cfg, TicketEvent) if e.kind == "reply"] == ["Foto tambahan menyusul."]


def test_reply_with_missing_nik_moves_the_ticket_on(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    body = "Nama: Siti Aminah\n\nLampu jalan di gang Melati mati sejak seminggu yang lalu."
    mail_world.deliver(INBOX, complaint(body=body), internaldate=RECEIVED)
    _poll(cfg)
    assert tickets(cfg)[0].status == "perlu_data"
    [ack] = [_read(m) for m in mail_world.messages(SITI)]

    # Siti answers with Reply, so her answers go to the address signed for her and the ticket.
    incomplete = complaint(subject="Re: " + str(ack["Subject"]), body="NIK: 332211450689",
                           In_Reply_To=str(ack["Message-ID"]), to=str(ack["Reply-To"]))
    mail_world.deliver(INBOX, incomplete)
    _poll(cfg)
    assert tickets(cfg)[0].status == "perlu_data"

    complete = complaint(subject="Re: " + str(ack["Subject"]), body="NIK: 3322114506890002",
                         In_Reply_To=str(ack["Message-ID"]), to=str(ack["Reply-To"]))
    mail_world.deliver(INBOX, complete)
    _poll(cfg)

    [ticket] = tickets(cfg)
    assert (ticket.status, ticket.missing) == ("diterima", "")
    update = _read(mail_world.messages(SITI)[-1])
    assert update["Subject"] == "[ADU-2026-00001] Status pengaduan: Tercatat \u2013 menunggu verifikasi"
    assert update["In-Reply-To"] == ack["Message-ID"]
    staff_notes = [_read(m) for m in mail_world.messages(SEKDES)]
    assert [str(n["Subject"]) for n in staff_notes][-1] == "[ADU-2026-00001] Balasan dari pelapor"


@pytest.mark.parametrize("ask", ["status", "Cek status ADU-2026-00001", "STATUS?"])
def test_resident_can_ask_for_the_status(mail_world: Any, tmp_path: Path, ask: str) -> None:
    cfg, _note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(subject="Re: [ADU-2026-00001] Pengaduan Anda telah diterima",
                                        body=ask))
    _poll(cfg)
    answer = _read(mail_world.messages(SITI)[-1])
    assert answer["Subject"] == "[ADU-2026-00001] Informasi status pengaduan"
    assert "saat ini berstatus:" in _text(answer) and "Tercatat \u2013 menunggu verifikasi." in _text(answer)


def test_a_stranger_quoting_a_ticket_number_learns_nothing(mail_world: Any, tmp_path: Path) -> None:
    cfg, _note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(sender="budi@warga.example",
                                        subject="Re: [ADU-2026-00001] x", body="status"))
    _poll(cfg)
    assert mail_world.messages("budi@warga.example") == []
    assert [e.actor for e in rows(cfg, TicketEvent) if e.kind == "reply"] == ["other"]


@pytest.mark.parametrize(("kanal", "channel"), [("telepon", "telepon"), ("WA", "whatsapp")])
def test_staff_record_a_phone_complaint(mail_world: Any, tmp_path: Path, kanal: str,
                                        channel: str) -> None:
    cfg = config_for(mail_world, tmp_path)
    body = (f"#kanal {kanal}\n\nNama: Budi Santoso\nNIK: 3322110506890002\nEmail: budi@warga.example\n\n"
            "Penelepon melaporkan saluran irigasi di Dusun Krajan jebol sejak kemarin malam.")
    # Sent to the record address mailflow issued to Kasi: recording is proven like a command.
    msg = complaint(sender=f"Kasi Pelayanan <{KASI}>", body=body, to=_record_address(cfg, KASI))
    mail_world.deliver(INBOX, msg, internaldate=RECEIVED)

    # Taken five minutes after receipt: the due date counts from receipt, whatever today is.
    _poll(cfg, clock=FixedClock(RECEIVED + timedelta(minutes=5)))

    [ticket] = tickets(cfg)
    assert (ticket.channel, ticket.status) == (channel, "diterima")
    assert "#kanal" not in ticket.description and "budi@warga.example" not in ticket.description
    [staff_copy] = [_read(m) for m in mail_world.messages(KASI)]
    assert "ADU-2026-00001" in str(staff_copy["Subject"])
    assert "Selasa, 8 Desember 2026" in _text(staff_copy)
    [caller_copy] = [_read(m) for m in mail_world.messages("budi@warga.example")]
    assert "Bapak/Ibu Budi Santoso" in _text(caller_copy)
    assert mail_world.messages(SITI) == []


def test_phone_complaint_without_caller_email_acknowledges_the_staff_only(mail_world: Any,
                                                                          tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    body = "#kanal telepon\nNama: Pak Darmo\n\nJembatan bambu di RT 04 patah, anak sekolah memutar jauh."
    mail_world.deliver(INBOX, complaint(sender=KASI, body=body, to=_record_address(cfg, KASI)),
                       internaldate=RECEIVED)
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert ticket.channel == "telepon" and ticket.status == "perlu_data"
    assert len(mail_world.messages(KASI)) == 1


def test_reply_without_the_number_in_its_subject_still_finds_its_ticket(mail_world: Any,
                                                                        tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    reply = staff_reply(SEKDES, note, "#status diverifikasi\nSudah kami cek.")
    reply = reply.replace(b"Subject: Re: [ADU-2026-00001] Pengaduan baru: Pengaduan Masyarakat",
                          b"Subject: Re: laporan jalan")
    assert b"ADU-2026-00001] Pengaduan baru" not in reply
    mail_world.deliver(INBOX, reply)
    _poll(cfg)
    assert tickets(cfg)[0].status == "diverifikasi"


def test_no_identity_in_any_log_line_of_the_whole_cycle(mail_world: Any, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG):
        cfg, note = _start(mail_world, tmp_path)
        [ack] = [_read(m) for m in mail_world.messages(SITI)]
        mail_world.deliver(INBOX, staff_reply(SEKDES, note, f"#status diverifikasi\n#petugas {KASI}\nOk."))
        mail_world.deliver(INBOX, complaint(subject="Re: " + str(ack["Subject"]), body="status"))
        mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#tolak x", to=INBOX))  # forged
        _poll(cfg)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "staff command applied ticket=ADU-2026-00001" in logged
    assert "security: unauthenticated staff command refused" in logged
    for secret in SITI_SECRETS:
        assert secret not in logged, secret


def test_the_same_staff_reply_delivered_twice_is_applied_once(mail_world: Any,
                                                             tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    reply = staff_reply(SEKDES, note, "#status diverifikasi\nSudah kami cek.")
    mail_world.deliver(INBOX, reply)
    mail_world.deliver(INBOX, reply)
    _poll(cfg)
    assert tickets(cfg)[0].status == "diverifikasi"
    assert len(mail_world.messages(SITI)) == 2  # acknowledgement and one status update
    # The notification and one receipt; no refusal, and no second receipt, for the copy.
    assert [str(_read(m)["Subject"]).split("]")[1].split(":")[0].strip()
            for m in mail_world.messages(SEKDES)] == ["Pengaduan baru", "Perintah sudah dijalankan"]
    assert [e.kind for e in rows(cfg, TicketEvent)].count("status") == 1
