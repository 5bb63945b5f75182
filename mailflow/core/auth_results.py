"""What a trusted receiving server's Authentication-Results header vouches for (RFC 8601).

The header is the receiving server's text, but it quotes attacker text: the envelope
sender, DKIM tags, comments. So it is parsed by the RFC 8601 grammar (the `authres`
package, by the dkimpy authors) and never scanned with a pattern:

- no RFC 2047 decoding: `=?utf-8?q?x=3B_dkim=3Dpass...?=` in smtp.mailfrom is a value, not
  a result;
- comments `(...)`, nested or with escapes, and quoted strings are not results;
- a header that does not parse vouches for nothing.

What counts is decided here too: `dkim=pass` with header.d equal to the From domain, or
`dmarc=pass` with header.from equal to it. `spf=pass` vouches for the envelope sender, which
the From header need not match, so it never counts; a `dmarc=fail` for the From domain
vetoes everything else in the header. Alignment is strict (the exact From domain).
Pure: the caller passes the raw, undecoded value of the topmost header.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import authres


@dataclass(frozen=True)
class Vouched:
    """What the header says about the From domain. `dkim`: an aligned DKIM signature passed."""

    dkim: bool = False
    dmarc: bool = False
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.dkim or self.dmarc


def _properties(result: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for prop in getattr(result, "properties", ()) or ():
        key = f"{prop.type}.{prop.name}".lower()
        found.setdefault(key, str(prop.value).strip().lower())
    return found


def vouches(value: str | None, trusted_ids: Iterable[str], from_domain: str) -> Vouched:
    """Whether the topmost Authentication-Results value, from a trusted server, vouches for
    `from_domain` (the From header's domain, lowercase)."""
    if value is None:
        return Vouched(reason="no Authentication-Results header")
    try:
        header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
    except Exception:  # noqa: BLE001 - authres raises its own and stdlib errors on bad input
        return Vouched(reason="Authentication-Results header does not parse (RFC 8601)")
    server = str(header.authserv_id or "").lower()
    if server not in {t.lower() for t in trusted_ids}:
        return Vouched(reason="Authentication-Results from an untrusted server")
    dkim = dmarc = False
    for result in header.results:
        method, verdict = str(result.method).lower(), str(result.result).lower()
        props = _properties(result)
        if method == "dmarc" and props.get("header.from") == from_domain and verdict == "fail":
            return Vouched(reason=f"dmarc={verdict} for the From domain")
        if verdict != "pass":
            continue
        if method == "dkim" and props.get("header.d") == from_domain:
            dkim = True
        elif method == "dmarc" and props.get("header.from") == from_domain:
            dmarc = True
    if not (dkim or dmarc):
        return Vouched(reason="no dkim=pass or dmarc=pass aligned with the From domain")
    return Vouched(dkim=dkim, dmarc=dmarc)
