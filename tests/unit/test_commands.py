"""The staff command grammar over many real-world reply shapes."""

import pytest

from mailflow.core.commands import parse_staff_reply
from mailflow.core.reply_text import new_text
from mailflow.vocabulary import Priority, Status


@pytest.mark.parametrize(
    "line",
    ["#status diproses", "#STATUS DIPROSES", "#status: diproses", "#Status : Diproses",
     "# status diproses", "Status: diproses", "status : proses", "#status in progress",
     "#status in_progress", "#status tindak lanjut", "#state processing"],
)
def test_status_forms(line: str) -> None:
    reply = parse_staff_reply(line + "\nSedang kami tangani.")
    assert reply.status is Status.DIPROSES
    assert reply.errors == ()
    assert reply.message == "Sedang kami tangani."


@pytest.mark.parametrize(
    ("value", "status"),
    [("diverifikasi", Status.DIVERIFIKASI), ("verified", Status.DIVERIFIKASI),
     ("selesai", Status.SELESAI), ("done", Status.SELESAI), ("resolved", Status.SELESAI),
     ("perlu data", Status.PERLU_DATA), ("perlu_data", Status.PERLU_DATA),
     ("needs-data", Status.PERLU_DATA), ("ditolak", Status.DITOLAK), ("rejected", Status.DITOLAK)],
)
def test_status_words_in_both_languages(value: str, status: Status) -> None:
    assert parse_staff_reply(f"#status {value}").status is status


@pytest.mark.parametrize(
    ("line", "priority"),
    [("#prioritas tinggi", Priority.TINGGI), ("#priority high", Priority.TINGGI),
     ("Prioritas: darurat", Priority.DARURAT), ("#prio urgent", Priority.DARURAT),
     ("#prioritas rendah", Priority.RENDAH), ("#priority normal", Priority.SEDANG)],
)
def test_priority(line: str, priority: Priority) -> None:
    assert parse_staff_reply(line).priority is priority


def test_several_commands_then_message() -> None:
    reply = parse_staff_reply(
        "\n#status diproses\n#prioritas tinggi\n\n#petugas <Staf2@Desa.Example>\n\n"
        "Petugas akan datang besok pagi.\nTerima kasih.")
    assert (reply.status, reply.priority, reply.assignee) == (
        Status.DIPROSES, Priority.TINGGI, "staf2@desa.example")
    assert reply.message == "Petugas akan datang besok pagi.\nTerima kasih."
    assert len(reply.commands) == 3


def test_internal_note() -> None:
    reply = parse_staff_reply("#status diverifikasi\n#internal\nPelapor tetangga Pak Kadus.")
    assert reply.internal
    assert reply.message == "Pelapor tetangga Pak Kadus."


def test_reject_with_reason() -> None:
    reply = parse_staff_reply("#tolak bukan wewenang desa\nSilakan hubungi PDAM.")
    assert reply.status is Status.DITOLAK
    assert reply.reject_reason == "bukan wewenang desa"
    assert reply.message == "Silakan hubungi PDAM."


def test_reject_without_reason_is_an_error() -> None:
    reply = parse_staff_reply("#tolak")
    assert reply.status is None
    assert "alasan" in reply.errors[0].reason


def test_channel() -> None:
    assert parse_staff_reply("#kanal WA").channel == "whatsapp"
    assert parse_staff_reply("#channel phone").channel == "telepon"
    assert parse_staff_reply("#kanal merpati").errors


def test_unknown_command_and_value_are_errors() -> None:
    reply = parse_staff_reply("#statsu selesai\n#status beres\n#prioritas penting sekali")
    reasons = [e.reason for e in reply.errors]
    assert "perintah '#statsu' tidak dikenal" in reasons[0]
    assert "status 'beres' tidak dikenal" in reasons[1]
    assert "prioritas 'penting sekali' tidak dikenal" in reasons[2]


def test_conflicting_statuses_are_an_error() -> None:
    reply = parse_staff_reply("#status selesai\n#status diproses")
    assert reply.status is Status.SELESAI
    assert reply.errors[0].reason == "dua status berbeda dalam satu balasan"


def test_bad_assignee() -> None:
    assert "alamat email" in parse_staff_reply("#petugas Pak Budi").errors[0].reason


def test_plain_words_that_are_not_commands_start_the_message() -> None:
    for text in ("Catatan: jalan sudah diperbaiki.", "Tolak: jangan", "Terima kasih atas laporannya."):
        reply = parse_staff_reply(text)
        assert not reply.has_commands and not reply.internal
        assert reply.message == text


def test_commands_only_count_at_the_top() -> None:
    reply = parse_staff_reply("Sudah kami cek.\n#status selesai")
    assert reply.status is None
    assert reply.message == "Sudah kami cek.\n#status selesai"


def test_hashtag_in_message_after_commands_is_text() -> None:
    reply = parse_staff_reply("#status selesai\nSudah diperbaiki #gotongroyong")
    assert reply.message == "Sudah diperbaiki #gotongroyong"


def test_gmail_reply_with_commands_and_quote() -> None:
    body = ("#status selesai\r\n\r\nJalan sudah ditambal kemarin sore.\r\n\r\n"
            "Pada Sen, 30 Nov 2026 pukul 09.15 Layanan Pengaduan <pengaduan@klero.desa.id>\r\n"
            "menulis:\r\n\r\n> [ADU-2026-00042] Tiket baru\r\n> Uraian: jalan berlubang\r\n")
    reply = parse_staff_reply(new_text(body))
    assert reply.status is Status.SELESAI
    assert reply.message == "Jalan sudah ditambal kemarin sore."


def test_outlook_reply_with_signature() -> None:
    body = ("#prioritas tinggi\n#internal\nPerlu dicek bersama Kadus.\n\n-- \nStaf Pelayanan\n"
            "________________________________\nDari: Layanan Pengaduan\nDikirim: Senin\nKepada: staf\n")
    reply = parse_staff_reply(new_text(body))
    assert reply.priority is Priority.TINGGI and reply.internal
    assert reply.message == "Perlu dicek bersama Kadus."


def test_empty_reply() -> None:
    reply = parse_staff_reply("")
    assert not reply.has_commands and reply.message == "" and reply.errors == ()
