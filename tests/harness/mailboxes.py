"""Reading a mailbox back for assertions, the same way on Dovecot and on pymap.

Tests check what mailflow left on the server (flags, bytes, INTERNALDATE) with a
client of their own, separate from mailflow's IMAP code, so a bug there cannot hide
itself; the parsing is done by hand here for the same reason.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mailflow.demo.loopback import require_loopback


@dataclass(frozen=True)
class StoredMessage:
    """One message as the server stores it.

    `flags` is sorted and leaves out `\\Recent`, which depends on which session
    looked first, not on anything mailflow did.
    """

    uid: int
    flags: tuple[str, ...]
    raw: bytes
    internaldate: datetime


_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_DATE_TIME = re.compile(
    r"\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$")
_SEQ = re.compile(rb"^(\d+) \(")
_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')


def parse_internaldate(text: str) -> datetime:
    """RFC 3501 date-time ('27-Nov-2026 03:00:00 +0000', the day may be space-padded).

    Parsed by hand rather than with strptime's %b, which follows the locale, and
    apart from mailflow's own parser so that the harness does not share its bugs.
    """
    match = _DATE_TIME.match(text)
    if match is None:
        raise ValueError(f"not an IMAP date-time: {text!r}")
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    return datetime(int(year), _MONTHS[month.capitalize()], int(day), int(hour), int(minute),
                    int(second), tzinfo=timezone(offset))


@dataclass
class _Partial:
    """What one message's FETCH responses said so far."""

    uid: int | None = None
    flags: tuple[str, ...] = ()
    raw: bytes | None = None
    internaldate: datetime | None = None

    def merge(self, meta: bytes) -> None:
        if (uid := _UID.search(meta)) is not None:
            self.uid = int(uid.group(1))
        if (flags := _FLAGS.search(meta)) is not None:
            self.flags = tuple(sorted(flag for flag in flags.group(1).decode("ascii").split()
                                      if flag != "\\Recent"))
        if (date := _INTERNALDATE.search(meta)) is not None:
            self.internaldate = parse_internaldate(date.group(1).decode("ascii"))


def parse_fetch(data: Sequence[object]) -> list[StoredMessage]:
    """Read imaplib's FETCH answer: (head, literal) tuples, each followed by its tail.

    A response may carry UID or FLAGS after the literal (in the tail), and a server
    may add unsolicited FETCH lines of its own (pymap's FLAGS updates); all are
    merged by sequence number.
    """
    partials: dict[int, _Partial] = {}
    current: _Partial | None = None  # the response whose tail comes next
    for entry in data:
        if isinstance(entry, tuple):
            head, literal = entry
            seq = _SEQ.match(head)
            if seq is None:
                raise RuntimeError(f"unexpected FETCH response: {head!r}")
            current = partials.setdefault(int(seq.group(1)), _Partial())
            current.merge(head)
            if b"BODY[]" in head:
                current.raw = bytes(literal)
        elif isinstance(entry, bytes):
            seq = _SEQ.match(entry)
            if current is not None and seq is None:
                current.merge(entry)
            elif seq is not None:
                partials.setdefault(int(seq.group(1)), _Partial()).merge(entry)
            current = None
    found = []
    for seq, part in partials.items():
        if part.uid is None or part.raw is None or part.internaldate is None:
            raise RuntimeError(f"FETCH answer for message {seq} is incomplete: {part!r}")
        found.append(StoredMessage(part.uid, part.flags, part.raw, part.internaldate))
    return sorted(found, key=lambda message: message.uid)


def fetch_all(host: str, port: int, user: str, password: str,
              folder: str = "INBOX") -> list[StoredMessage]:
    """Every message in `folder`, lowest UID first, read without changing anything.

    EXAMINE (read-only) plus BODY.PEEK[], so no `\\Seen` is set and no `\\Recent`
    used up; works the same on Dovecot and pymap.
    """
    client = imaplib.IMAP4(require_loopback(host), port, timeout=30)
    try:
        client.login(user, password)
        typ, data = client.select(folder, readonly=True)
        if typ != "OK":
            raise RuntimeError(f"cannot examine {folder} of {user}: {data!r}")
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        if typ != "OK":
            raise RuntimeError(f"UID FETCH in {folder} of {user} failed: {data!r}")
        return parse_fetch(data)
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()
