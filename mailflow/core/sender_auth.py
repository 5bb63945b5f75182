"""Is a staff command really from the staff member in From:? A forged From is never enough.

Accepted proofs (configurable, any one suffices):
- signed_reply: the message was sent to the per-ticket signed address that only
  mailflow can make, so its sender received that ticket's notification;
- authserv: the topmost Authentication-Results header, added by a receiving server
  whose authserv-id is trusted, says dkim, dmarc or spf passed for the sender's domain
  (only the topmost counts: a forger can add headers below it, not above);
- dkim: a DKIM signature that verifies and whose d= is the sender's domain (dkimpy).
Pure: DKIM needs DNS, so its check is injected (adapters/dkim.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from mailflow.config import CommandsConfig
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_address import verify_address

# Does a DKIM signature of `raw` verify and align with the sender's domain? (adapters/dkim.py)
DkimCheck = Callable[[bytes, str | None], bool]

_ADDRESS = re.compile(r"[^\s<>,;\"']+@[^\s<>,;\"']+")
_RESULT = re.compile(r"\b(dkim|dmarc|spf)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)",
                       re.IGNORECASE)
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().rstrip(">").strip()


def signed_for(msg: ParsedMessage, base_address: str, secret: bytes) -> str | None:
    """The ticket number of a signed reply address among the message's recipients."""
    for name, value in msg.headers:
        if name in _RECIPIENT_HEADERS:
            for address in _ADDRESS.findall(value):
                ticket = verify_address(address, base_address, secret)
                if ticket is not None:
                    return ticket
    return None


def authserv_pass(msg: ParsedMessage, trusted_ids: Iterable[str]) -> bool:
    """The topmost Authentication-Results header, if trusted, vouches for the From domain."""
    header = msg.header("authentication-results")
    if header is None or not msg.from_addr:
        return False
    authserv_id = header.split(";", 1)[0].strip().split()[0].lower() if header.strip() else ""
    if authserv_id not in {t.lower() for t in trusted_ids}:
        return False
    sender_domain = domain_of(msg.from_addr)
    for _method, result, rest in _RESULT.findall(header):
        if result.lower() != "pass":
            continue
        for _prop, value in _PROPERTY.findall(rest):
            if domain_of(value) == sender_domain:
                return True
    return False


def authenticate(msg: ParsedMessage, raw: bytes, ticket_number: str, cfg: CommandsConfig,
                 base_address: str, dkim: DkimCheck) -> str | None:
    """The first accepted proof that holds, by name, or None."""
    for method in cfg.accept:
        if method == "signed_reply" and signed_for(msg, base_address,
                                                   cfg.secret_bytes()) == ticket_number:
            return method
        if method == "authserv" and authserv_pass(msg, cfg.trusted_authserv_ids):
            return method
        if method == "dkim" and dkim(raw, msg.from_addr):
            return method
    return None
