"""The reporter's identity from free Indonesian text: name, NIK, phone, address.

Residents write "Nama: ...", "NIK ...", "Alamat ...", "No. HP/WA ..." in many forms.
Labelled lines are trusted; a NIK or phone number without a label is still found
anywhere in the text, but a name never is: a wrong name is worse than none. All
patterns are linear (no nested quantifiers) so hostile input cannot stall intake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

# Province codes (kode wilayah, first two digits of a NIK), including the Papua provinces
# created in 2022 (95 Papua Selatan, 96 Papua Tengah, 97 Papua Pegunungan, 92 Papua Barat Daya).
_PROVINCES = frozenset({
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53,
    61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 94, 95, 96, 97,
})

_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("nama lengkap", "nama pelapor", "nama"),
    "nik": ("nomor induk kependudukan", "no. ktp", "no ktp", "nomor ktp", "nik"),
    "address": ("alamat lengkap", "alamat rumah", "alamat", "domisili"),
    "phone": ("no. hp/wa", "no hp/wa", "hp/wa", "no. whatsapp", "nomor whatsapp", "whatsapp",
              "nomor hp", "no. hp", "no hp", "no. telp", "no telp", "nomor telepon", "no. telepon",
              "telepon", "telp", "no. wa", "no wa", "nomor wa", "wa", "hp"),
}

_LABEL_ALTERNATION = "|".join(
    re.escape(label) for label in sorted((lab for labs in _LABELS.values() for lab in labs),
                                         key=len, reverse=True)
)
# A labelled line: optional bullet or markdown emphasis, the label, a separator, the value.
_LABELLED = re.compile(
    rf"^[ \t>*\-•·\d.)]*\**(?P<label>{_LABEL_ALTERNATION})\**[ \t]*(?:[:=\-\u2013][ \t]*|[ \t]+)"
    rf"\**[ \t]*(?P<value>[^\n]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_NIK_ANYWHERE = re.compile(r"(?<![\d])(\d{4}[ .\-]?\d{4}[ .\-]?\d{4}[ .\-]?\d{4})(?![\d])")
_PHONE_ANYWHERE = re.compile(r"(?<![\d+])((?:\+62|62|0)[ .\-]?8\d{1,3}(?:[ .\-]?\d{2,5}){1,4})(?![\d])")
_NON_DIGIT = re.compile(r"\D")
_MAX_LINE = 500


@dataclass(frozen=True)
class Identity:
    name: str | None = None
    nik: str | None = None
    nik_problem: str | None = None
    phone: str | None = None
    address: str | None = None
    email: str | None = None

    @property
    def nik_valid(self) -> bool:
        return self.nik is not None and self.nik_problem is None


@dataclass(frozen=True)
class Extraction:
    identity: Identity
    description: str


def nik_problem(nik: str) -> str | None:
    """Why a NIK cannot be right, in words a resident understands; None when plausible."""
    if len(nik) != 16 or not nik.isdigit():
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


def normalise_phone(raw: str) -> str | None:
    """Any Indonesian way of writing a number -> E.164 (+62...), or None."""
    candidate = raw.strip()[:40]
    digits = _NON_DIGIT.sub("", candidate)
    if not digits:
        return None
    if candidate.startswith("62") or (digits.startswith("62") and not candidate.startswith("0")):
        candidate = "+" + digits
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 62 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _kind(label: str) -> str:
    folded = label.lower()
    return next(kind for kind, labels in _LABELS.items() if folded in labels)


def _clean_value(value: str) -> str:
    return value.strip().strip("*").strip().rstrip(".,;").strip()[:_MAX_LINE]


def extract_identity(text: str) -> Extraction:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    found: dict[str, str] = {}
    identity_lines: set[int] = set()
    lines = text.split("\n")
    for number, line in enumerate(lines):
        match = _LABELLED.match(line[:2000])
        if match is None:
            continue
        kind, value = _kind(match.group("label")), _clean_value(match.group("value"))
        identity_lines.add(number)
        if value and kind not in found:
            found[kind] = value
    nik, problem = _nik(found.get("nik"), text)
    phone = _phone(found.get("phone"), text)
    description = "\n".join(line for n, line in enumerate(lines) if n not in identity_lines)
    description = re.sub(r"\n{3,}", "\n\n", redact(description)).strip()
    identity = Identity(
        name=_name(found.get("name")), nik=nik, nik_problem=problem, phone=phone,
        address=found.get("address") or None,
    )
    return Extraction(identity, description)


def redact(text: str) -> str:
    """Hide NIKs and phone numbers written inside the complaint text itself.

    The description is what follow-up officers read; identity must stay with the
    verifier even when a resident writes it mid-sentence.
    """
    text = _NIK_ANYWHERE.sub("[NIK disembunyikan]", text)
    return _PHONE_ANYWHERE.sub("[nomor disembunyikan]", text)


def scrub(text: str, identity: Identity) -> str:
    """Text safe for staff who may not see identity: numbers hidden, known values replaced.

    Residents sometimes put their name or address in the subject or mid-sentence; those
    exact strings are replaced wherever they occur.
    """
    text = redact(text)
    for value, label in ((identity.name, "[nama disembunyikan]"),
                         (identity.address, "[alamat disembunyikan]"),
                         (identity.email, "[email disembunyikan]")):
        if value and len(value) >= 3:
            text = re.sub(re.escape(value), label, text, flags=re.IGNORECASE)
    return text


def _name(value: str | None) -> str | None:
    if not value:
        return None
    name = re.sub(r"[^\w .,'\-]", "", value).strip(" .,-'")
    return name if any(ch.isalpha() for ch in name) else None


def _nik(labelled: str | None, text: str) -> tuple[str | None, str | None]:
    if labelled:
        digits = _NON_DIGIT.sub("", labelled)
        if digits:
            return digits, nik_problem(digits)
    for match in _NIK_ANYWHERE.finditer(text):
        digits = _NON_DIGIT.sub("", match.group(1))
        return digits, nik_problem(digits)
    return None, None


def _phone(labelled: str | None, text: str) -> str | None:
    if labelled:
        phone = normalise_phone(labelled)
        if phone:
            return phone
    for match in _PHONE_ANYWHERE.finditer(text):
        phone = normalise_phone(match.group(1))
        if phone:
            return phone
    return None
