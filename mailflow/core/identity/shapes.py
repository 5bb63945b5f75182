"""Identity numbers and addresses in any grouping, wherever they stand in a text.

Residents group a NIK as 3322011203850001, 3322 0112 0385 0001, 33.22.01.120385.0001 or
with dashes; they write a phone as a mobile, a landline with its area code in brackets
((0298) 321456, 0298-321456) or in the +62 form, and they put other people's email
addresses and social media accounts into complaints. Extraction reads one value of each
kind; hiding must find every one, so the shapes here are deliberately wide: a digit run
that could be a NIK or a phone number is hidden, and only runs that are plainly something
else (a date, an amount, a house number) are left for the reader.

Every pattern is linear: each repetition consumes a digit or a word character, and the
separators between them are bounded.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Final

from mailflow.core.identity.phone import e164

__all__ = ["ACCOUNT_HIDDEN", "EMAIL_HIDDEN", "NIK_HIDDEN", "NUMBER_HIDDEN", "Found", "email_spans",
           "number_spans", "phone_in_runs", "redact_numbers", "replace_spans"]

NIK_HIDDEN: Final = "[NIK disembunyikan]"
NUMBER_HIDDEN: Final = "[nomor disembunyikan]"
EMAIL_HIDDEN: Final = "[email disembunyikan]"
ACCOUNT_HIDDEN: Final = "[akun disembunyikan]"

# Digits joined by at most three separators ("3322 . 0112", "0812 - 3456 - 7890"), a bracket
# round an area code ("(0298) 321456"), and an optional leading "+".
_DIGIT_RUN = re.compile(
    r"\+?[ \t]?\(?\d(?:(?:[ \t.\-/\u2010-\u2015]{1,3}|\)[ \t.\-]{0,2}|[ \t]{0,2}\()?\d)*\)?"
)
_NON_DIGIT = re.compile(r"\D")
# A run that is plainly a date, perhaps with the hour: "05/06/2026", "2026-11-27 19".
_DATE = re.compile(r"(?:\d{1,2} ?[./\-] ?\d{1,2} ?[./\-] ?(?:\d{2}|\d{4})|\d{4}-\d{1,2}-\d{1,2})"
                   r"(?:[ \t]\d{1,2}(?:[.:]\d{2}){0,2})?")
# Words that make a short digit run a number to hide: "telp 321456", "no. rek 12345".
_NUMBER_CONTEXT = re.compile(
    r"(?:\b(?:telp|tlp|telpon|telepon|hp|handphone|ponsel|wa|whatsapp|sms|hubungi|kontak|nik|"
    r"ktp|kk|rekening|rek|pelanggan|id|nomor|nomer|nmr|no)\b\.?[ \t:=/\-]*"
    r"(?:(?:saya|aktif|kantor|rumah|hp|wa|telp|ktp|kk)\b[ \t:=/\-]*){0,2})$",
    re.IGNORECASE,
)
_MIN_CONTEXT_DIGITS: Final = 5
_MIN_PHONE_DIGITS: Final = 8  # "0298 32145" and longer, when written with a leading 0 or +
_MIN_ANY_DIGITS: Final = 10  # no date, amount or house number has this many
_NIK_DIGITS: Final = range(15, 18)  # a NIK with one digit too few or too many is still one

# Email addresses, also written against harvesters: "budi [at] mail.example", "(dot)".
_EMAIL = re.compile(
    r"[\w.+\-']{1,64}[ \t]?(?:@|\[at\]|\(at\)|\{at\})[ \t]?[\w\-]{1,63}"
    r"(?:[ \t]?(?:\.|\[dot\]|\(dot\))[ \t]?[\w\-]{1,63}){1,8}",
    re.IGNORECASE,
)
_WRITTEN_AT = ("[at]", "(at)", "{at}")  # _EMAIL's other ways of writing "@", lower-cased
# "@budi_santoso" on Instagram, TikTok or X, and profile links.
_HANDLE = re.compile(r"(?<![\w@.])@[\w.]{2,30}")
_PROFILE = re.compile(
    r"(?:https?://)?(?:www\.|m\.)?(?:facebook|fb|instagram|twitter|x|tiktok|linkedin|wa|t)"
    r"\.(?:com|me)/[^\s<>()\"']{1,200}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """A piece of text to hide and the words that replace it."""

    start: int
    end: int
    label: str


def number_spans(text: str) -> Iterator[Found]:
    """Every digit run that may be a NIK, a phone, a KK or an account number.

    Fail closed: ten digits or more are always hidden; eight or more when written like a
    phone (leading 0, + or a bracketed area code); five or more after a word that names
    a number ("telp", "NIK", "rek"). Dates, times, amounts and house numbers stay.
    """
    for match in _DIGIT_RUN.finditer(text):
        run = match.group().strip()
        digits = len(_NON_DIGIT.sub("", run))
        start = match.start() + (len(match.group()) - len(match.group().lstrip()))
        if _DATE.fullmatch(run):
            continue
        phone_like = run.startswith(("+", "(", "0"))
        before = text[max(0, start - 40):start]
        if (digits >= _MIN_ANY_DIGITS
                or (phone_like and digits >= _MIN_PHONE_DIGITS)
                or (digits >= _MIN_CONTEXT_DIGITS and _NUMBER_CONTEXT.search(before))):
            label = NIK_HIDDEN if digits in _NIK_DIGITS else NUMBER_HIDDEN
            yield Found(start, start + len(run), label)


def email_spans(text: str, keep: Collection[str] = ()) -> Iterator[Found]:
    """Every email address, social media handle and profile link, except those in `keep`.

    `keep` holds addresses that are never a resident's (the staff's, the village inbox),
    lower-cased, so an audit note naming the assigned officer stays readable.
    """
    # Each pattern is tried at every position of the text (_EMAIL 64 characters ahead), and
    # most text holds none of the literals every match needs: looked for first.
    lowered = text.lower()
    has_at = "@" in text
    if has_at or any(at in lowered for at in _WRITTEN_AT):
        for match in _EMAIL.finditer(text):
            if match.group().lower() not in keep:
                yield Found(match.start(), match.end(), EMAIL_HIDDEN)
    links = ".com/" in lowered or ".me/" in lowered
    for pattern in (*((_PROFILE,) if links else ()), *((_HANDLE,) if has_at else ())):
        for match in pattern.finditer(text):
            yield Found(match.start(), match.end(), ACCOUNT_HIDDEN)


def replace_spans(text: str, spans: Collection[Found]) -> str:
    """`text` with every span replaced by its label; overlapping spans become one.

    Where spans overlap, the one starting first (the longer one, at the same start) gives
    the label, so an email address that contains a name reads as an email address.
    """
    pieces: list[str] = []
    position = 0
    ordered = sorted(spans, key=lambda found: (found.start, -found.end))
    index = 0
    while index < len(ordered):
        current = ordered[index]
        end = current.end
        index += 1
        while index < len(ordered) and ordered[index].start < end:
            end = max(end, ordered[index].end)
            index += 1
        pieces.append(text[position:current.start])
        pieces.append(current.label)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def phone_in_runs(text: str) -> str | None:
    """The first hidden-shaped run that is a valid phone number (a landline, say), in E.164.

    Extraction falls back to this when no mobile number is written, so the verifier keeps
    the number that the stored description no longer shows.
    """
    for found in number_spans(text):
        if found.label == NUMBER_HIDDEN:
            phone = e164(text[found.start:found.end])
            if phone:
                return phone
    return None


def redact_numbers(text: str) -> str:
    """Hide NIKs and phone and other identity numbers written anywhere in `text`."""
    return replace_spans(text, list(number_spans(text)))
