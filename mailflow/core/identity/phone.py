"""Phone numbers as residents type them, reduced to the one form a reporter is known by.

A resident writes the same number as 0812..., +62 812... or 62812... with any
separators, in the first complaint and again in a later reply; keeping only E.164 lets
those agree. Extraction reads labelled numbers through here and falls back to an
unlabelled one; mailflow.core.privacy hides that same shape from staff who must not
see identity.
"""

from __future__ import annotations

import re

import phonenumbers

from mailflow.core.identity.model import VALUE_WINDOW
from mailflow.core.identity.nik import NIK_ANYWHERE, NON_DIGIT

__all__ = ["PHONE_ANYWHERE", "PHONE_RUN", "e164", "normalise_phone", "phone_anywhere"]

# One optional separator (or a bracket round an area code) before each digit.
PHONE_RUN = re.compile(r"\(?\+?\(?[0-9](?:(?:[ .\-]?\(|\)[ .\-]?|[ .\-])?[0-9])*")
PHONE_ANYWHERE = re.compile(
    r"(?<![0-9+])(?:\+62|62|0)[ .\-]?8[0-9]{1,3}(?:[ .\-]?[0-9]{2,5}){1,4}(?![0-9])"
)


def normalise_phone(raw: str) -> str | None:
    """One canonical form (E.164) so a reporter is recognised however the number was typed.

    Residents write national (0812...), international (+62 812...) and bare (62812...)
    forms with any separators; a number from abroad is kept when it is valid there.
    """
    match = PHONE_RUN.search(raw[:VALUE_WINDOW])
    return e164(match.group()) if match else None


def e164(run: str) -> str | None:
    digits = NON_DIGIT.sub("", run)
    if not 6 <= len(digits) <= 17:
        return None
    # "62812..." without "+" is an international number; national ones begin with 0 or 8.
    international = "+" in run or (digits.startswith("62") and len(digits) >= 10)
    candidate = "+" + digits if international else digits
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_anywhere(text: str) -> str | None:
    # NIK-shaped numbers are blanked first: a NIK like "3322 0812 ..." must not yield a phone.
    masked = NIK_ANYWHERE.sub(" ", text)
    for match in PHONE_ANYWHERE.finditer(masked):
        phone = e164(match.group())
        if phone:
            return phone
    return None
