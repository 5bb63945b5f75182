"""Which messages become tickets, which are replies, and which robots are never answered."""

import pytest

from mailflow.core.intake_rules import (
    Kind,
    classify,
    find_ticket_number,
    message_key,
    subject_matches,
)
from mailflow.core.parse import parse_message

PHRASES = ["Pengaduan Masyarakat"]
OWN = {"pengaduan@klero.desa.id"}


def _msg(subject: str = "Pengaduan Masyarakat", sender: str = "siti@warga.example",
         extra: str = "", body: str = "Jalan rusak.") -> bytes:
    return (f"From: {sender}\r\nTo: pengaduan@klero.desa.id\r\nSubject: {subject}\r\n"
            f"{extra}\r\n{body}\r\n").encode()


def _classify(raw: bytes):
    return classify(parse_message(raw), PHRASES, "ADU", OWN)


@pytest.mark.parametrize(
    "subject",
    ["Pengaduan Masyarakat", "pengaduan masyarakat", "Re: Fwd: PENGADUAN  MASYARAKAT",
     "Pengaduan\tMasyarakat: jalan rusak", "Ｐｅｎｇａｄｕａｎ Masyarakat"],
)
def test_subject_forms_match(subject: str) -> None:
    assert subject_matches(subject, PHRASES)


@pytest.mark.parametrize("subject", ["Pengaduan", "Masyarakat Pengaduan", "Undangan rapat", ""])
def test_other_subjects_do_not_match(subject: str) -> None:
    assert not subject_matches(subject, PHRASES)


def test_encoded_subject_is_taken() -> None:
    decision = _classify(_msg("=?UTF-8?B?UGVuZ2FkdWFuIE1hc3lhcmFrYXQ=?="))
    assert decision.kind is Kind.NEW


def test_unrelated_mail_is_skipped() -> None:
    assert _classify(_msg("Undangan rapat RT")).kind is Kind.SKIP


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("Auto-Submitted: auto-replied\r\n", "auto-submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y\r\n", "auto-submitted: auto-generated"),
        ("Precedence: bulk\r\n", "precedence: bulk"),
        ("Precedence: junk\r\n", "precedence: junk"),
        ("Precedence: list\r\n", "precedence: list"),
        ("X-Autoreply: yes\r\n", "auto-reply header: x-autoreply"),
        ("X-Autorespond: yes\r\n", "auto-reply header: x-autorespond"),
        ("Return-Path: <>\r\n", "empty return-path"),
        ("Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n",
         "delivery status notification"),
    ],
)
def test_robots_are_ignored_with_reason(extra: str, reason: str) -> None:
    decision = _classify(_msg(extra=extra))
    assert decision.kind is Kind.IGNORE
    assert decision.reason.startswith(reason)


def test_auto_submitted_no_is_a_person() -> None:
    assert _classify(_msg(extra="Auto-Submitted: no\r\n")).kind is Kind.NEW


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@mx.example",
                                    "pengaduan@klero.desa.id", "Pengaduan@Klero.desa.id"])
def test_daemons_and_own_address_are_ignored(sender: str) -> None:
    assert _classify(_msg(sender=sender)).kind is Kind.IGNORE


def test_vacation_subject_is_ignored() -> None:
    decision = _classify(_msg("Automatic reply: Pengaduan Masyarakat"))
    assert decision.kind is Kind.IGNORE


def test_ticket_number_in_subject_is_a_reply() -> None:
    decision = _classify(_msg("Re: [ADU-2026-00042] Pengaduan Anda telah diterima"))
    assert decision.kind is Kind.REPLY
    assert decision.ticket_number == "ADU-2026-00042"


def test_ticket_number_is_found_in_any_case() -> None:
    assert find_ticket_number("re: adu-2026-00007 status", "ADU") == "ADU-2026-00007"
    assert find_ticket_number("ADU-26-7", "ADU") is None


def test_message_key_prefers_message_id() -> None:
    msg = parse_message(_msg(extra="Message-ID: <A@B>\r\n"))
    assert message_key(msg) == "mid:<a@b>"


def test_message_key_without_id_depends_on_content_only() -> None:
    one = parse_message(b"Received: by a\r\n" + _msg())
    two = parse_message(b"Received: by b\r\nReceived: by c\r\n" + _msg())
    other = parse_message(_msg(body="Lampu mati."))
    assert message_key(one) == message_key(two)
    assert message_key(one) != message_key(other)


# -- the same complaint again (what ends a robot's loop) -------------------------------------

def _content(body: str, sender: str = "siti@warga.example", subject: str = "Pengaduan Masyarakat"):
    from mailflow.core.intake_rules import content_key

    return content_key(parse_message(_msg(subject, sender, "Message-ID: <x@y>\r\n", body)))


def test_content_key_ignores_what_a_repeat_quotes_and_its_reply_prefix() -> None:
    robot = "Pesan Anda sudah kami catat."
    first = _content(robot)
    again = _content(robot + "\r\n\r\n-----Original Message-----\r\nNomor ADU-2026-00007",
                     subject="Re: RE: Pengaduan Masyarakat")
    assert first == again


def test_content_key_tells_senders_texts_and_attachments_apart() -> None:
    from email.message import EmailMessage

    from mailflow.core.intake_rules import content_key

    base = _content("Lampu jalan mati.")
    assert base != _content("Lampu jalan mati.", sender="budi@warga.example")
    assert base != _content("Lampu jalan di gang lain mati.")

    def with_photo(data: bytes) -> str | None:
        msg = EmailMessage()
        msg["From"], msg["Subject"] = "siti@warga.example", "Pengaduan Masyarakat"
        msg.set_content("Lampu jalan mati.")
        msg.add_attachment(data, maintype="image", subtype="jpeg", filename="foto.jpg")
        return content_key(parse_message(msg.as_bytes()))

    assert with_photo(b"photo one") != with_photo(b"photo two")
    assert content_key(parse_message(b"Subject: Pengaduan Masyarakat\r\n\r\nx\r\n")) is None
