"""`mailflow trace`'s pure parts: the sender's digest, reasons in plain words, the day filter."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from mailflow.cli.trace import _day, trace_table
from mailflow.core.intake_trace import (
    SKIPPED,
    decision_words,
    normal_message_id,
    reason_words,
    sender_digest,
)
from mailflow.vocabulary import IntakeOutcome

KEY = b"k" * 32


def test_the_digest_is_keyed_case_insensitive_and_names_no_one() -> None:
    digest = sender_digest("Siti@Warga.example ", KEY)
    assert digest == sender_digest("siti@warga.example", KEY)
    assert digest != sender_digest("siti@warga.example", b"x" * 32)
    assert digest is not None and len(digest) == 64 and "siti" not in digest
    assert sender_digest(None, KEY) is None and sender_digest("a@b", b"") is None


def test_message_ids_are_compared_as_stored() -> None:
    assert normal_message_id(" abc@mail.example ") == "<abc@mail.example>"
    assert normal_message_id("<abc@mail.example>") == "<abc@mail.example>"


def test_every_decision_and_reason_reads_in_plain_words() -> None:
    assert decision_words(SKIPPED) == "dilewati (bukan pengaduan)"
    for outcome in IntakeOutcome:
        assert decision_words(outcome.value) == outcome.label
    assert reason_words("ticket", "subject matches") == "subjek memuat kata kunci pengaduan"
    assert reason_words("ignored", "answers mail of village TGL, sent to this village's "
                        "mailbox: not a complaint here") == (
        "membalas email desa lain (TGL) yang terkirim ke kotak surat desa ini: bukan pengaduan "
        "untuk desa ini")
    assert reason_words("duplicate", "repeat of ADU-2026-00003: same sender, subject and text "
                        "within 24 h (a resend or a mail loop)") == (
        "pengulangan ADU-2026-00003: pengirim, subjek dan isi sama dalam 24 jam")


def test_a_quarantine_reason_never_quotes_the_message() -> None:
    said = reason_words("quarantined", "ValueError: bad NIK 3322114506890002 of Siti Aminah")
    assert said == "tidak dapat dibaca (ValueError); disimpan di karantina"
    big = reason_words("quarantined", "message too large (50000000 bytes > 41943040)")
    assert big == "pesan terlalu besar (50000000 byte): baca di webmail"


def test_a_day_is_the_villages_day() -> None:
    wib = ZoneInfo("Asia/Jakarta")
    start, end = _day("2026-11-21", wib)  # type: ignore[misc]
    assert start.astimezone(UTC) == datetime(2026, 11, 20, 17, tzinfo=UTC)
    assert (end - start).days == 1
    assert _day("2026-02-30", wib) == "--date '2026-02-30': no such date"
    assert "is not YYYY-MM-DD" in str(_day("27/11/2026", wib))


def test_nothing_found_says_why_old_mail_may_be_missing() -> None:
    assert trace_table([], searched_by_sender_or_id=False) == ["Tidak ada email yang cocok."]
    assert "--date" in trace_table([], searched_by_sender_or_id=True)[1]
