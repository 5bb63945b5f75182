"""What each outgoing message says and to whom, as values (before any template or SMTP)."""

from __future__ import annotations

import pytest

from mailflow.core.identity import Identity
from mailflow.core.notices import (
    acknowledgement,
    new_ticket_notices,
    reply_address,
    staff_note,
    status_update,
    ticket_notice,
)
from mailflow.core.parse import Attachment
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.vocabulary import Missing, OutboxKind, Status
from tests.unit.plan_support import (
    ACK_ID,
    INBOX,
    KADES,
    KASI,
    NUMBER,
    SECRET,
    SEKDES,
    SITI,
    SITI_SECRETS,
    config,
    member,
    siti,
    text_of,
    ticket,
    waiting_for,
)

CHATTY = ticket(Status.DIVERIFIKASI, subject="Pengaduan Masyarakat dari Siti Aminah",
                description="Saya Siti Aminah (0812-3456-7890) dari Dusun Krajan RT 02/RW 05, NIK "
                            "3322114506890002: jalan rusak.")


def _photo(size: int, name: str = "jalan.png") -> Attachment:
    return Attachment(name, "image/png", b"x" * size, inline=False)


# -- acknowledgement ------------------------------------------------------------------------

def test_the_acknowledgement_threads_under_the_complaint() -> None:
    ack = acknowledgement(config(), ticket(), siti(), None, "<keluhan-1@warga.example>",
                          ["<a@warga.example>"], SITI)
    assert (ack.kind, ack.to, ack.template) == (OutboxKind.ACK, SITI, "ack")
    assert ack.subject == "[ADU-2026-00001] Pengaduan Bapak/Ibu telah diterima"
    assert (ack.in_reply_to, ack.references) == ("<keluhan-1@warga.example>", ("<a@warga.example>",))
    # The resident answers an address signed for this ticket and for them (item 5 of issue 7).
    assert ack.reply_to == signed_address(INBOX, Purpose.REPORTER, SITI, SECRET.encode(), NUMBER)


def test_the_acknowledgement_lists_missing_items_in_the_residents_words() -> None:
    ack = acknowledgement(config(), waiting_for(Missing.NAME, Missing.NIK), Identity(email=SITI),
                          "NIK harus 16 digit angka", None, [], SITI)
    assert ack.context["missing"] == ["nama lengkap", "NIK (16 digit, sesuai KTP)"]
    assert ack.context["nik_problem"] == "NIK harus 16 digit angka"
    assert ack.context["salutation"] == "Bapak/Ibu"
    assert ack.context["status_label"] == "Menunggu kelengkapan data"


def test_the_acknowledgement_promises_the_configured_number_of_working_days() -> None:
    ack = acknowledgement(config(calendar={"working_days": 5}), ticket(), siti(), None, None, [], SITI)
    assert ack.context["working_days"] == 5
    assert ack.context["due"] == "Selasa, 8 Desember 2026"  # the ticket's date, whatever the count


def test_the_staff_copy_of_an_acknowledgement_has_its_own_kind() -> None:
    ack = acknowledgement(config(), ticket(), siti(), None, None, [], KASI, OutboxKind.ACK_STAFF)
    assert (ack.kind, ack.to) == (OutboxKind.ACK_STAFF, KASI)


# -- status update --------------------------------------------------------------------------

def test_a_status_update_threads_under_the_acknowledgement() -> None:
    update = status_update(config(), ticket(Status.DIPROSES), siti(), "Besok pagi.", True)
    assert (update.kind, update.to, update.template) == (OutboxKind.STATUS, SITI, "status")
    assert update.subject == "[ADU-2026-00001] Status pengaduan: Sedang ditindaklanjuti"
    assert update.in_reply_to == ACK_ID
    assert update.context["explanation"] == Status.DIPROSES.explanation
    assert (update.context["message"], update.context["changed"], update.context["final"]) == (
        "Besok pagi.", True, False)


@pytest.mark.parametrize("status", [Status.SELESAI, Status.DITOLAK])
def test_a_final_status_closes_the_ticket_in_the_update(status: Status) -> None:
    assert status_update(config(), ticket(status), siti(), "x", True).context["final"] is True


def test_a_status_update_needs_the_reporters_address() -> None:
    with pytest.raises(ValueError, match="email"):
        status_update(config(), ticket(), siti(email=None), "", False)


# -- staff ----------------------------------------------------------------------------------

def test_a_new_ticket_notifies_each_verifier_and_nobody_else() -> None:
    notes = new_ticket_notices(config(), ticket(), siti(), [])
    assert [(n.kind, n.to, n.context["action"]) for n in notes] == [
        (OutboxKind.NOTIFY, SEKDES, "diverifikasi")]
    assert notes[0].subject == "[ADU-2026-00001] Pengaduan baru: Pengaduan Masyarakat"


def test_the_verifier_reads_the_identity_subject_and_description_as_written() -> None:
    cfg = config()
    note = ticket_notice(cfg, member(cfg, SEKDES), CHATTY, siti(), [], "diverifikasi")
    assert note.context["identity"] == siti()
    assert note.context["subject"] == CHATTY.subject
    assert note.context["description"] == CHATTY.description


