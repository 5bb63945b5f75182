"""DKIM verification with dkimpy: the one proof that needs the network (DNS for the key).

The core's `authenticate` receives `dkim_checker(...)` as a plain function that answers
"which of this message's DKIM signatures verify?" with their facts (d=, h=, l=, b=); what a
signature must cover to prove anything is the core's decision (core/dkim_rules.py), so it
stays pure, and tests serve their own keys through `dns_txt`.
"""

from __future__ import annotations

from collections.abc import Callable

from mailflow.core.dkim_rules import DkimSignature, parse_signature
from mailflow.core.sender_auth import DkimCheck

DnsTxt = Callable[..., bytes | None]
_MAX_SIGNATURES = 5  # each costs a DNS lookup and an RSA verification


def dkim_checker(dns_txt: DnsTxt | None = None) -> DkimCheck:
    """A DKIM check that looks keys up with `dns_txt` (default: dkimpy's DNS)."""
    def check(raw: bytes) -> tuple[DkimSignature, ...]:
        return verified_signatures(raw, dns_txt)
    return check


def verified_signatures(raw: bytes, dns_txt: DnsTxt | None) -> tuple[DkimSignature, ...]:
    """The facts of each DKIM-Signature of `raw` that verifies; a broken one is left out."""
    # Imported here (issue 10, memory): dkimpy and dnspython cost some 4 MB of RSS, and only
    # a message that claims to be staff's needs them.
    import dkim

    try:
        checker = dkim.DKIM(raw)
        headers = [value for name, value in checker.headers if name.lower() == b"dkim-signature"]
    except Exception:  # noqa: BLE001 - dkimpy raises many kinds on malformed messages
        return ()
    kwargs = {"dnsfunc": dns_txt} if dns_txt is not None else {}
    found: list[DkimSignature] = []
    for index, value in enumerate(headers[:_MAX_SIGNATURES]):
        try:
            if not checker.verify(idx=index, **kwargs):
                continue
        except Exception:  # noqa: BLE001 - one bad signature must not hide a good one
            continue
        facts = parse_signature(value.decode("ascii", "replace"))
        if facts is not None:
            found.append(facts)
    return tuple(found)
