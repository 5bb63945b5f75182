"""The Bahasa Indonesia residents and staff read (newcomer account, item 12), rendered from the
real templates: "Bapak/Ibu" as the pronoun, an explicit deadline, no deadline on a closed
complaint, automatic texts not signed by an officer, a status answer that is not a change."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

from mailflow.compose.render import Renderer, default_templates_dir
from mailflow.config import Config
from mailflow.core.box_opening import (
    NOT_IN_TEAM,
    box_reminder,
    nothing_recorded,
    opening_reply,
    refused_opening,
)
from mailflow.core.clock_mail import digest_mail, escalation_mail, reminder_mail
from mailflow.core.login_notice import login_refused_notice
from mailflow.core.mail_limits import Attempt, alert_digest, limit_notice
from mailflow.core.new_ticket import plan_refused_recording
from mailflow.core.notices import (
    Outgoing,
    acknowledgement,
    new_ticket_notices,
    status_update,
    ticket_notice,
)
from mailflow.core.parked import ParkedMail, parked_note
from mailflow.core.promise import Targets, Timeline
from mailflow.core.public_page import page_data
from mailflow.core.reminders import Digest, DigestLine, Escalation, Redacted, Reminder
from mailflow.core.replies import plan_resident_reply, plan_staff_reply
from mailflow.core.report import Month, ReportTicket, month_report
from mailflow.core.report_text import report_mail
from mailflow.core.workdays import calendar_from
from mailflow.vocabulary import Channel, EntryKind, Missing, OutboxKind, Priority, Status
from tests.unit.plan_support import (
    ADMIN,
    KADES,
    KASI,
    NUMBER,
    SEKDES,
    SITI,
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


# -- every text residents and staff read, in one voice ----------------------------------------
#
# One sample of every mail the core writes (and the public page), rendered from the real
# templates; the rules below hold for all of them, so a new text that breaks them fails here.

RESIDENT_KINDS = (OutboxKind.ACK, OutboxKind.STATUS)
# Words a reader should never meet outside a `#command` line they type: English, code values,
# configuration keys, and the phrases the review replaced.
FORBIDDEN = re.compile(
    r"\bAnda\b|Batas jawaban|\baduan\b|\bnotifikasi\b|\bsigned_reply\b|\boutbox\b|\buid\b|"
    r"\bauthserv\b|\bticket\b|\breporter\b|\bstaff\b|\bstatus request\b|\bbytes\b|\bNone\b|"
    r"\bTrue\b|\bFalse\b|\bnull\b|\bmissing\b|\bunknown\b|\bTelat\b|\bsurat keluar\b")
# A word_with_underscores is a code value or configuration key (perlu_data, kepala_desa, ...).
CODE_WORD = re.compile(r"\b[a-z]+_[a-z_]+\b")
# KBBI spelling: these are written apart ("di atas"), these verbs joined ("diterima").
SPACING = re.compile(r"\bdi(atas|bawah|dalam|luar|sini|sana|antara)\b|"
                     r"\bdi (terima|proses|catat|kirim|tolak|verifikasi|tindaklanjuti|tutup|"
                     r"tanggapi|tunjuk|ubah|jalankan|lampirkan)\b")
MONTH_IN_LOWER_CASE = re.compile(r"\b\d{1,2} (januari|februari|maret|april|mei|juni|juli|agustus|"
                                 r"september|oktober|november|desember)\b")
PROMISE_LINE = re.compile(r"Batas waktu tanggapan\s*:?\s*(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), "
                          r"\d{1,2} [A-Z][a-z]+ \d{4}\s+\u2014 7 hari kerja sejak\s+(pengaduan\s+"
                          r"diterima|pengaduan\s+dicatat|data\s+lengkap\s+kami\s+terima)")


def _prose(text: str) -> str:
    """The text without what the reader types: `#command` lines and `mailflow ...` commands."""
    lines = [line for line in text.splitlines() if "#" not in line]
    return re.sub(r"`[^`]*`|\bmailflow [a-z-]+[^\n]*", " ", "\n".join(lines))


def _visible(html: str) -> str:
    """What a reader sees of an HTML part: no tags, no style or script."""
    html = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _resident_samples(cfg: Config) -> list[Outgoing]:
    late = datetime(2026, 11, 30, 9, tzinfo=UTC)
    found = [
        acknowledgement(cfg, ticket(), siti(), None, None, (), SITI),
        acknowledgement(cfg, waiting_for(Missing.NIK, Missing.NAME), siti(name=None, nik=None),
                        "NIK harus 16 digit", None, (), SITI),
        acknowledgement(cfg, ticket(), siti(), None, None, (), SITI, recorded=late),
        _resident_mail("#status diproses\nPetugas datang besok."),
        _resident_mail("#status selesai\nJalan sudah ditambal.", now=CLOSED),
        _resident_mail("#tolak bukan wewenang desa\nSilakan ke kecamatan.", ticket(), now=CLOSED),
        _resident_mail("Mohon kirimkan foto lokasinya."),
        *plan_resident_reply(ticket(Status.DIVERIFIKASI), siti(), resident_mail("status"), cfg,
                             "signed_reply").outgoing,
        *plan_resident_reply(waiting_for(Missing.NIK), siti(nik=None),
                             resident_mail(f"NIK: {SITI_NIK}"), cfg, "signed_reply").outgoing,
    ]
    found += [status_update(cfg, ticket(s), siti(), "", True, closed_at=CLOSED) for s in Status]
    return [item for item in found if item.kind in RESIDENT_KINDS]


def _staff_samples(cfg: Config) -> list[Outgoing]:
    sekdes, kasi = member(cfg, SEKDES), member(cfg, KASI)
    found = [*new_ticket_notices(cfg, ticket(priority=Priority.DARURAT, priority_set_by="system",
                                                priority_reason="banjir"), siti(), []),
             ticket_notice(cfg, kasi, ticket(), siti(), [], "ditindaklanjuti")]
    for body, proof in (("#status diverifikasi\n#petugas " + KASI, "signed_reply"),
                        ("#status terbang", "signed_reply"), ("#tolak x", None)):
        found += plan_staff_reply(ticket(), siti(), sekdes, staff_mail(SEKDES, body), proof,
                                  cfg).outgoing
    found += plan_resident_reply(ticket(), siti(), resident_mail("Ada kabar?"), cfg,
                                 None).outgoing
    found += plan_refused_recording(staff_mail(KASI, "#kanal telepon"), kasi, cfg, "tanpa DKIM"
                                    ).outgoing
    found += [opening_reply(cfg, kasi, [("ADU-2026-00002", EntryKind.SARAN)], None,
                            unknown_files=["a.jpg"], dropped=2),
              nothing_recorded(cfg, kasi, None, NOT_IN_TEAM),
              *refused_opening(cfg, kasi, "<x@y>", "tanpa DKIM"),
              box_reminder(cfg, kasi, "Senin, 23 November 2026")]
    found += [n for n in (login_refused_notice(cfg, "imap", CLOSED),
                          login_refused_notice(cfg, "smtp", CLOSED)) if n is not None]
    found += [parked_note(cfg, ADMIN, [ParkedMail(OutboxKind.ACK, NUMBER, SITI, CLOSED,
                                                  "(550, 'mailbox full')")]),
              limit_notice(cfg, sekdes, SITI, "20 dalam 1 jam", NUMBER),
              alert_digest(cfg, ADMIN, [Attempt(NUMBER, CLOSED, "<x@y>", "unauthenticated"),
                                        Attempt(None, CLOSED, None, "phone")])]
    # A staff reply also tells the resident: that mail is a resident's, checked above.
    return [item for item in found + _clock_samples(cfg) if item.kind not in RESIDENT_KINDS]


def _clock_samples(cfg: Config) -> list[Outgoing]:
    calendar = calendar_from(7, "Asia/Jakarta")
    due = date(2026, 12, 8)
    subject = Redacted("Jalan berlubang")
    lines = (DigestLine(NUMBER, Status.DIPROSES, Priority.TINGGI, due, 2, False, True, subject),
             DigestLine("ADU-2026-00002", Status.PERLU_DATA, Priority.SEDANG, due, 0, True,
                        False, None))
    tickets = [ReportTicket(NUMBER, Channel.EMAIL, Priority.SEDANG, CLOSED - timedelta(days=20),
                            Timeline(NUMBER, CLOSED - timedelta(days=20), Status.DITERIMA,
                                     Priority.SEDANG, ()))]
    report = month_report(tickets, Month(2026, 11), calendar, Targets(7), CLOSED, openings=1)
    return [
        reminder_mail(cfg, calendar, Reminder("k", NUMBER, (KASI,), due, 2, Priority.TINGGI,
                                              Status.DIPROSES), KASI, subject, CLOSED),
        reminder_mail(cfg, calendar, Reminder("k", NUMBER, (SEKDES,), date(2026, 12, 4), 0,
                                              Priority.DARURAT, Status.DITERIMA), SEKDES, None,
                      CLOSED),
        escalation_mail(cfg, Escalation("k", NUMBER, (KADES,), due, 3, Priority.TINGGI,
                                        Status.DIPROSES, None), KADES, subject),
        digest_mail(cfg, Digest("k", KADES, date(2026, 12, 4), lines), {}),
        report_mail(report, KADES, "Yth. Kepala Desa,", "Desa Klero", "Asia/Jakarta"),
    ]


def _rendered(items: list[Outgoing]) -> list[tuple[Outgoing, str, str]]:
    renderer = Renderer()
    return [(item, *renderer.render(item.template, item.context)) for item in items]


def test_the_samples_cover_every_mail_template() -> None:
    cfg = config()
    used = {item.template for item in _resident_samples(cfg) + _staff_samples(cfg)}
    on_disk = {path.name.removesuffix(".txt.j2")
               for path in default_templates_dir().glob("*.txt.j2")}
    assert used == on_disk


def test_no_text_says_anda_or_uses_code_words_or_misspells() -> None:
    cfg = config()
    for item, text, html in _rendered(_resident_samples(cfg) + _staff_samples(cfg)):
        for part in (item.subject, _prose(text), _prose(_visible(html))):
            where = f"{item.template} to {item.to}: {item.subject}"
            assert not FORBIDDEN.findall(part), (where, FORBIDDEN.findall(part))
            assert not SPACING.search(part), where
            assert not MONTH_IN_LOWER_CASE.search(part), where
            if item.to != ADMIN:  # the administrator is told which configuration key to fix
                assert not CODE_WORD.findall(part), (where, CODE_WORD.findall(part))


def test_resident_mail_addresses_bapak_ibu_states_the_promise_and_signs_for_the_village() -> None:
    for item, text, html in _rendered(_resident_samples(config())):
        assert text.startswith("Yth. Bapak/Ibu"), item.subject
        assert "Hormat kami,\nPemerintah Desa Klero\n" in text, item.subject
        assert "Hormat kami,<br>Pemerintah Desa Klero" in html, item.subject
        if item.context.get("final"):
            assert "Batas waktu" not in text and "Batas waktu" not in html, item.subject
        elif item.context.get("paused") or item.context.get("missing"):
            # Waiting for the reporter's data pauses the clock: no date is promised yet.
            assert "batas waktu tanggapan belum berjalan" in text, item.subject
            assert not PROMISE_LINE.search(text) and not PROMISE_LINE.search(_visible(html))
        else:
            assert PROMISE_LINE.search(text), (item.subject, text)
            assert PROMISE_LINE.search(_visible(html)), item.subject


def test_staff_mail_greets_by_name_and_closes_as_the_service() -> None:
    for item, text, html in _rendered(_staff_samples(config())):
        assert text.startswith("Yth. "), item.subject
        assert text.rstrip().endswith("--\nLayanan pengaduan Desa Klero"), item.subject
        assert "Layanan pengaduan Desa Klero" in html, item.subject
        assert "Hormat kami" not in text, item.subject


def test_the_public_page_speaks_the_same_words() -> None:
    from mailflow.compose.public_site import PublicSite
    from tests.unit.test_public_page import CAL, NOW, TICKETS
    files = PublicSite().files(page_data(TICKETS, CAL, NOW, village="Desa Klero", min_count=3))
    pages = [_visible(body.decode()) for name, body in files.items() if name.endswith(".html")]
    assert len(pages) > 3
    for page in pages:
        assert not FORBIDDEN.findall(page), FORBIDDEN.findall(page)
        assert not CODE_WORD.findall(page), CODE_WORD.findall(page)
        assert not SPACING.search(page) and not MONTH_IN_LOWER_CASE.search(page)
    assert "7 hari kerja sejak pengaduan diterima" in pages[-1]
