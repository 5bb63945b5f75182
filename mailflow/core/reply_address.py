"""Signed reply addresses, each issued to one person for one purpose.

    pengaduan+adu-2026-00042.k7q2mx.<hmac>@klero.desa.id   (staff member, one ticket)
    pengaduan+adu-2026-00042.p3zd7a.<hmac>@klero.desa.id   (the reporter, one ticket)
    pengaduan+catat.k7q2mx.<hmac>@klero.desa.id            (staff member, recording a phone
                                                            or WhatsApp complaint)

The middle part is a short token derived from the holder's address (an HMAC, so it names no
one); the HMAC at the end covers the purpose, the ticket and the holder's full address.
Only mailflow, which holds the secret, can make one, and it mails each only to its holder,
so a message sent to it proves that its sender received that mail. The proof therefore
counts only when From is the holder: an address copied out of someone else's mail (an
officer using the verifier's, a resident using a staff member's) proves nothing.

The first version signed the ticket number alone (`pengaduan+adu-2026-00042.<hmac>@...`),
so every staff mail of a ticket carried the same address and whoever held one could act
as anyone. That form is refused: it was never handed to anyone outside test installations,
so no deployed mail program has it in an address book. Pure.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

_TAG_CHARS = 16  # 80 bits of HMAC-SHA256, base32: unguessable, short enough for a mail client
_TOKEN_CHARS = 6  # 30 bits: only tells holders apart; the tag is what proves
RECORD = "catat"  # the "ticket" part of a record address: no ticket exists yet
MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
_TAGGED = re.compile(
    r"^(?P<local>[^+@\s]+)\+(?P<ticket>[a-z][a-z0-9]*-\d{4}-\d{5,}|" + RECORD + r")"
    r"\.(?P<token>[a-z2-7]{" + str(_TOKEN_CHARS) + r"})\.(?P<tag>[a-z2-7]{" + str(_TAG_CHARS) + r"})"
    r"@(?P<domain>\S+)$"
)


class Purpose(StrEnum):
    """Who an address was issued to, and so what a message sent to it may do."""

    STAFF = "staff"  # commands on one ticket, with that member's role
    REPORTER = "reporter"  # the reporter's own answers on one ticket
    RECORD = "record"  # a staff member recording a phone or WhatsApp complaint


@dataclass(frozen=True)
class SignedTag:
    """A valid signed address: what it is for, the ticket (None for RECORD), its holder."""

    purpose: Purpose
    ticket: str | None
    holder: str


def _b32(data: bytes, chars: int) -> str:
    # Base32 writes each 5 bytes as 8 characters on their own, so encoding only the blocks
    # the first `chars` come from gives those same characters; the standard library's
    # encoder is pure Python, and a whole SHA-256 digest cost it 4 us an address (issue 10).
    return base64.b32encode(data[:-(-chars // 8) * 5]).decode().lower()[:chars]


def _mac(secret: bytes, *parts: str) -> bytes:
    # hmac.digest with a digest name is OpenSSL's one-shot HMAC, two thirds of hmac.new's
    # cost: each new ticket signs an address for its reporter and each staff member (issue 10).
    return hmac.digest(secret, "\x00".join(parts).encode(), "sha256")


@lru_cache(maxsize=1024)
def holder_token(holder: str, secret: bytes) -> str:
    """The short, stable, opaque token of one address (the same in all its tags)."""
    return _b32(_mac(secret, "token", holder.lower()), _TOKEN_CHARS)


def _tag(purpose: Purpose, ticket: str, holder: str, secret: bytes) -> str:
    return _b32(_mac(secret, "tag-v2", purpose.value, ticket.lower(), holder.lower()), _TAG_CHARS)


def signed_address(base_address: str, purpose: Purpose, holder: str, secret: bytes,
                   ticket_number: str | None = None) -> str:
    """The address issued to `holder` for `purpose` (and the ticket, unless RECORD)."""
    if (purpose is Purpose.RECORD) != (ticket_number is None):
        raise ValueError("a record address has no ticket; every other address has one")
    ticket = RECORD if ticket_number is None else ticket_number.lower()
    local, domain = base_address.rsplit("@", 1)
    return (f"{local}+{ticket}.{holder_token(holder, secret)}."
            f"{_tag(purpose, ticket, holder, secret)}@{domain}")


def longest_local_part(base_address: str, prefix: str) -> int:
    """The local part's length for a ticket number of six digits (configuration checks it)."""
    local = base_address.rsplit("@", 1)[0]
    return len(local) + 1 + len(prefix) + len("-2026-000000") + 1 + _TOKEN_CHARS + 1 + _TAG_CHARS


def read_address(address: str, base_address: str, secret: bytes, purpose: Purpose,
                 candidates: Iterable[str]) -> SignedTag | None:
    """The tag of `address` if it is a valid one for `purpose` issued to one of `candidates`.

    The caller passes the sender first and may add others (all staff) to learn whose address
    was misused; whether the holder is the sender is the caller's check.
    """
    match = _TAGGED.match(address.strip().lower())
    if match is None:
        return None
    local, domain = base_address.lower().rsplit("@", 1)
    if (match["local"], match["domain"]) != (local, domain):
        return None
    ticket = match["ticket"]
    if (ticket == RECORD) != (purpose is Purpose.RECORD):
        return None
    for holder in dict.fromkeys(c.lower() for c in candidates if c):
        if not hmac.compare_digest(match["token"], holder_token(holder, secret)):
            continue
        if hmac.compare_digest(match["tag"], _tag(purpose, ticket, holder, secret)):
            return SignedTag(purpose, None if ticket == RECORD else ticket.upper(), holder)
    return None
