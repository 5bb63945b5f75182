"""The reporter's identity from free Indonesian text: name, NIK, phone, address.

Residents write "Nama: ...", "NIK ...", "Alamat ...", "No. HP/WA ..." in many forms.
Labelled lines are trusted; a NIK or phone number without a label is still found
anywhere in the text. A name or address without a label is taken only where residents
introduce themselves ("Nama saya ...", "Saya Sri Lestari warga RT 02", "Perkenalkan,
saya ...") or sign ("Hormat saya," / a name / an address line), and only when it looks
like one (see `prose`): a wrong name is worse than none, but asking again for a name
the resident already gave tells them nobody read their mail.
A label followed only by a space ("NIK 3322...") counts only when the value looks like
that field, so a complaint sentence that happens to start with "Alamat" or "HP" stays
in the description.

Hostile input must not stall intake: every pattern is linear (no nested unbounded
quantifiers), labels are looked for in the first few hundred characters of a line only,
and values are cut to a bounded length before they are examined.

This module reads the labelled lines; `prose` reads sentences and signatures, `nik` and
`phone` judge and normalise the numbers and find unlabelled ones, `shapes` finds every
number and address in any grouping, `model` holds the result types. Hiding identity from
staff who must not see it is mailflow.core.privacy's work, description included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from mailflow.core.identity.model import VALUE_WINDOW, Extraction, Identity
from mailflow.core.identity.nik import NIK_LENGTH, NON_DIGIT, nik_anywhere, nik_problem
from mailflow.core.identity.phone import PHONE_RUN, e164, normalise_phone, phone_anywhere
from mailflow.core.identity.prose import prose_address, prose_name, signature
from mailflow.core.identity.shapes import phone_in_runs, redact_numbers

__all__ = [
    "NIK_LENGTH",
    "Extraction",
    "Identity",
    "extract_identity",
    "form_lines",
    "nik_problem",
    "normalise_phone",
]

_HEAD_WINDOW: Final = 200  # a label must start within this many characters of a line
_MAX_NAME: Final = 80
_MAX_ADDRESS: Final = 300
_MAX_BARE_ADDRESS: Final = 150
_MAX_NUMBER_DIGITS: Final = 20  # a "NIK" with more digits is not one mistyped, it is garbage
_MAX_FIELDS_PER_LINE: Final = 8

_W = r"[ \t]+"
_NO = r"(?:nomor|nomer|nmr|no)\.?[ \t]*"
# One named group per kind of field; "kk" (Kartu Keluarga) is recognised only so that its
# number, which looks exactly like a NIK, is never taken for one.
_KINDS = "|".join((
    rf"(?P<name>nama(?:{_W}(?:lengkap|pelapor|pengadu|saya))*)",
    rf"(?P<nik>(?:nomor{_W}induk{_W}kependudukan|(?:{_NO})?(?:nik|e-?ktp|ktp))(?:{_W}saya)?)",
    rf"(?P<kk>(?:{_NO})?(?:kk|kartu{_W}keluarga)(?:{_W}saya)?)",
    rf"(?P<address>alamat(?:{_W}(?:lengkap|rumah|pelapor|tinggal|domisili|sekarang|saya|ktp))*"
    rf"(?:{_W}di)?|domisili|tempat{_W}tinggal)",
    rf"(?P<phone>(?:{_NO})?(?:handphone|hp|ponsel|telepon|telpon|telp|tlp|whatsapp|wa|kontak)"
    rf"(?:{_W}(?:aktif|pelapor|saya|(?:yang|yg){_W}(?:bisa|dapat){_W}dihubungi))*)",
))
# "/WA" in "No. HP/WA", "(sesuai KTP)" in "NIK (sesuai KTP)"; never digits, which are a value.
_QUALIFIERS = (
    r"(?:[ \t]*/[ \t]*(?:no\.?[ \t]*)?"
    r"(?:hp|wa|whatsapp|telp|telepon|sms|ktp|e-ktp|nik|kk|alamat|domisili)(?!\w)\.?"
    r"|[ \t]*\([^()\n0-9]{0,40}\))*"
)
_LABEL = rf"(?:{_KINDS})(?!\w)\.?{_QUALIFIERS}"
# Quote marks, a bullet or list number, markdown emphasis, then the label.
_BULLETS = "-*+\u2022\u00b7\u25cf\u25aa\u25e6\u2013\u2014"
_HEAD = re.compile(
    rf"[ \t>]{{0,40}}(?:(?:[{_BULLETS}]|(?:[0-9]{{1,2}}|[a-zA-Z])[.)])[ \t]{{0,10}})?[*_ \t]{{0,6}}"
    + _LABEL,
    re.IGNORECASE,
)
# A further label inside a value ("Nama: Budi, NIK: 3322..."): only with ":" or "=", so
# that ordinary words in an address are never taken for one.
_NEXT_LABEL = re.compile(
    rf"(?<![^\s,;|])[*_]{{0,2}}{_LABEL}[ \t]*(?:[*_]+[ \t]*)?[:=\uff1a]", re.IGNORECASE
)
_DIGIT_RUN = re.compile(r"[0-9](?:[ .\-]?[0-9])*")
_TRAILER = re.compile(r"[ \t.,;]*(?:\([^()\n]{0,40}\)[ \t.,;]*)?")
_WORD = re.compile(r"[^\W_]+")

_EXPLICIT_SEPARATORS: Final = ":=\uff1a"
_DASHES: Final = "-\u2013\u2014"
_NAME_PUNCTUATION: Final = " .,;:!?-\u2013\u2014\"'`*_"
_NAME_EXTRA_CHARS: Final = frozenset(" .,'\u2019`-")
# Values that fill a name or address field without being one.
_PLACEHOLDERS: Final = frozenset({
    "anon", "anonim", "anonymous", "dirahasiakan", "hamba allah", "idem", "n/a", "na", "nama",
    "nama lengkap", "pelapor", "rahasia", "sda", "tanpa nama", "warga", "xxx",
})
_PLACEHOLDER_STARTS: Final = frozenset({
    "aku", "belum", "diisi", "isi", "isikan", "kami", "ketik", "mohon", "saya", "tanpa", "tdk",
    "tidak",
})
# A "name" holding one of these words is a sentence ("saya tidak mau disebutkan").
_NOT_IN_NAME: Final = frozenset({
    "belum", "bukan", "dirahasiakan", "disebutkan", "ingin", "mau", "rahasia", "sudah", "tdk",
    "tidak",
})
# Without ":" a name must look like one: capitalised words, none of these first.
_NOT_A_NAME_START: Final = frozenset({
    "adalah", "aku", "desa", "dusun", "ini", "itu", "jalan", "kabupaten", "kami", "kampung",
    "kecamatan", "kelurahan", "kota", "masjid", "rt", "rw", "saya", "sekolah", "tersebut", "yang",
})
_NAME_PARTICLES: Final = frozenset({"al", "bin", "binti", "bt", "bte", "de", "der", "van"})
_MAX_BARE_NAME_WORDS: Final = 5
_MAX_NAME_WORDS: Final = 8
# Without ":" an address must name a place and must not read like a sentence.
_ADDRESS_MARKERS: Final = frozenset({
    "blok", "desa", "ds", "dsn", "dukuh", "dusun", "gang", "gg", "jalan", "jl", "kab",
    "kabupaten", "kampung", "kec", "kecamatan", "kel", "kelurahan", "kota", "kp", "no",
    "perum", "perumahan", "rt", "rw",
})
_SENTENCE_WORDS: Final = frozenset({
    "adalah", "belum", "ini", "itu", "kami", "karena", "mohon", "rusak", "saya", "sejak",
    "sudah", "tersebut", "tidak", "tolong", "yang",
})


@dataclass(frozen=True)
class _Field:
    kind: str
    value: str | None  # the accepted, normalised value; None when the value was garbage


def extract_identity(text: str) -> Extraction:
    """Split a complaint into who wrote it and what they complain about.

    Identity lines are removed from the description and numbers written mid-sentence
    are hidden there, because the description is what follow-up officers read while
    identity stays with the verifier.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found, kk_numbers, identity_lines = _form_fields(lines)
    whole = "\n".join(lines)
    nik = found.get("nik") or nik_anywhere(whole, kk_numbers)
    prose = [line for index, line in enumerate(lines) if index not in identity_lines]
    signed = signature(prose)
    if signed is not None:
        # The signature's own lines are identity like form lines; the closing stays.
        kept = [index for index in range(len(lines)) if index not in identity_lines]
        identity_lines |= {kept[i] for i in signed.named}
    identity = Identity(
        name=found.get("name") or prose_name(prose) or (signed.name if signed else None),
        nik=nik,
        nik_problem=nik_problem(nik) if nik else None,
        phone=found.get("phone") or phone_anywhere(whole) or phone_in_runs(whole),
        address=(found.get("address") or (signed.address if signed else None)
                 or prose_address(prose)),
    )
    return Extraction(identity, redact_numbers(_description(lines, identity_lines)))


