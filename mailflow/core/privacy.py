"""Identity taken out of text for everyone who must not see it.

Only verifiers see who reported a complaint; other staff work from the same subject
and description. Extraction hides the numbers in a description before it is stored;
mail to staff (ticket notices, forwarded resident replies) hides the rest, the name,
address and email the resident gave, just before it goes to anyone without the
verifier's role.
"""

from __future__ import annotations

import re

from mailflow.core.identity.model import Identity
from mailflow.core.identity.nik import NIK_ANYWHERE
from mailflow.core.identity.phone import PHONE_ANYWHERE

__all__ = ["redact", "scrub"]


def redact(text: str) -> str:
    """Hide NIKs and phone numbers written inside the complaint text itself.

    The description is what follow-up officers read; identity must stay with the
    verifier even when a resident writes it mid-sentence.
    """
    text = NIK_ANYWHERE.sub("[NIK disembunyikan]", text)
    return PHONE_ANYWHERE.sub("[nomor disembunyikan]", text)


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
