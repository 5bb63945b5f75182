"""Per-ticket signed reply addresses: `pengaduan+adu-2026-00042.<hmac>@klero.desa.id`.

A staff member's reply to a notification goes to this address; only mailflow,
which holds the secret, can make it, so a command sent to it proves the sender
received that ticket's notification (as FixMyStreet's HMAC VERP addresses do).
The From address still has to be configured staff. Pure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TAG_CHARS = 16  # 80 bits of HMAC-SHA256, base32: unguessable, short enough for a mail client
_TAGGED = re.compile(
    r"^(?P<local>[^+@\s]+)\+(?P<ticket>[a-z]+-\d{4}-\d{5,})\.(?P<tag>[a-z2-7]+)@(?P<domain>\S+)$"
)


def _tag(ticket_number: str, secret: bytes) -> str:
    digest = hmac.new(secret, ticket_number.lower().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_TAG_CHARS]


def signed_address(base_address: str, ticket_number: str, secret: bytes) -> str:
    local, domain = base_address.rsplit("@", 1)
    return f"{local}+{ticket_number.lower()}.{_tag(ticket_number, secret)}@{domain}"


def verify_address(address: str, base_address: str, secret: bytes) -> str | None:
    """The ticket number an address was signed for, or None when it is not a valid one."""
    match = _TAGGED.match(address.strip().lower())
    if match is None:
        return None
    local, domain = base_address.lower().rsplit("@", 1)
    if (match["local"], match["domain"]) != (local, domain):
        return None
    if not hmac.compare_digest(match["tag"], _tag(match["ticket"], secret)):
        return None
    return match["ticket"].upper()