def form_lines(text: str) -> set[int]:
    """Which lines of `text` (split at "\n") are form lines ("Nama: ...", "NIK ...").

    mailflow.core.privacy hides them whole in text that never went through extraction,
    such as a resident's reply forwarded to staff.
    """
    return _form_fields(text.split("\n"))[2]


def _form_fields(lines: list[str]) -> tuple[dict[str, str], set[str], set[int]]:
    """The first value of each kind, every KK number, and which lines are form lines."""
    found: dict[str, str] = {}
    kk_numbers: set[str] = set()
    identity_lines: set[int] = set()
    for index, line in enumerate(lines):
        fields = _fields(line) if line.strip() else None
        if fields is None:
            continue
        identity_lines.add(index)
        for field in fields:
            if field.value is None:
                continue
            if field.kind == "kk":
                kk_numbers.add(field.value)
            else:
                found.setdefault(field.kind, field.value)
    return found, kk_numbers, identity_lines


def _description(lines: list[str], identity_lines: set[int]) -> str:
    """The complaint without its form lines, each run of blank lines cut to one."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        if index in identity_lines:
            continue
        if line.strip():
            kept.append(line)
        elif kept and kept[-1]:
            kept.append("")
    return "\n".join(kept).strip()


def _fields(line: str) -> list[_Field] | None:
    """The fields of a labelled line, or None when the line is part of the complaint.

    A line whose label has ":" is a form line even when its value is garbage; one with
    only a space after the label is a form line only when the value fits the field.
    """
    head = _HEAD.match(line[:_HEAD_WINDOW])
    if head is None or head.lastgroup is None:
        return None
    after_label = _value_after_label(line[head.end():head.end() + VALUE_WINDOW])
    if after_label is None:
        return None
    kind = head.lastgroup
    value, explicit = after_label
    fields: list[_Field] = []
    while True:
        following = _NEXT_LABEL.search(value)
        own = value if following is None else value[:following.start()]
        accepted = _accept(kind, own.rstrip(" \t,;|*_"), explicit)
        if not fields and not explicit and accepted is None:
            return None
        fields.append(_Field(kind, accepted))
        if following is None or following.lastgroup is None:
            return fields
        if len(fields) >= _MAX_FIELDS_PER_LINE:
            return fields
        kind, explicit = following.lastgroup, True
        value = value[following.end():].lstrip(_EXPLICIT_SEPARATORS + " \t*_")


def _value_after_label(rest: str) -> tuple[str, bool] | None:
    """The value after a label, and whether a separator (":", "=" or a dash) introduced it.

    None when neither a separator nor a space follows: then the "label" is the start of a
    word or the whole line, not a label.
    """
    gap = len(rest) - len(rest.lstrip(" \t*_"))
    spaced = " " in rest[:gap] or "\t" in rest[:gap]
    mark, after = rest[gap:gap + 1], rest[gap + 1:gap + 2]
    if mark and (mark in _EXPLICIT_SEPARATORS
                 or (mark in _DASHES and (spaced or after in ("", " ", "\t")))):
        return rest[gap + 1:].lstrip(_EXPLICIT_SEPARATORS + _DASHES + " \t*_"), True
    if spaced:
        return rest[gap:], False
    return None  # "Namanya", "wa'alaikumsalam", "Nama-nama warga": not a label


def _accept(kind: str, value: str, explicit: bool) -> str | None:
    if kind == "name":
        return _accept_name(value, explicit)
    if kind == "address":
        return _accept_address(value, explicit)
    if kind == "phone":
        return _accept_phone(value, explicit)
    return _accept_number(value, explicit)  # NIK or KK: digits as written


def _is_placeholder(value: str) -> bool:
    folded = value.casefold()
    words = folded.split()
    return folded in _PLACEHOLDERS or not words or words[0] in _PLACEHOLDER_STARTS


def _accept_name(value: str, explicit: bool) -> str | None:
    cut = min((i for i in (value.find("("), value.find("[")) if i >= 0), default=len(value))
    name = " ".join(value[:cut].split()).strip(_NAME_PUNCTUATION)
    if not name or len(name) > _MAX_NAME or _is_placeholder(name):
        return None
    if any(not ch.isalpha() and ch not in _NAME_EXTRA_CHARS for ch in name):
        return None  # digits, "@", "/", ":" ... : not a name, or more than one thing
    words = name.split()
    if sum(ch.isalpha() for ch in name) < 2 or len(words) > _MAX_NAME_WORDS:
        return None
    folded = {word.casefold().strip(".,") for word in words}
    if set(name.casefold()) <= {"x", " "} or _NOT_IN_NAME.intersection(folded):
        return None
    if not explicit and not _looks_like_bare_name(words):
        return None
    return name


def _looks_like_bare_name(words: list[str]) -> bool:
    if len(words) > _MAX_BARE_NAME_WORDS or words[0].casefold() in _NOT_A_NAME_START:
        return False
    if any("," in word for word in words):
        return False
    return all(word[0].isupper() or word.casefold() in _NAME_PARTICLES for word in words)


def _accept_address(value: str, explicit: bool) -> str | None:
    address = " ".join(value.split()).strip(" ,;:-\u2013\u2014*_").rstrip(".").rstrip()
    if not address or len(address) > _MAX_ADDRESS or _is_placeholder(address):
        return None
    if not any(ch.isalpha() for ch in address):
        return None
    if not explicit:
        words = {word.casefold() for word in _WORD.findall(address)}
        if len(address) > _MAX_BARE_ADDRESS or not (address[0].isupper() or address[0].isdigit()):
            return None
        if _SENTENCE_WORDS.intersection(words):
            return None
        if not (_ADDRESS_MARKERS.intersection(words) or any(ch.isdigit() for ch in address)):
            return None
    return address


def _accept_number(value: str, explicit: bool) -> str | None:
    match = _DIGIT_RUN.search(value) if explicit else _DIGIT_RUN.match(value)
    if match is None:
        return None
    digits = NON_DIGIT.sub("", match.group())
    if len(digits) > _MAX_NUMBER_DIGITS:
        return None
    if not explicit and (len(digits) < 10 or not _only_trailer(value[match.end():])):
        return None
    return digits


def _accept_phone(value: str, explicit: bool) -> str | None:
    if not explicit:
        match = PHONE_RUN.match(value)
        if match is None or not _only_trailer(value[match.end():]):
            return None
        return e164(match.group())
    for count, match in enumerate(PHONE_RUN.finditer(value)):
        if count >= 5:
            break
        phone = e164(match.group())
        if phone:
            return phone
    return None


def _only_trailer(rest: str) -> bool:
    return len(rest) <= 60 and _TRAILER.fullmatch(rest) is not None
