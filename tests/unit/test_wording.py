"""The Bahasa Indonesia residents and staff read (newcomer account, item 12), rendered from the
real templates: "Bapak/Ibu" as the pronoun, an explicit deadline, no deadline on a closed
complaint, automatic texts not signed by an officer, a status answer that is not a change."""

from __future__ import annotations

from datetime import UTC, datetime

from mailflow.compose.render import Renderer
from mailflow.core.notices import Outgoing, new_ticket_notices, status_update
from mailflow.core.replies import plan_resident_reply, plan_staff_reply
from mailflow.vocabulary import Missing, OutboxKind, Status
from tests.unit.plan_support import (
    ADMIN,
    SEKDES,
    SITI_NIK,
    config,
    member,
    resident_mail,
    siti,
    staff_mail,
    ticket,
    waiting_for,
)

CLOSED = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # Friday 4 December 00.30 WIB
DEADLINE = ("Batas waktu tanggapan: Selasa, 8 Desember 2026 \u2014 7 hari kerja sejak pengaduan\n"
            "diterima (tidak termasuk Sabtu, Minggu, hari libur nasional, dan cuti bersama).")


def _text(item: Outgoing) -> str:
    return Renderer().render(item.template, item.context)[0]


def _resident_mail(body: str, facts: object = None, now: datetime | None = None) -> Outgoing:
    cfg = config()
    plan = plan_staff_reply(facts or ticket(Status.DIVERIFIKASI), siti(), member(cfg, SEKDES),
                            staff_mail(SEKDES, body), "signed_reply", cfg, now=now)
    [update] = [o for o in plan.outgoing if o.kind is OutboxKind.STATUS]
    return update


def test_a_change_states_the_status_and_the_deadline_in_full() -> None:
    text = _text(_resident_mail("#status diproses\nPetugas datang besok."))
    assert "Status pengaduan Bapak/Ibu dengan nomor ADU-2026-00001 saat ini: Sedang " \
           "ditindaklanjuti." in text
    assert DEADLINE in text
    assert "Pesan dari petugas:\nPetugas datang besok." in text
    assert "Anda" not in text


def test_a_closed_complaint_says_when_it_was_closed_and_no_deadline() -> None:
    done = _text(_resident_mail("#status selesai\nJalan sudah ditambal.", now=CLOSED))
    assert "Diselesaikan pada: Jumat, 4 Desember 2026" in done
    assert "Batas waktu" not in done and "kami tutup" in done
    rejected = _text(_resident_mail("#tolak bukan wewenang desa\nSilakan ke kecamatan.",
                                    ticket(), now=CLOSED))
    assert "Ditutup pada: Jumat, 4 Desember 2026" in rejected
    assert "Batas waktu" not in rejected


def test_a_rejection_gives_its_reason_once() -> None:
    text = _text(_resident_mail("#status ditolak\nBukan wewenang desa.", ticket()))
    assert text.count("Alasan:") == 1 and "Alasan: Bukan wewenang desa." in text
    assert "Pesan dari petugas" not in text


def test_the_answer_to_a_status_question_does_not_read_as_a_change() -> None:
    [answer] = plan_resident_reply(ticket(Status.DIVERIFIKASI), siti(), resident_mail("status"),
                                   config(), "signed_reply").outgoing
    text = _text(answer)
    assert ("Menanggapi pertanyaan Bapak/Ibu, pengaduan nomor ADU-2026-00001 saat ini "
            "berstatus:\nSudah diverifikasi.") in text
    assert "menunggu tindak lanjut petugas" in text
    assert "saat ini: " not in text and "masih" not in text


def test_completed_data_is_thanked_without_naming_an_officer() -> None:
    plan = plan_resident_reply(waiting_for(Missing.NIK), siti(nik=None),
                               resident_mail(f"NIK: {SITI_NIK}"), config(), "signed_reply")
    [update] = [o for o in plan.outgoing if o.kind is OutboxKind.STATUS]
    text = _text(update)
    assert "Terima kasih, data yang Bapak/Ibu kirimkan sudah lengkap." in text
    assert "Pesan dari petugas" not in text
    assert "saat ini: Tercatat \u2013 menunggu verifikasi." in text


def test_a_message_without_a_change_is_the_officers_and_not_a_status_change() -> None:
    update = _resident_mail("Mohon kirimkan foto lokasinya.")
    assert update.subject == "[ADU-2026-00001] Pesan dari petugas"
    text = _text(update)
    assert "Petugas kami menyampaikan pesan" in text
    assert "Pesan dari petugas:\nMohon kirimkan foto lokasinya." in text


def test_staff_notifications_greet_the_staff_member_by_name() -> None:
    [notice] = new_ticket_notices(config(), ticket(), siti(), [])
    text = _text(notice)
    assert text.startswith("Yth. Sekretaris Desa,\n\nPengaduan ADU-2026-00001 perlu diverifikasi.")
    assert "Batas waktu tanggapan : Selasa, 8 Desember 2026" in text


def test_the_forged_command_alert_says_in_words_what_to_check() -> None:
    cfg = config()
    plan = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES),
                            staff_mail(SEKDES, "#tolak x"), None, cfg)
    [alert] = [o for o in plan.outgoing if o.to == ADMIN]
    text = _text(alert)
    assert "mengaku berasal dari staf Sekretaris Desa" in text
    assert "Yang perlu diperiksa:" in text and "Tanyakan kepada Sekretaris Desa" in text
    assert "tombol Balas (Reply) pada email pemberitahuan tiket" in text
    assert "signed_reply" not in text and "metode" not in text


def test_no_resident_template_calls_the_resident_anda() -> None:
    for status in Status:
        update = status_update(config(), ticket(status), siti(), "", True)
        assert "Anda" not in _text(update), status
