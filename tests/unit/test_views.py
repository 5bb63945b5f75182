"""What `mailflow tickets`, `mailflow show` and the demo print, from rows built in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from mailflow import views
from mailflow.core.identity import Identity
from mailflow.core.privacy import Redactor
from mailflow.store.models import Attachment, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import Channel, EventKind, Status

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # 10:00 in the village
NOBODY = Redactor()  # a reporter who gave nothing: the rules that need no identity still apply


def _ticket(**changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": 1, "number": "ADU-2026-00001", "status": Status.DITERIMA, "channel": Channel.EMAIL,
        "received_at": RECEIVED, "due_date": date(2026, 12, 8), "subject": "Pengaduan Masyarakat",
        "description": "Jalan berlubang.\nMohon diperbaiki.", "message_key": "k1",
        "created_at": RECEIVED,
    }
    return Ticket(**{**fields, **changes})


def _event(**changes: object) -> TicketEvent:
    fields: dict[str, object] = {"ticket_id": 1, "at": RECEIVED, "actor": "system",
                                 "kind": EventKind.CREATED, "to_status": Status.DITERIMA}
    return TicketEvent(**{**fields, **changes})


def test_row_is_in_the_village_zone_and_without_identity() -> None:
    row = views.ticket_row(_ticket(missing="nik,nama"), WIB, NOBODY)
    assert row == {
        "id": "ADU-2026-00001", "status": "diterima", "channel": "email",
        "received_at": "2026-11-27T10:00:00+07:00", "due_date": "2026-12-08",
        "subject": "Pengaduan Masyarakat", "missing": ["nik", "nama"],
    }
    assert {type(value) for value in row.values()} == {str, list}  # plain JSON, no enums


def test_table_lines_up_columns_and_cuts_long_subjects() -> None:
    long_subject = "Pengaduan " + "jalan " * 15
    [line] = views.ticket_table([views.ticket_row(_ticket(subject=long_subject), WIB, NOBODY)])
    assert line == ("ADU-2026-00001  diterima      email    2026-11-27T10:00  tenggat 2026-12-08  "
                    + long_subject[:60])


def test_empty_table_says_so() -> None:
    assert views.ticket_table([]) == ["Belum ada tiket."]


def test_show_hides_the_reporter_unless_given_identity_lines() -> None:
    ticket = _ticket(missing="nik", assignee=None)
    lines = views.show_lines(ticket, WIB, attachments=[], events=[], hide=NOBODY)
    assert lines[:10] == [
        "Tiket      : ADU-2026-00001",
        "Status     : diterima (Tercatat \u2013 menunggu verifikasi)",
        "Kanal      : email",
        "Diterima   : 2026-11-27 10:00 WIB",
        "Tenggat    : 2026-12-08 (Selasa, 8 Desember 2026)",
        "Subjek     : Pengaduan Masyarakat",
        "Prioritas  : sedang",
        "Petugas    : -",
        "Kurang     : nik",
        "Pelapor    : Identitas pelapor dirahasiakan (gunakan --with-identity)",
    ]
    assert lines[10:] == ["", "Uraian:", "Jalan berlubang.", "Mohon diperbaiki.", "", "Riwayat:"]


def test_show_lists_attachments_and_the_trail() -> None:
    photo = Attachment(ticket_id=1, filename="lampu.png", content_type="image/png", size=68,
                       sha256="0" * 64, path="a/lampu.png")
    lines = views.show_lines(_ticket(), WIB, attachments=[photo], events=[_event()],
                             identity=["Nama       : Siti"], hide=NOBODY)
    assert "Nama       : Siti" in lines
    assert not any("dirahasiakan" in line for line in lines)
    assert lines[-3:] == ["Lampiran   : lampu.png (image/png, 68 bytes)", "Riwayat:",
                          "  2026-11-27 10:00  created ->diterima  oleh system"]


def test_identity_lines_name_every_field_and_a_nik_problem() -> None:
    reporter = Reporter(ticket_id=1, name="Siti Aminah", nik="332211450689",
                        nik_problem="NIK harus 16 digit angka", phone=None, address="Krajan",
                        email="siti@warga.example")
    assert views.identity_lines(reporter) == [
        "Nama       : Siti Aminah",
        "NIK        : 332211450689 (NIK harus 16 digit angka)",
        "Telepon    : -",
        "Alamat     : Krajan",
        "Email      : siti@warga.example",
    ]
    assert views.identity_lines(None) == ["Pelapor    : (tidak ada data)"]


def test_staff_event_names_proof_and_message_and_folds_the_note() -> None:
    event = _event(actor="sekdes@klero.desa.id", kind=EventKind.STATUS,
                   from_status=Status.DITERIMA, to_status=Status.DIVERIFIKASI, auth="signed_reply",
                   message_id="<r1@klero.desa.id>",
                   note="Sudah   kami\nperiksa. " + "y" * 300)
    head, note = views.event_lines(event, WIB, NOBODY)
    assert head == ("  2026-11-27 10:00  status diterima->diverifikasi  oleh sekdes@klero.desa.id "
                    "[signed_reply] pesan <r1@klero.desa.id>")
    assert note == "      " + ("Sudah kami periksa. " + "y" * 300)[:200]


def test_reporter_event_shows_neither_message_id_nor_reply_text() -> None:
    event = _event(actor="reporter", kind=EventKind.REPLY, to_status=None, message_id="<m@warga.example>",
                   note="NIK saya 3322114506890002")
    assert views.event_lines(event, WIB, NOBODY) == ["  2026-11-27 10:00  reply  oleh reporter"]


# -- issue 7 item 7: listings and show without identity are scrubbed ---------------------------

SITI = Identity(name="Siti Aminah", nik="3322114506890002", address="Dusun Krajan RT 02/RW 05",
                email="siti@warga.example")
CHATTY = {"subject": "Pengaduan Masyarakat - Siti Aminah, Dusun Krajan",
          "description": "Saya Siti Aminah warga RT 02 melapor jalan berlubang.\n\n"
                         "Hormat saya,\nSiti Aminah\n(0298) 321456"}
KTP = Attachment(ticket_id=1, filename="KTP_Siti_Aminah_3322114506890002.jpg",
                 content_type="image/jpeg", size=99, sha256="0" * 64, path="a/b")
NOTE = _event(actor="sekdes@klero.desa.id", kind=EventKind.MESSAGE, to_status=None,
              note="Bu Siti Aminah, petugas datang besok.")


def test_the_listing_scrubs_the_subject() -> None:
    row = views.ticket_row(_ticket(**CHATTY), WIB, Redactor(SITI))
    assert row["subject"] == "Pengaduan Masyarakat - [nama disembunyikan], Dusun [disembunyikan]"


def test_show_without_identity_scrubs_subject_description_files_and_notes() -> None:
    lines = views.show_lines(_ticket(**CHATTY), WIB, attachments=[KTP], events=[NOTE],
                             hide=Redactor(SITI))
    page = "\n".join(lines)
    for secret in ("Siti", "Aminah", "RT 02", "321456", "3322114506890002"):
        assert secret not in page, secret
    assert "melapor jalan berlubang" in page
    assert "Lampiran   : KTP_[disembunyikan].jpg (image/jpeg, 99 bytes)" in lines
    assert "      Bu [nama disembunyikan], petugas datang besok." in lines


def test_show_with_recorded_identity_prints_everything_as_stored() -> None:
    lines = views.show_lines(_ticket(**CHATTY), WIB, attachments=[KTP], events=[NOTE],
                             identity=views.identity_lines(None), hide=Redactor(SITI))
    assert "Subjek     : Pengaduan Masyarakat - Siti Aminah, Dusun Krajan" in lines
    assert "Lampiran   : KTP_Siti_Aminah_3322114506890002.jpg (image/jpeg, 99 bytes)" in lines
    assert "      Bu Siti Aminah, petugas datang besok." in lines


def test_an_identity_view_is_a_line_of_the_trail() -> None:
    event = _event(actor="sekdes@klero.desa.id", kind=EventKind.IDENTITY_VIEWED, to_status=None,
                   auth="os_user", note="mailflow show --with-identity by OS user sekdes for "
                                        "sekdes@klero.desa.id")
    staff = Redactor(SITI, keep=frozenset({"sekdes@klero.desa.id"}))
    assert views.event_lines(event, WIB, staff) == [
        "  2026-11-27 10:00  identity_viewed  oleh sekdes@klero.desa.id [os_user]",
        "      mailflow show --with-identity by OS user sekdes for sekdes@klero.desa.id",
    ]
