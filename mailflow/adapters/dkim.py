"""DKIM verification with dkimpy: the one proof that needs the network (DNS for the key).

The core's `authenticate` receives `dkim_checker(...)` as a plain function, so the decision
stays pure and tests serve their own keys through `dns_txt`.
"""

from __future__ import annotations

from collections.abc import Callable

import dkim

from mailflow.core.sender_auth import DkimCheck, domain_of

DnsTxt = Callable[..., bytes | None]


def dkim_checker(dns_txt: DnsTxt | None = None) -> DkimCheck:
    """A DKIM check that looks keys up with `dns_txt` (default: dkimpy's DNS)."""
    def check(raw: bytes, sender: str | None) -> bool:
        return dkim_pass(raw, sender, dns_txt)
    return check


def dkim_pass(raw: bytes, sender: str | None, dns_txt: DnsTxt | None) -> bool:
    """A DKIM signature that verifies and is aligned with the sender's domain."""
    if not sender:
        return False
    try:
        checker = dkim.DKIM(raw)
        signatures = [line for line in checker.headers if line[0].lower() == b"dkim-signature"]
        for index in range(len(signatures)):
            kwargs = {"dnsfunc": dns_txt} if dns_txt is not None else {}
            if checker.verify(idx=index, **kwargs) and checker.domain is not None and (
                    checker.domain.decode().lower() == domain_of(sender)):
                return True
    except Exception:  # noqa: BLE001 - dkimpy raises many kinds on malformed signatures
        return False
    return False
