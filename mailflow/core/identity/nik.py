"""What a NIK (the 16-digit national identity number) can be, and where one hides in text.

A complaint without a plausible NIK goes to `perlu_data` and the resident is told why,
so the checks run at intake and answer in Indonesian. The unlabelled-NIK shape lives
here too: extraction looks for it, and mailflow.core.privacy hides it from staff who
must not see identity.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

__all__ = ["NIK_ANYWHERE", "NIK_LENGTH", "NON_DIGIT", "nik_anywhere", "nik_problem"]

# Province codes (the first two digits of a NIK) as Dukcapil/Kemendagri assigns them.
# The Papua provinces formed in 2022 are 93 Papua Selatan, 94 Papua Tengah,
# 95 Papua Pegunungan and 96 Papua Barat Daya; 91 Papua and 92 Papua Barat stay.
# (BPS numbers the same provinces differently, e.g. 97 Papua Pegunungan; NIKs never do.)
_PROVINCES: Final = frozenset({
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21,
    31, 32, 33, 34, 35, 36,
    51, 52, 53,
    61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76,
    81, 82,
    91, 92, 93, 94, 95, 96,
})

NIK_LENGTH: Final = 16

# Sixteen digits in any grouping: 3322011203850001, 3322 0112 0385 0001, 33.22.01.120385.0001.
NIK_ANYWHERE = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9]){15}(?![0-9])")
NON_DIGIT = re.compile(r"[^0-9]")
_KK_CONTEXT = re.compile(r"\bkk\b|kartu\s+keluarga", re.IGNORECASE)
_NIK_CONTEXT = re.compile(r"\bnik\b|ktp|kependudukan", re.IGNORECASE)


def nik_problem(nik: str) -> str | None:
    """Why a NIK cannot be right, in words a resident understands; None when plausible.

    The checks catch typos and made-up numbers before a verifier spends time on them;
    passing them does not prove the NIK exists (only Dukcapil can say that).
    """
    if len(nik) != NIK_LENGTH or not (nik.isascii() and nik.isdigit()):
        return "NIK harus 16 digit angka"
    if int(nik[:2]) not in _PROVINCES:
        return "kode wilayah pada NIK tidak dikenal"
    if nik[2:4] == "00" or nik[4:6] == "00":
        return "kode kabupaten/kecamatan pada NIK tidak valid"
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40  # women: the day of birth plus 40
    if not any(_is_date(century + year, month, day) for century in (1900, 2000)):
        return "tanggal lahir pada NIK tidak valid"
    if nik[12:] == "0000":
        return "nomor urut pada NIK tidak valid"
    return None


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def nik_anywhere(text: str, exclude: set[str]) -> str | None:
    """A NIK written without a label: the first plausible one, else the first candidate.

    A Kartu Keluarga number has the same shape as a NIK, so numbers labelled or
    introduced as KK are skipped.
    """
    first: str | None = None
    for match in NIK_ANYWHERE.finditer(text):
        digits = NON_DIGIT.sub("", match.group())
        if digits in exclude or _introduced_as_kk(text, match.start()):
            continue
        if nik_problem(digits) is None:
            return digits
        if first is None:
            first = digits
    return first


def _introduced_as_kk(text: str, start: int) -> bool:
    before = text[max(0, start - 30):start]
    kk = [m.end() for m in _KK_CONTEXT.finditer(before)]
    nik = [m.end() for m in _NIK_CONTEXT.finditer(before)]
    return bool(kk) and (not nik or kk[-1] > nik[-1])

