"""What `mailflow tickets`, `mailflow show` and the demo print, from rows built in memory."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from mailflow import views
from mailflow.core.identity import Identity
from mailflow.core.privacy import Redactor
from mailflow.store.models import Attachment, OutboxMessage, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import Channel, EventKind, OutboxKind, OutboxState, Priority, Status

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


TODAY = date(2026, 11, 29)


def test_row_is_in_the_village_zone_and_without_identity() -> None:
    row = views.ticket_row(_ticket(missing="nik,nama"), WIB, NOBODY, TODAY)
    assert row == {
        "id": "ADU-2026-00001", "status": "diterima", "priority": "sedang",
        "priority_reason": "", "priority_set_by": "system", "assignee": "-",
        "channel": "email", "kind": "-", "received_at": "2026-11-27T10:00:00+07:00",
        "received_at_text": "2026-11-27 10:00 WIB", "due_date": "2026-12-08", "overdue": False,
        "subject": "Pengaduan Masyarakat", "missing": ["nik", "nama"],
    }
    assert {type(value) for value in row.values()} == {str, list, bool}  # plain JSON, no enums


def test_table_has_a_header_lines_up_columns_and_cuts_long_subjects() -> None:
    long_subject = "Pengaduan " + "jalan " * 15
    row = views.ticket_row(_ticket(subject=long_subject, assignee="kasi@klero.desa.id"), WIB,
                           NOBODY, TODAY)
    header, line = views.ticket_table([row])
    assert header.split() == ["TIKET", "STATUS", "PRIORITAS", "PETUGAS", "SALURAN", "DITERIMA",
                              "BATAS", "WAKTU", "PERIHAL"]
    assert line == ("ADU-2026-00001  diterima      sedang    kasi@klero.desa.id       email    "
                    "2026-11-27 10:00 WIB  2026-12-08              " + long_subject[:60])
    assert header.index("PERIHAL") == line.index("Pengaduan")


def test_overdue_means_before_today_and_not_closed() -> None:
    due = date(2026, 11, 28)
    assert views.ticket_row(_ticket(due_date=due), WIB, NOBODY, TODAY)["overdue"] is True
    assert views.ticket_row(_ticket(due_date=TODAY), WIB, NOBODY, TODAY)["overdue"] is False
    for closed in (Status.SELESAI, Status.DITOLAK):
        assert not views.ticket_row(_ticket(due_date=due, status=closed), WIB, NOBODY,
                                    TODAY)["overdue"]
    [_, line] = views.ticket_table([views.ticket_row(_ticket(due_date=due), WIB, NOBODY, TODAY)])
    assert "2026-11-28   TERLAMBAT  Pengaduan" in line


def test_most_urgent_first_by_priority_then_due_date() -> None:
    rows = [views.ticket_row(_ticket(number=f"ADU-2026-0000{i}", priority=p, due_date=d), WIB,
                             NOBODY, TODAY)
            for i, (p, d) in enumerate([(Priority.RENDAH, date(2026, 12, 1)),
                                        (Priority.SEDANG, date(2026, 12, 9)),
                                        (Priority.DARURAT, date(2026, 12, 20)),
                                        (Priority.SEDANG, date(2026, 12, 2))])]
    assert [r["id"][-1] for r in views.by_urgency(rows)] == ["2", "3", "1", "0"]


def test_empty_table_says_so() -> None:
    assert views.ticket_table([]) == ["Belum ada tiket."]
    assert views.ticket_table([], filtered=True) == ["Tidak ada tiket yang cocok dengan filter."]


def test_show_hides_the_reporter_unless_given_identity_lines() -> None:
    ticket = _ticket(missing="nik", assignee=None)
    lines = views.show_lines(ticket, WIB, attachments=[], events=[], hide=NOBODY)
    assert lines[:10] == [
        "Tiket      : ADU-2026-00001",
        "Status     : diterima (Tercatat \u2013 menunggu verifikasi)",
        "Saluran    : email",
        "Diterima   : 2026-11-27 10:00 WIB",
        "Batas waktu: 2026-12-08 (Selasa, 8 Desember 2026)",
        "Perihal    : Pengaduan Masyarakat",
        "Prioritas  : Sedang",
        "Petugas    : -",
        "Data kurang: nik",
        "Pelapor    : Identitas pelapor dirahasiakan (gunakan --with-identity)",
    ]
    assert lines[10:] == ["", "Uraian:", "Jalan berlubang.", "Mohon diperbaiki.", "", "Riwayat:"]


REASON = "darurat (urgensi segera, dampak luas): 'banjir' (banjir) -> urgensi segera"


def test_show_says_why_the_system_suggested_the_priority() -> None:
    ticket = _ticket(priority=Priority.DARURAT, priority_reason=REASON)
    lines = views.show_lines(ticket, WIB, attachments=[], events=[], hide=NOBODY)
    assert f"Prioritas  : Darurat (disarankan sistem: {REASON})" in lines
    row = views.ticket_row(ticket, WIB, NOBODY, TODAY)
    assert (row["priority"], row["priority_reason"], row["priority_set_by"]) == (
        "darurat", REASON, "system")


def test_show_names_the_staff_member_whose_priority_won() -> None:
    ticket = _ticket(priority=Priority.RENDAH, priority_reason=REASON,
                     priority_set_by="kasi@klero.desa.id")
    office = Redactor(keep=frozenset({"kasi@klero.desa.id"}))  # as redactor_for keeps staff
    lines = views.show_lines(ticket, WIB, attachments=[], events=[], hide=office)
    assert (f"Prioritas  : Rendah (ditetapkan oleh kasi@klero.desa.id; saran sistem: {REASON})"
            in lines)


def test_show_lists_attachments_and_the_trail() -> None:
    photo = Attachment(ticket_id=1, filename="lampu.png", content_type="image/png", size=68,
                       sha256="0" * 64, path="a/lampu.png")
    lines = views.show_lines(_ticket(), WIB, attachments=[photo], events=[_event()],
                             identity=["Nama       : Siti"], hide=NOBODY)
    assert "Nama       : Siti" in lines
    assert not any("dirahasiakan" in line for line in lines)
    assert lines[-3:] == ["Lampiran   : lampu.png (image/png, 68 byte), disimpan di a/lampu.png",
                          "Riwayat:", "  2026-11-27 10:00 WIB  tiket dibuat ->diterima  oleh sistem"]


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
    assert head == ("  2026-11-27 10:00 WIB  status diubah diterima->diverifikasi  oleh "
                    "sekdes@klero.desa.id [alamat balasan bertanda] pesan <r1@klero.desa.id>")
    assert note == "      " + ("Sudah kami periksa. " + "y" * 300)[:200]


def test_reporter_event_shows_neither_message_id_nor_reply_text() -> None:
    event = _event(actor="reporter", kind=EventKind.REPLY, to_status=None, message_id="<m@warga.example>",
                   note="NIK saya 3322114506890002")
    assert views.event_lines(event, WIB, NOBODY) == ["  2026-11-27 10:00 WIB  balasan diterima  oleh pelapor"]


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
    row = views.ticket_row(_ticket(**CHATTY), WIB, Redactor(SITI), TODAY)
    assert row["subject"] == "Pengaduan Masyarakat - [nama disembunyikan], Dusun [disembunyikan]"


def test_show_without_identity_scrubs_subject_description_files_and_notes() -> None:
    lines = views.show_lines(_ticket(**CHATTY), WIB, attachments=[KTP], events=[NOTE],
                             hide=Redactor(SITI))
    page = "\n".join(lines)
    for secret in ("Siti", "Aminah", "RT 02", "321456", "3322114506890002"):
        assert secret not in page, secret
    assert "melapor jalan berlubang" in page
    assert "Lampiran   : KTP_[disembunyikan].jpg (image/jpeg, 99 byte), disimpan di a/b" in lines
    assert "      Bu [nama disembunyikan], petugas datang besok." in lines


def test_show_with_recorded_identity_prints_everything_as_stored() -> None:
    lines = views.show_lines(_ticket(**CHATTY), WIB, attachments=[KTP], events=[NOTE],
                             identity=views.identity_lines(None), hide=Redactor(SITI))
    assert "Perihal    : Pengaduan Masyarakat - Siti Aminah, Dusun Krajan" in lines
    assert ("Lampiran   : KTP_Siti_Aminah_3322114506890002.jpg (image/jpeg, 99 byte), "
            "disimpan di a/b") in lines
    assert "      Bu Siti Aminah, petugas datang besok." in lines


def test_an_identity_view_is_a_line_of_the_trail() -> None:
    event = _event(actor="sekdes@klero.desa.id", kind=EventKind.IDENTITY_VIEWED, to_status=None,
                   auth="os_user", note="mailflow show --with-identity by OS user sekdes for "
                                        "sekdes@klero.desa.id")
    staff = Redactor(SITI, keep=frozenset({"sekdes@klero.desa.id"}))
    assert views.event_lines(event, WIB, staff) == [
        "  2026-11-27 10:00 WIB  identitas pelapor dilihat  oleh sekdes@klero.desa.id "
        "[pengguna OS]",
        "      lewat mailflow show --with-identity oleh pengguna OS sekdes untuk "
        "sekdes@klero.desa.id",
    ]


# -- issue 8, day to day: English notes, outbox rows, the mail section of `show` ---------------

def test_every_event_kind_and_old_english_note_reads_in_indonesian() -> None:
    event = _event(note="missing: nik,nama reply-to differs from from; acknowledged at from only")
    head, note = views.event_lines(event, WIB, NOBODY)
    assert head == "  2026-11-27 10:00 WIB  tiket dibuat ->diterima  oleh sistem"
    assert note == ("      kurang: nik, nama alamat balasan (Reply-To) berbeda dari alamat "
                    "pengirim (From); tanda terima hanya ke alamat pengirim")
    for kind in EventKind:
        [line] = views.event_lines(_event(kind=kind, to_status=None), WIB, NOBODY)
        assert line.split("  ")[2] == kind.label


def _mail(**changes: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "id": 7, "ticket_id": 1, "kind": OutboxKind.ACK, "message_id": "<a@k>",
        "recipient": "Siti@Warga.example", "raw": b"", "state": OutboxState.PARKED, "attempts": 3,
        "next_attempt_at": RECEIVED, "created_at": RECEIVED,
        "last_error": "[SMTPRecipientRefused(550, '5.1.1 <siti@warga.example>: no such user', "
                      "'<Siti@Warga.example>')]"}
    return OutboxMessage(**{**fields, **changes})


KNOWN = frozenset({"sekdes@klero.desa.id"})


def test_outbox_rows_never_print_a_residents_address() -> None:
    row = views.outbox_row(_mail(), "ADU-2026-00001", WIB, KNOWN)
    assert row["recipient"] == "pelapor"
    assert "warga.example" not in json.dumps(row).lower()
    assert row["error_short"] == "550 5.1.1 <alamat>: no such user"
    other = views.outbox_row(_mail(kind=OutboxKind.STAFF_NOTE), None, WIB, KNOWN)
    assert other["recipient"] == "(alamat dirahasiakan)"
    staff = views.outbox_row(_mail(kind=OutboxKind.NOTIFY, recipient="SEKDES@klero.desa.id",
                                   last_error="451 <sekdes@klero.desa.id> busy"), None, WIB, KNOWN)
    assert (staff["recipient"], staff["error_short"]) == ("sekdes@klero.desa.id",
                                                          "451 <sekdes@klero.desa.id> busy")


def test_outbox_table_has_a_header_and_says_when_nothing_waits() -> None:
    rows = [views.outbox_row(_mail(), "ADU-2026-00001", WIB, KNOWN),
            views.outbox_row(_mail(id=8, state=OutboxState.PENDING, attempts=1), None, WIB, KNOWN)]
    header, parked, pending = views.outbox_table(rows)
    assert header.split()[:3] == ["ID", "JENIS", "TIKET"]
    assert parked.split()[:6] == ["7", "tanda", "terima", "ADU-2026-00001", "ditahan", "3"]
    assert "2026-11-27 10:00 WIB" in pending and "2026-11-27" not in parked
    assert views.outbox_table([]) == ["Tidak ada email yang menunggu atau ditahan."]


def test_show_says_for_each_mail_whether_it_went_out() -> None:
    mail = [views.outbox_row(item, "ADU-2026-00001", WIB, KNOWN) for item in (
        _mail(state=OutboxState.SENT, sent_at=RECEIVED, last_error=""),
        _mail(id=8, state=OutboxState.PENDING, attempts=0),
        _mail(id=9))]
    lines = views.show_lines(_ticket(), WIB, attachments=[], events=[], hide=NOBODY, mail=mail)
    assert lines[lines.index("Email keluar:") + 1:lines.index("Riwayat:")] == [
        "  #7 tanda terima untuk pelapor: terkirim 2026-11-27 10:00 WIB",
        "  #8 tanda terima untuk pelapor: menunggu sejak 2026-11-27 10:00 WIB",
        "  #9 tanda terima untuk pelapor: DITAHAN setelah 3 percobaan: 550 5.1.1 <alamat>: no "
        "such user (kirim ulang: mailflow outbox --retry 9)",
    ]
    empty = views.show_lines(_ticket(), WIB, attachments=[], events=[], hide=NOBODY, mail=[])
    assert "  (belum ada)" in empty
