"""What a complaint still lacks decides its first status."""

from mailflow.core.identity import Identity
from mailflow.core.tickets import assess, format_number
from mailflow.vocabulary import Missing, Status

CLEAR = "Jalan di depan balai dusun berlubang besar dan membahayakan pengendara motor."


def test_complete_complaint_is_received() -> None:
    verdict = assess(Identity(name="Siti", nik="3322114506890002"), CLEAR)
    assert verdict.missing == ()
    assert verdict.status is Status.DITERIMA


def test_missing_items_are_listed_in_order() -> None:
    verdict = assess(Identity(), "jalan rusak")
    assert verdict.missing == (Missing.NAME, Missing.NIK, Missing.DESCRIPTION)
    assert verdict.status is Status.PERLU_DATA


def test_invalid_nik_counts_as_missing_with_its_problem() -> None:
    identity = Identity(name="Siti", nik="332211450689", nik_problem="NIK harus 16 digit angka")
    verdict = assess(identity, CLEAR)
    assert verdict.missing == (Missing.NIK,)
    assert verdict.nik_problem == "NIK harus 16 digit angka"


def test_number_format() -> None:
    assert format_number("ADU", 2026, 42) == "ADU-2026-00042"
    assert format_number("ADU", 2026, 123456) == "ADU-2026-123456"
