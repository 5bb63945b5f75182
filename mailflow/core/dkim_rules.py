"""When a DKIM signature proves a command: what it must cover, and how a copy is recognised.

A DKIM signature proves that the signing domain sent *the header fields listed in its h=
tag and the body*, nothing more. A field it does not cover can be replaced, and a field
it covers once can be added again above the signed one (verifiers take the bottom-most
instance, mail programs and mailflow the topmost). So a signature proves a command only when

- h= lists From and Subject, the fields mailflow acts on (Subject names the ticket);
- when the Subject names no ticket (or another one), the ticket was found from In-Reply-To
  and References, so h= must list each of them the message carries (signers that do not
  sign them, like Microsoft 365, still work: mailflow's subjects always name the ticket);
- no l= tag: a signature over part of the body lets anyone append text;
- and the message has one instance of each acted-on field (`ambiguous_fields`).

A signature is also a fingerprint: its b= value is unpredictable and unique to one signed
message, so a command whose b= was already used is a copy of an earlier one (`digests`).
Pure: the adapter (adapters/dkim.py) does the cryptography and DNS.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from mailflow.core.intake_rules import find_ticket_number
from mailflow.core.parse import ParsedMessage

# The fields mailflow acts on, each of which a valid command carries at most once.
ACTED_ON = ("from", "subject", "in-reply-to", "references", "message-id")
_THREAD = ("in-reply-to", "references")
_TAG = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*=(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class DkimSignature:
    """One DKIM-Signature header's facts: d=, the h= list (lowercase), l= present, b=."""

    domain: str
    signed_headers: tuple[str, ...]
    body_length_limited: bool
    b: str


def parse_signature(value: str) -> DkimSignature | None:
    """The facts of one DKIM-Signature header value (RFC 6376 tag=value list), or None."""
    tags: dict[str, str] = {}
    for item in value.split(";"):
        if not item.strip():
            continue
        match = _TAG.match(item)
        if match is None:
            return None
        tags.setdefault(match[1].lower(), "".join(match[2].split()))
    if not all(tags.get(k) for k in ("d", "h", "b")):
        return None
    signed = tuple(h.lower() for h in tags["h"].split(":") if h)
    return DkimSignature(tags["d"].lower(), signed, "l" in tags, tags["b"])


def ambiguous_fields(msg: ParsedMessage) -> list[str]:
    """The acted-on fields the message carries more than once (a valid command has none)."""
    counts: dict[str, int] = {}
    for name, _value in msg.headers:
        if name in ACTED_ON:
            counts[name] = counts.get(name, 0) + 1
    return [name for name in ACTED_ON if counts.get(name, 0) > 1]


def coverage_problem(sig: DkimSignature, msg: ParsedMessage, ticket_number: str | None,
                     prefix: str) -> str | None:
    """Why `sig` does not prove this message's command on `ticket_number` (None: it does).

    `ticket_number` None: a message that creates a ticket (`#kanal telepon`), where From,
    Subject and the body are all that is acted on.
    """
    signed = set(sig.signed_headers)
    if not {"from", "subject"} <= signed:
        return "DKIM signature does not cover From and Subject"
    if sig.body_length_limited:
        return "DKIM signature covers only part of the body (l=)"
    if ticket_number is None or find_ticket_number(msg.subject, prefix) == ticket_number:
        return None
    carried = [name for name in _THREAD if msg.header(name) is not None]
    if not carried:
        return "the signed Subject names another ticket"
    unsigned = [name for name in carried if name not in signed]
    if unsigned:
        return f"ticket found by {', '.join(unsigned)}, which the DKIM signature does not cover"
    return None


def digest(sig: DkimSignature) -> str:
    """A fixed-length fingerprint of the signature value (what replay checks compare)."""
    return hashlib.sha256(sig.b.encode("ascii", "replace")).hexdigest()
