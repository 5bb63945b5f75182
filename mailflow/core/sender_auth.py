"""Is a message really from the person in From:? A forged From is never enough.

Accepted proofs (configurable in `[commands] accept`, any one suffices):
- signed_reply: the message went to a signed address mailflow issued to the sender for this
  purpose and ticket (core/reply_address.py), so the sender received mail only they were sent;
- dkim: a DKIM signature that verifies (dkimpy, adapters/dkim.py), whose d= is the From
  domain and which covers what mailflow acts on (core/dkim_rules.py);
- authserv: the topmost Authentication-Results header, from a trusted receiving server,
  says dkim or dmarc passed for the From domain (core/auth_results.py), and every DKIM
  signature of that domain in the message covers what mailflow acts on.

Before any of them, two rules hold for every proof: a message with a second From, Subject,
In-Reply-To, References or Message-ID is not valid (which instance would be acted on?), and
a message carrying a DKIM signature already used by an earlier proven message is a copy
(the caller looks the fingerprints up; `signature_digests`). The same proofs serve staff
commands, staff recording a phone complaint, and a resident's reply that would change data.
Pure: DKIM needs DNS, so its check is injected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from mailflow.config_parts import CommandsConfig
from mailflow.core.auth_results import vouches
from mailflow.core.dkim_rules import (
    DkimSignature,
    ambiguous_fields,
    coverage_problem,
    digest,
    parse_signature,
)
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_address import Purpose, read_address

# The DKIM signatures of a raw message that verify (adapters/dkim.py, with DNS).
DkimCheck = Callable[[bytes], Sequence[DkimSignature]]

_ADDRESS = re.compile(r"[^\s<>,;\"']+@[^\s<>,;\"']+")
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")


@dataclass(frozen=True)
class Proof:
    """How the sender was proven (`method`), or why not (`reason`, for the security event:
    English, never an address of a resident)."""

    method: str | None
    reason: str = ""


@dataclass(frozen=True)
class Claim:
    """What is to be proven: who (From, lowercase), for what, on which ticket (None: no
    ticket yet), and whose signed addresses to recognise when misused (staff)."""

    sender: str
    purpose: Purpose
    ticket_number: str | None
    others: tuple[str, ...] = ()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().rstrip(">").strip()


def _raw_values(raw: bytes, name: str) -> list[str]:
    """Every instance of header `name`, undecoded and unfolded, top to bottom."""
    try:
        parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
        return [" ".join(str(v).split()) for v in parsed.get_all(name) or ()]
    except Exception:  # noqa: BLE001 - a header block that does not parse proves nothing
        return []


def signature_digests(raw: bytes) -> tuple[str, ...]:
    """Fingerprints of every DKIM-Signature in the message (verified or not): a later message
    carrying one of them is a copy of this one."""
    sigs = (parse_signature(v) for v in _raw_values(raw, "dkim-signature"))
    return tuple(dict.fromkeys(digest(s) for s in sigs if s is not None))


def _recipients(msg: ParsedMessage) -> Iterable[str]:
    for name, value in msg.headers:
        if name in _RECIPIENT_HEADERS:
            yield from _ADDRESS.findall(value)


def signed_reply_proof(msg: ParsedMessage, claim: Claim, base_address: str, secret: bytes) -> Proof:
    """A recipient address issued to the sender for this purpose and ticket."""
    misused = ""
    for address in _recipients(msg):
        tag = read_address(address, base_address, secret, claim.purpose,
                           (claim.sender, *claim.others))
        if tag is None:
            continue
        if tag.holder != claim.sender:
            misused = "signed address issued to another person"
        elif tag.ticket != claim.ticket_number:
            misused = misused or "signed address issued for another ticket"
        else:
            return Proof("signed_reply")
    return Proof(None, misused or "no signed address of the sender")


def dkim_proof(msg: ParsedMessage, raw: bytes, claim: Claim, dkim: DkimCheck, prefix: str) -> Proof:
    """A verified DKIM signature of the From domain that covers what is acted on."""
    aligned = [s for s in dkim(raw) if s.domain == domain_of(claim.sender)]
    if not aligned:
        return Proof(None, "no valid DKIM signature of the From domain")
    problems = [coverage_problem(s, msg, claim.ticket_number, prefix) for s in aligned]
    if None in problems:
        return Proof("dkim")
    return Proof(None, next(p for p in problems if p))


def authserv_proof(msg: ParsedMessage, raw: bytes, claim: Claim, cfg: CommandsConfig,
                   prefix: str) -> Proof:
    """The trusted server vouches for the From domain, and no signature of that domain in the
    message leaves what is acted on uncovered (the server checks signatures, not coverage)."""
    values = _raw_values(raw, "authentication-results")
    vouched = vouches(values[0] if values else None, cfg.trusted_authserv_ids,
                      domain_of(claim.sender))
    if not vouched.ok:
        return Proof(None, vouched.reason)
    sigs = [parse_signature(v) for v in _raw_values(raw, "dkim-signature")]
    aligned = [s for s in sigs if s is not None and s.domain == domain_of(claim.sender)]
    if vouched.dkim and not aligned:
        return Proof(None, "dkim=pass without a DKIM signature of the From domain in the message")
    for sig in aligned:
        problem = coverage_problem(sig, msg, claim.ticket_number, prefix)
        if problem is not None:
            return Proof(None, problem)
    return Proof("authserv")


def authenticate(msg: ParsedMessage, raw: bytes, claim: Claim, cfg: CommandsConfig,
                 base_address: str, prefix: str, dkim: DkimCheck, replayed: bool = False) -> Proof:
    """The first accepted proof that holds, or the reasons none did.

    `replayed`: the caller found one of `signature_digests(raw)` on an earlier proven message.
    """
    ambiguous = ambiguous_fields(msg)
    if ambiguous:
        return Proof(None, f"more than one {', '.join(ambiguous)} header")
    if replayed:
        return Proof(None, "copy of an earlier message (its DKIM signature was already used)")
    reasons: list[str] = []
    for method in cfg.accept:
        if method == "signed_reply":
            proof = signed_reply_proof(msg, claim, base_address, cfg.secret_bytes())
        elif method == "dkim":
            proof = dkim_proof(msg, raw, claim, dkim, prefix)
        else:
            proof = authserv_proof(msg, raw, claim, cfg, prefix)
        if proof.method is not None:
            return proof
        reasons.append(f"{method}: {proof.reason}")
    return Proof(None, "; ".join(reasons))
