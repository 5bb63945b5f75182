"""Is a staff command really from the staff member in From:? A forged From is never enough.

Accepted proofs (configurable, any one suffices):
- signed_reply: the message was sent to the per-ticket signed address that only
  mailflow can make, so its sender received that ticket's notification;
- authserv: the topmost Authentication-Results header, added by a receiving server
  whose authserv-id is trusted, says dkim, dmarc or spf passed for the sender's domain
  (only the topmost counts: a forger can add headers below it, not above);
- dkim: a DKIM signature that verifies and whose d= is the sender's domain (dkimpy).
Pure apart from the DNS lookup that DKIM needs, which the caller injects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from mailflow.config import CommandsConfig
from mailflow.core.parse import ParsedMessage
from mailflow.core.reply_address import verify_address

DnsTxt = Callable[..., bytes | None]

_ADDRESS = re.compile(r"[^\s<>,;\"']+@[^\s<>,;\"']+")
_RESULT = re.compile(r"\b(dkim|dmarc|spf)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)",
                       re.IGNORECASE)
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")


def _domain(address: str) -> str:
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
    sender_domain = _domain(msg.from_addr)
    for method, result, rest in _RESULT.findall(header):
        if result.lower() != "pass":
            continue
        for _prop, value in _PROPERTY.findall(rest):
            if _domain(value) == sender_domain:
                return True
        del method
    return False


def dkim_pass(raw: bytes, sender: str | None, dns_txt: DnsTxt | None) -> bool:
    """A DKIM signature that verifies and is aligned with the sender's domain."""
    if not sender:
        return False
    import dkim

    try:
        checker = dkim.DKIM(raw)
        signatures = [line for line in checker.headers if line[0].lower() == b"dkim-signature"]
        for index in range(len(signatures)):
            kwargs = {"dnsfunc": dns_txt} if dns_txt is not None else {}
            if checker.verify(idx=index, **kwargs) and checker.domain is not None and (
                    checker.domain.decode().lower() == _domain(sender)):
                return True
    except Exception:  # noqa: BLE001 - dkimpy raises many kinds on malformed signatures
        return False
    return False


def authenticate(msg: ParsedMessage, raw: bytes, ticket_number: str, cfg: CommandsConfig,
                 base_address: str, dns_txt: DnsTxt | None = None) -> str | None:
    """The first accepted proof that holds, by name, or None."""
    for method in cfg.accept:
        if method == "signed_reply" and signed_for(msg, base_address,
                                                   cfg.secret_bytes()) == ticket_number:
            return method
        if method == "authserv" and authserv_pass(msg, cfg.trusted_authserv_ids):
            return method
        if method == "dkim" and dkim_pass(raw, msg.from_addr, dns_txt):
            return method
    return None
