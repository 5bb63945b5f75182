"""Auto-replies recognised by their words, and complaints that merely use the same words.

A robot that sends no RFC 3834 header is recognised by what it says; a resident who writes
"cuti" or "kantor" is not a robot. Both lists below are realistic mail, English and
Indonesian; the end-to-end tests (tests/e2e/test_attack_storms.py) run a few of them through
Dovecot.
"""

from __future__ import annotations

import pytest

from mailflow.core.intake_rules import Kind, classify
from mailflow.core.parse import parse_message
from tests.harness.autoreplies import COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR, ROBOT_TEXT

PHRASES = ["Pengaduan Masyarakat"]
NEUTRAL = "Jalan di depan balai dusun berlubang besar sejak bulan lalu."


def _classify(subject: str, body: str = NEUTRAL):
    raw = (f"From: siti@warga.example\r\nTo: pengaduan@klero.desa.id\r\nSubject: {subject}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n"))
    return classify(parse_message(raw.encode()), PHRASES, "ADU", {"pengaduan@klero.desa.id"})


@pytest.mark.parametrize("subject", [
    "Re: Pengaduan Masyarakat - I am out of office",
    "Out of Office: Pengaduan Masyarakat",
    "Out-of-office Re: Pengaduan Masyarakat",
    "Automatic reply: Pengaduan Masyarakat",
    "Re: Pengaduan Masyarakat [Auto Reply]",
    "Autoreply: Pengaduan Masyarakat",
    "Auto-Reply: Re: Pengaduan Masyarakat",
    "Auto Response: Pengaduan Masyarakat",
    "Balasan otomatis: Pengaduan Masyarakat",
    "Re: Pengaduan Masyarakat (Balasan Otomatis)",
    "Jawaban otomatis - Pengaduan Masyarakat",
])
def test_robot_subjects_are_auto_replies_whatever_the_text(subject: str) -> None:
    decision = _classify(subject)
    assert decision.kind is Kind.IGNORE
    assert decision.reason.startswith("auto-reply wording in subject")


@pytest.mark.parametrize("body", [
    "This is an automatic reply. Your message has been received.",
    "Hello,\nI am out of the office until 7 December with limited access to email.",
    "I'm currently on annual leave and will reply when I am back on Monday.",
    "Thank you for your email. I am on leave until 7 December.",
    "Ini adalah balasan otomatis.\nPesan Anda akan segera kami tanggapi.",
    "Email ini merupakan balasan otomatis, mohon tidak dibalas.",
    "Saya sedang cuti sampai 7 Desember 2026. Email Anda akan saya balas setelah saya kembali.",
    "Yth. Bapak/Ibu,\nSaya sedang tidak di kantor hingga Senin. Untuk keperluan mendesak "
    "silakan hubungi staf kami.",
    "Mohon maaf, saya sedang dinas luar dan belum dapat membalas email Anda.",
    "Terima kasih atas email Anda.\nSaya sedang tidak di kantor hingga Senin, 7 Desember 2026.",
    "Terima kasih atas email Anda. Pesan Anda akan segera kami proses.",
])
def test_robot_texts_are_auto_replies_under_a_plain_subject(body: str) -> None:
    decision = _classify("Re: Pengaduan Masyarakat", body)
    assert decision.kind is Kind.IGNORE, body
    assert decision.reason.startswith("auto-reply wording in text")


@pytest.mark.parametrize(("subject", "body"), [
    ("Pengaduan Masyarakat - Sedang cuti", "Saya sedang cuti sampai 7 Desember 2026."),
    ("Di luar kantor: Pengaduan Masyarakat", "Kami sedang di luar kantor."),
    ("Re: Pengaduan Masyarakat - Tidak di kantor", "Saya tidak di kantor minggu ini."),
])
def test_an_absence_in_subject_and_text_together_is_an_auto_reply(subject: str, body: str) -> None:
    decision = _classify(subject, body)
    assert decision.kind is Kind.IGNORE
    assert decision.reason == "auto-reply wording in subject and text: absence"


@pytest.mark.parametrize(("subject", "body"), [
    *COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR,
    ("Pengaduan Masyarakat - Sedang cuti", "Petugas pelayanan sedang cuti dua minggu, surat "
     "pengantar SKCK tidak bisa diurus. Nama: Budi Santoso"),
    ("Pengaduan Masyarakat - Tidak di kantor", "Pak Kadus tidak di kantor setiap Jumat, warga "
     "yang mau minta tanda tangan harus ke rumahnya."),
    ("Pengaduan Masyarakat", "Saya sedang cuti melahirkan sampai bulan depan dan perlu surat "
     "keterangan dari desa, tetapi kantor desa selalu tutup jam 12."),
    ("Pengaduan Masyarakat", "Saya sedang cuti kerja minggu ini dan melihat sampah menumpuk hingga "
     "ke jalan di RT 03."),
    ("Pengaduan Masyarakat", "Terima kasih atas email Anda minggu lalu. Sampai sekarang lampu jalan "
     "di gang Melati belum diperbaiki."),
    ("Pengaduan Masyarakat", "Kantor desa tidak membalas pesan WhatsApp saya tentang bantuan "
     "sosial yang belum cair."),
    ("Pengaduan Masyarakat: pegawai di luar kantor saat jam kerja", "Pegawai desa sering di luar "
     "kantor saat jam kerja, antrean surat menumpuk."),
    ("Pengaduan Masyarakat", ROBOT_TEXT),  # the e2e test's robot is one no rule knows
])
def test_complaints_that_share_the_words_are_complaints(subject: str, body: str) -> None:
    decision = _classify(subject, body)
    assert decision.kind is Kind.NEW, (subject, body, decision)


def test_a_reply_to_a_ticket_may_say_it_is_on_leave() -> None:
    body = "Saya sedang cuti sampai 7 Desember, nanti akan saya balas dengan foto tambahan."
    decision = _classify("Re: [ADU-2026-00042] Status pengaduan: Diterima", body)
    assert decision.kind is Kind.REPLY


def test_only_the_first_lines_are_read() -> None:
    body = "\n".join(f"Baris {n} uraian jalan rusak." for n in range(10)) + (
        "\nSaya sedang cuti sampai 7 Desember. Email Anda akan saya balas setelah saya kembali.")
    assert _classify("Pengaduan Masyarakat", body).kind is Kind.NEW
