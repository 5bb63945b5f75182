"""Issue 7, items 1-5: forged changes, reproduced as an attacker sends them, through Dovecot.

Each test delivers the attack exactly as the issue describes it and checks that nothing
changed, nothing reached an address of the attacker's choosing, and the attempt is a
security event; then, where it matters, that the genuine sender still succeeds. The tests
only deliver mail and read mailboxes and tables, so they run unchanged against older code
(they fail there: that is how each fix was shown to be needed).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailflow.service import Service
from mailflow.store.models import Reporter, TicketEvent
from tests.e2e.support import (
    ADMIN,
    BUDI,
    INBOX,
    KASI,
    SEKDES,
    SITI,
    complaint,
    config_for,
    rows,
    tickets,
)

pytestmark = pytest.mark.e2e
DnsTxt = Callable[..., bytes | None]
BUDI_BODY = ("Nama: Budi Santoso\nNIK: 3322110506890002\n\nSaluran irigasi di Dusun Lor jebol sejak "
             "kemarin malam, sawah warga tergenang.")


def _poll(cfg: Any, dns_txt: DnsTxt | None = None) -> None:
    service = Service(cfg, dns_txt=dns_txt)
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _read(stored: Any) -> Any:
    return message_from_bytes(stored.raw, policy=default)


def _text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def _mail(sender: str, to: str, subject: str, body: str, in_reply_to: str | None = None,
          **headers: str) -> bytes:
    """A message as a mail program (or an attacker's script) sends it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="klero.desa.id")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def _reply(sender: str, note: Any, body: str, to: str | None = None, **headers: str) -> bytes:
    """Pressing Reply on `note`: to its Reply-To (or `to`), in its thread."""
    return _mail(sender, to or str(note["Reply-To"]), "Re: " + str(note["Subject"]), body,
                 str(note["Message-ID"]), **headers)


def _events(cfg: Any, kind: str) -> list[Any]:
    return [e for e in rows(cfg, TicketEvent) if e.kind == kind]


def _mails(world: Any, user: str) -> list[Any]:
    return [_read(m) for m in world.messages(user)]


def _verified_and_assigned(world: Any, tmp_path: Path, **sections: Any) -> tuple[Any, Any, Any]:
    """Siti's complaint, verified by the verifier and assigned to the officer (both genuine).
    Returns the config, the verifier's notification and the officer's assignment mail."""
    cfg = config_for(world, tmp_path, **sections)
    world.deliver(INBOX, complaint())
    _poll(cfg)
    [note] = _mails(world, SEKDES)
    world.deliver(INBOX, _reply(SEKDES, note, f"#status diverifikasi\n#petugas {KASI}\n\nSudah dicek."))
    _poll(cfg)
    [assignment] = _mails(world, KASI)
    assert tickets(cfg)[0].status == "diverifikasi"
    return cfg, note, assignment


# -- 1. a signed reply address works only for the person it was issued to -------------------

def test_an_officer_cannot_reject_in_the_verifiers_name_with_their_own_reply_address(
        mail_world: Any, tmp_path: Path) -> None:
    cfg, _note, assignment = _verified_and_assigned(mail_world, tmp_path)
    siti_before = len(mail_world.messages(SITI))

    # The officer takes the Reply-To of their own assignment mail and writes as the verifier.
    mail_world.deliver(INBOX, _reply(f"Sekretaris Desa <{SEKDES}>", assignment,
                                     "#tolak bukan wewenang desa\nDitutup."))
    _poll(cfg)

    assert tickets(cfg)[0].status == "diverifikasi"
    assert len(mail_world.messages(SITI)) == siti_before  # the resident is told nothing
    [event] = _events(cfg, "security")
    assert "signed address issued to another person" in event.note
    assert any("Peringatan keamanan" in str(m["Subject"]) for m in _mails(mail_world, ADMIN))


def test_the_officers_own_reply_address_still_works_for_the_officer(mail_world: Any,
                                                                    tmp_path: Path) -> None:
    cfg, _note, assignment = _verified_and_assigned(mail_world, tmp_path)
    mail_world.deliver(INBOX, _reply(KASI, assignment, "#status diproses\nPetugas datang besok."))
    _poll(cfg)
    assert tickets(cfg)[0].status == "diproses"
    assert [e.auth for e in _events(cfg, "status")][-1] == "signed_reply"


def test_a_security_alert_carries_no_address_that_commands(mail_world: Any, tmp_path: Path) -> None:
    """Whoever reads the administrator's alert (or steals it) gets no command address."""
    cfg, note, _assignment = _verified_and_assigned(mail_world, tmp_path)
    mail_world.deliver(INBOX, _reply(SEKDES, note, "#prioritas rendah", to=INBOX))  # unproven
    _poll(cfg)
    [alert] = _mails(mail_world, ADMIN)
    assert alert["Reply-To"] is None

    # Even pressing Reply on the alert, writing as the verifier, changes nothing.
    mail_world.deliver(INBOX, _reply(SEKDES, alert, "#tolak x\nDitutup.",
                                     to=str(alert["Reply-To"] or alert["From"])))
    _poll(cfg)
    assert tickets(cfg)[0].status == "diverifikasi"


# -- 2. a DKIM-signed command acts once, on the ticket it was written for --------------------

class Signer:
    """The staff domain's DKIM key, served to mailflow through `dns_txt` instead of DNS."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private = key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption())
        public = key.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        self.record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns_txt(self, name: bytes, timeout: int = 5) -> bytes | None:
        return self.record if name == b"desa._domainkey.klero.desa.id." else None

    def sign(self, raw: bytes, headers: tuple[str, ...]) -> bytes:
        signature = dkim.sign(raw, b"desa", b"klero.desa.id", self.private,
                              include_headers=[h.encode() for h in headers])
        return bytes(signature) + raw


@pytest.fixture
def signer() -> Signer:
    return Signer()


def _two_tickets(world: Any, tmp_path: Path, signer: Signer) -> tuple[Any, Any, Any]:
    """Siti's ticket A and Budi's ticket B; returns the config and the verifier's two notes."""
    cfg = config_for(world, tmp_path, commands={"accept": ["dkim"]})
    world.deliver(INBOX, complaint())
    world.deliver(INBOX, complaint(sender=f"Budi Santoso <{BUDI}>", body=BUDI_BODY))
    _poll(cfg, signer.dns_txt)
    note_a, note_b = _mails(world, SEKDES)
    assert "ADU-2026-00001" in str(note_a["Subject"]) and "ADU-2026-00002" in str(note_b["Subject"])
    return cfg, note_a, note_b


def _on_top(raw: bytes, *lines: str) -> bytes:
    """Header lines added above a signed message (which keeps its own)."""
    return "".join(f"{line}\r\n" for line in lines).encode() + raw


def _without(raw: bytes, name: str) -> bytes:
    """The message with header `name` removed (one line, as these tests write it)."""
    head, sep, body = raw.partition(b"\n\n")
    kept = [line for line in head.split(b"\n") if not line.lower().startswith(name.lower() + b":")]
    return b"\n".join(kept) + sep + body


def _priorities(cfg: Any) -> list[str]:
    return [t.priority for t in tickets(cfg)]


def test_a_signed_command_replayed_with_a_new_subject_and_message_id_on_top_is_refused(
        mail_world: Any, tmp_path: Path, signer: Signer) -> None:
    cfg, note_a, note_b = _two_tickets(mail_world, tmp_path, signer)
    _, suggested_b = _priorities(cfg)  # as suggested from the text (core/ticket_priority.py)
    assert suggested_b != "tinggi"
    genuine = signer.sign(_reply(SEKDES, note_a, "#prioritas tinggi", to=INBOX),
                          ("from", "to", "subject", "message-id"))  # Subject signed once only
    mail_world.deliver(INBOX, genuine)
    _poll(cfg, signer.dns_txt)
    assert _priorities(cfg) == ["tinggi", suggested_b]

    replay = _on_top(genuine, f"Subject: Re: {note_b['Subject']}",
                     f"Message-ID: {make_msgid(domain='evil.test')}")
    assert dkim.verify(replay, dnsfunc=signer.dns_txt)  # still verifies: the attack is real
    mail_world.deliver(INBOX, replay)
    _poll(cfg, signer.dns_txt)

    assert _priorities(cfg) == ["tinggi", suggested_b]
    [event] = _events(cfg, "security")
    assert "more than one subject, message-id header" in event.note


def test_a_signature_that_does_not_cover_the_subject_proves_nothing(
        mail_world: Any, tmp_path: Path, signer: Signer) -> None:
    cfg, note_a, note_b = _two_tickets(mail_world, tmp_path, signer)
    suggested = _priorities(cfg)  # as suggested from the texts (core/ticket_priority.py)
    assert "tinggi" not in suggested
    genuine = signer.sign(_reply(SEKDES, note_a, "#prioritas tinggi", to=INBOX),
                          ("from", "to", "message-id"))
    # The attacker swaps the unsigned Subject for one naming ticket B; the signature holds.
    replay = _on_top(_without(genuine, b"subject"), f"Subject: Re: {note_b['Subject']}")
    assert dkim.verify(replay, dnsfunc=signer.dns_txt)
    mail_world.deliver(INBOX, replay)
    _poll(cfg, signer.dns_txt)

    assert _priorities(cfg) == suggested
    [event] = _events(cfg, "security")
    assert "does not cover From and Subject" in event.note


def test_a_signed_command_applies_once_even_with_a_new_message_id(
        mail_world: Any, tmp_path: Path, signer: Signer) -> None:
    cfg, note_a, _note_b = _two_tickets(mail_world, tmp_path, signer)
    genuine = signer.sign(_reply(SEKDES, note_a, "Mohon kirimkan foto lokasinya.", to=INBOX),
                          ("from", "to", "subject", "in-reply-to"))
    mail_world.deliver(INBOX, genuine)
    _poll(cfg, signer.dns_txt)
    assert len(mail_world.messages(SITI)) == 2  # the acknowledgement and the staff message

    replay = _on_top(_without(genuine, b"message-id"), f"Message-ID: {make_msgid(domain='evil.test')}")
    mail_world.deliver(INBOX, replay)
    _poll(cfg, signer.dns_txt)

    assert len(mail_world.messages(SITI)) == 2
    assert [e.kind for e in rows(cfg, TicketEvent)].count("message") == 1
    [event] = _events(cfg, "security")
    assert "DKIM signature was already used" in event.note


# -- 3. Authentication-Results is read as RFC 8601 says, never from attacker text ------------

@pytest.mark.parametrize("results", [
    # The envelope sender, an RFC 2047 encoded-word that decodes into a fake result (the
    # attacker's own signature, claiming the staff domain, really failed).
    "mx.klero.desa.id; spf=pass smtp.mailfrom==?utf-8?q?x=3B_dkim=3Dpass_header.d=3Dklero.desa.id"
    "=3B_x=3Dy_header.a=3Db?=@evil.test; dkim=fail header.d=klero.desa.id",
    # A comment holding the staff address as if it were a property.
    "mx.klero.desa.id; spf=pass (via smtp.mailfrom=sekdes@klero.desa.id helo=x) smtp.mailfrom=evil.test",
    # A comment holding a whole result.
    "mx.klero.desa.id; dkim=fail (dkim=pass header.d=klero.desa.id) header.d=klero.desa.id",
    # A quoted string holding a result.
    'mx.klero.desa.id; dkim=fail reason="dkim=pass header.d=klero.desa.id" header.d=klero.desa.id',
    # spf=pass for the staff domain is not a proof of From, even less beside dmarc=fail.
    "mx.klero.desa.id; spf=pass smtp.mailfrom=klero.desa.id; dmarc=fail header.from=klero.desa.id",
], ids=["encoded-word", "comment-property", "comment-result", "quoted-result", "spf-only"])
def test_authentication_results_from_attacker_text_prove_nothing(
        mail_world: Any, tmp_path: Path, results: str) -> None:
    cfg = config_for(mail_world, tmp_path, commands={"accept": ["authserv"]})
    mail_world.deliver(INBOX, complaint())
    _poll(cfg)
    [note] = _mails(mail_world, SEKDES)
    forged = _reply(SEKDES, note, "#tolak bukan wewenang desa\nDitutup.", to=INBOX)
    # The attacker signs with a key of their own, claiming the staff domain; it fails at the
    # server, but it is there for any check that reads signatures without verifying them.
    fake = (b"DKIM-Signature: v=1; a=rsa-sha256; d=klero.desa.id; s=x; h=from:to:subject:message-id:"
            b"in-reply-to; bh=AAAA; b=QkFE\r\n")
    # The receiving server's header goes on top, byte for byte as the server wrote it (the
    # email package would decode the encoded-word if it were given the header).
    mail_world.deliver(INBOX, _on_top(fake + forged, f"Authentication-Results: {results}"))
    _poll(cfg)

    assert tickets(cfg)[0].status == "diterima"
    assert len(mail_world.messages(SITI)) == 1
    assert len(_events(cfg, "security")) == 1


# -- 4. recording a phone complaint is a staff action and needs the same proof ----------------

PHONE_BODY = ("#kanal telepon\n\nNama: Budi Santoso\nNIK: 3322110506890002\nEmail: budi@warga.example\n\n"
              "Penelepon melaporkan jembatan bambu di RT 04 patah sejak pagi.")


def test_a_forged_phone_recording_makes_no_ticket_and_mails_no_chosen_address(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    # From: the officer (forged); `Email:` names the address the attacker wants mailed.
    mail_world.deliver(INBOX, complaint(sender=f"Kasi Pelayanan <{KASI}>", body=PHONE_BODY))
    _poll(cfg)

    assert tickets(cfg) == []
    assert mail_world.messages(BUDI) == []
    assert mail_world.messages(SEKDES) == []  # no "new ticket" for the verifier either
    [alert] = _mails(mail_world, ADMIN)
    assert "pencatatan pengaduan tanpa bukti" in str(alert["Subject"]) and alert["Reply-To"] is None
    [told] = _mails(mail_world, KASI)
    assert "tidak terbukti berasal dari alamat Bapak/Ibu" in _text(told)

    # The genuine officer re-sends it to the record address the explanation gave: recorded.
    record = str(told["Reply-To"])
    assert record.startswith("pengaduan+catat.") and record in _text(told)
    mail_world.deliver(INBOX, complaint(sender=f"Kasi Pelayanan <{KASI}>", body=PHONE_BODY, to=record))
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert ticket.channel == "telepon"
    [created] = _events(cfg, "created")
    assert (created.actor, created.auth) == (KASI, "signed_reply")
    assert len(mail_world.messages(BUDI)) == 1


def test_another_members_record_address_does_not_record(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(sender=KASI, body=PHONE_BODY))
    _poll(cfg)
    [told] = _mails(mail_world, KASI)
    # The verifier's From on the officer's record address: refused like a forged command.
    mail_world.deliver(INBOX, complaint(sender=SEKDES, body=PHONE_BODY, to=str(told["Reply-To"])))
    _poll(cfg)
    assert tickets(cfg) == []
    assert mail_world.messages(BUDI) == []


# -- 5. what a resident's reply may change needs proof that the reporter sent it --------------

WITHOUT_NIK = "Nama: Siti Aminah\n\nLampu jalan di gang Melati mati sejak seminggu yang lalu."


def test_a_forged_reporter_cannot_complete_the_data_of_a_waiting_ticket(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(body=WITHOUT_NIK))
    _poll(cfg)
    assert tickets(cfg)[0].status == "perlu_data"
    [ack] = _mails(mail_world, SITI)

    # Someone else writes as Siti, to the public address, with another person's name and NIK.
    forged = complaint(subject="Re: " + str(ack["Subject"]), In_Reply_To=str(ack["Message-ID"]),
                       body="Nama: Budi Santoso\nNIK: 3322110506890002")
    mail_world.deliver(INBOX, forged)
    _poll(cfg)

    [ticket] = tickets(cfg)
    assert (ticket.status, ticket.missing) == ("perlu_data", "nik")
    [reporter] = rows(cfg, Reporter)
    assert reporter.nik is None
    assert len(mail_world.messages(SITI)) == 1  # no "data complete" to the real Siti
    assert len(_events(cfg, "unverified_data")) == 1
    told = _text(_mails(mail_world, SEKDES)[-1])
    assert "tidak terbukti berasal dari pelapor" in told and "3322110506890002" in told

    # Siti herself replies with Reply (to the address signed for her): the data counts.
    genuine = complaint(subject="Re: " + str(ack["Subject"]), In_Reply_To=str(ack["Message-ID"]),
                        body="NIK: 3322114506890002", to=str(ack["Reply-To"]))
    mail_world.deliver(INBOX, genuine)
    _poll(cfg)
    assert tickets(cfg)[0].status == "diterima"
    assert rows(cfg, Reporter)[0].nik == "3322114506890002"


def test_the_reporters_reply_address_does_not_work_for_someone_else(mail_world: Any,
                                                                     tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(body=WITHOUT_NIK))
    _poll(cfg)
    [ack] = _mails(mail_world, SITI)
    # The tag is bound to Siti's address: Budi sending to it (as himself) changes nothing.
    mail_world.deliver(INBOX, complaint(sender=BUDI, subject="Re: " + str(ack["Subject"]),
                                        body="NIK: 3322110506890002", to=str(ack["Reply-To"])))
    _poll(cfg)
    assert tickets(cfg)[0].status == "perlu_data"


def test_a_forged_status_request_is_answered_only_to_the_reporter(mail_world: Any,
                                                                  tmp_path: Path) -> None:
    """No proof needed: the answer goes to the reporter's own address, whoever asked."""
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint())
    _poll(cfg)
    [ack] = _mails(mail_world, SITI)
    mail_world.deliver(INBOX, complaint(subject="Re: " + str(ack["Subject"]), body="cek status",
                                        Reply_To=BUDI))
    _poll(cfg)
    answer = _mails(mail_world, SITI)[-1]
    assert answer["Subject"] == "[ADU-2026-00001] Informasi status pengaduan"
    assert mail_world.messages(BUDI) == []