@pytest.mark.parametrize("address", [KASI, KADES])
def test_other_roles_read_no_identity_anywhere_in_a_notification(address: str) -> None:
    cfg = config()
    note = ticket_notice(cfg, member(cfg, address), CHATTY, siti(), [], "ditindaklanjuti")
    assert note.context["identity"] is None
    for secret in (*SITI_SECRETS, "Dusun Krajan RT 02/RW 05", "+6281234567890"):
        assert secret not in text_of(note), secret
    assert "jalan rusak" in note.context["description"]
    assert note.subject == "[ADU-2026-00001] Tugas tindak lanjut: Pengaduan Masyarakat dari " \
                           "[nama disembunyikan]"


def test_a_notification_carries_the_tickets_facts() -> None:
    cfg = config()
    note = ticket_notice(cfg, member(cfg, KASI), waiting_for(Missing.NIK), siti(), [], "x")
    assert note.context["number"] == NUMBER
    assert note.context["due"] == "Selasa, 8 Desember 2026"
    assert note.context["priority"] == "sedang"
    assert note.context["channel"] == "email"
    assert note.context["missing"] == ["NIK (16 digit, sesuai KTP)"]


def test_attachments_ride_along_up_to_the_configured_total() -> None:
    cfg = config(storage={"notify_attachment_bytes": 100})
    note = ticket_notice(cfg, member(cfg, SEKDES), ticket(), siti(),
                         [_photo(60, "a.png"), _photo(60, "b.png"), _photo(40, "c.png")], "diverifikasi")
    assert [name for name, _type, _data in note.attachments] == ["a.png", "c.png"]
    assert note.context["attachments"] == [
        "a.png (terlampir)",
        "b.png (60 byte, tersimpan di server; lihat `mailflow show ADU-2026-00001`)",
        "c.png (terlampir)",
    ]


@pytest.mark.parametrize("address", [KASI, KADES])
def test_other_roles_get_no_attachment_and_only_scrubbed_names(address: str) -> None:
    # A photo may be of a KTP, and a file name may be "KTP_<name>_<NIK>": neither is theirs.
    cfg = config()
    note = ticket_notice(cfg, member(cfg, address), ticket(), siti(),
                         [_photo(10, "KTP_Siti_Aminah_3322114506890002.jpg"),
                          _photo(10, "foto_jalan_rusak.jpg")], "ditindaklanjuti")
    assert note.attachments == ()
    assert note.context["attachments"] == ["KTP_[disembunyikan].jpg (tersimpan di server)",
                                           "foto_jalan_rusak.jpg (tersimpan di server)"]


def test_staff_reply_to_an_address_signed_for_the_ticket_and_for_them_alone() -> None:
    cfg = config()
    address = reply_address(cfg, ticket(), KASI)
    assert address == signed_address(INBOX, Purpose.STAFF, KASI, SECRET.encode(), NUMBER)
    assert address != reply_address(cfg, ticket(), SEKDES)
    assert ticket_notice(cfg, member(cfg, KASI), ticket(), siti(), [], "x").reply_to == address
    assert staff_note(cfg, ticket(), KASI, "s", "g", []).reply_to == address


def test_a_note_that_needs_no_answer_carries_no_command_address() -> None:
    assert staff_note(config(), ticket(), KASI, "s", "g", [], answerable=False).reply_to is None


def test_the_reporter_replies_to_an_address_signed_for_the_ticket_and_the_reporter() -> None:
    cfg = config()
    expected = signed_address(INBOX, Purpose.REPORTER, SITI, SECRET.encode(), NUMBER)
    assert reply_address(cfg, ticket(), SITI) == expected
    assert acknowledgement(cfg, ticket(), siti(), None, None, (), SITI).reply_to == expected
    assert status_update(cfg, ticket(), siti(), "x", True).reply_to == expected


def test_without_signed_replies_everyone_replies_to_the_public_address() -> None:
    cfg = config(commands={"accept": ["dkim"]})
    assert reply_address(cfg, ticket(), KASI) == INBOX
    assert reply_address(cfg, ticket(), SITI) == INBOX


def test_a_staff_note_is_plain_paragraphs_to_one_address() -> None:
    cfg = config()
    note = staff_note(cfg, ticket(), KASI, "Judul", "Yth. Kasi,", ["satu", "dua"], in_reply_to="<m@x>")
    assert (note.kind, note.to, note.subject, note.template) == (OutboxKind.STAFF_NOTE, KASI, "Judul",
                                                                  "notice")
    assert note.context == {"greeting": "Yth. Kasi,", "paragraphs": ["satu", "dua"],
                            "village": "Desa Klero"}
    assert note.in_reply_to == "<m@x>"


def test_no_staff_mail_carries_the_residents_address_in_its_envelope() -> None:
    cfg = config()
    items = [*new_ticket_notices(cfg, ticket(), siti(), []),
             ticket_notice(cfg, member(cfg, KASI), ticket(), siti(), [], "ditindaklanjuti"),
             staff_note(cfg, ticket(), KASI, "s", "g", [])]
    for item in items:
        assert SITI not in (item.to, item.reply_to, item.in_reply_to)
