"""UIDs as IMAP sequence sets (RFC 3501 `sequence-set`), compact and bounded in size.

Every IMAP command that carries UIDs carries them through here: runs of consecutive UIDs
become ranges (`1:500,502,510:600`), and a set of any size is split into several sets,
each at most `max_bytes` long (and, when asked, covering at most `max_uids` messages), so
that no command line exceeds what a server accepts. Dovecot refuses a line over 64 kB with
`BAD ... Too long argument`; other servers accept less, so mailflow stays far below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The longest element of a set: two 32-bit UIDs and a colon, "4294967295:4294967295".
LONGEST_ELEMENT = 21
MAX_UID = 2**32 - 1


@dataclass(frozen=True)
class UidSet:
    """One bounded sequence set: its text for the command, and the UIDs it names."""

    text: str
    uids: tuple[int, ...]


def runs(uids: Iterable[int]) -> list[tuple[int, int]]:
    """The distinct UIDs as sorted runs of consecutive numbers, (first, last) each."""
    found: list[tuple[int, int]] = []
    for uid in sorted(set(uids)):
        if not 1 <= uid <= MAX_UID:
            raise ValueError(f"not an IMAP UID: {uid}")
        if found and found[-1][1] == uid - 1:
            found[-1] = (found[-1][0], uid)
        else:
            found.append((uid, uid))
    return found


def _element(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}:{last}"


def uid_sets(uids: Iterable[int], max_bytes: int = 8192, max_uids: int | None = None
             ) -> list[UidSet]:
    """The UIDs as sets of ranges, in ascending order, each at most `max_bytes` characters
    and at most `max_uids` UIDs; no set is empty and none is returned for no UIDs.
    A `max_bytes` of LONGEST_ELEMENT or more holds any element."""
    if max_uids is not None and max_uids < 1:
        raise ValueError(f"max_uids must be at least 1, not {max_uids}")
    limit = max_uids if max_uids is not None else MAX_UID
    sets: list[UidSet] = []
    parts: list[str] = []
    size = count = 0
    members: list[tuple[int, int]] = []

    def close() -> None:
        nonlocal size, count
        if parts:
            named = tuple(u for first, last in members for u in range(first, last + 1))
            sets.append(UidSet(",".join(parts), named))
        parts.clear()
        members.clear()
        size = count = 0

    for first, last in runs(uids):
        while first <= last:
            if count == limit:
                close()
            end = min(last, first + (limit - count) - 1)
            text = _element(first, end)
            if len(text) > max_bytes:
                raise ValueError(f"max_bytes={max_bytes} cannot hold the set element {text}")
            if parts and size + 1 + len(text) > max_bytes:
                close()
                continue  # the room for UIDs is whole again: the element may grow
            parts.append(text)
            members.append((first, end))
            size += len(text) + (1 if len(parts) > 1 else 0)
            count += end - first + 1
            first = end + 1
    close()
    return sets


def parse_uid_set(text: str) -> list[int]:
    """The UIDs a sequence set names, sorted and distinct (no `*`: mailflow never sends one)."""
    found: set[int] = set()
    for element in text.split(","):
        first, _, last = element.partition(":")
        low, high = sorted((int(first), int(last or first)))
        if low < 1 or high > MAX_UID:
            raise ValueError(f"not an IMAP UID range: {element!r}")
        found.update(range(low, high + 1))
    return sorted(found)
