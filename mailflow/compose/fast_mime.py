"""A small RFC 5322 / 2045 writer for mailflow's own fixed-shape messages.

Every acknowledgement and notification has the same shape: a few headers, then a
multipart/alternative with a text and an HTML part. The email package's EmailMessage
builds them through its header registry (each header parsed back into a tree and refolded),
which was a third of an intake pass over a big backlog (issue 10). This writes the same
message directly: headers folded at spaces, any header text that is not plain printable
ASCII as RFC 2047 encoded-words (UTF-8, base64), bodies as 7bit when they are ASCII with
short lines and quoted-printable otherwise, lines ending in "\\n" as `as_bytes()` writes them.

It covers only that shape: a message with attachments, an address that is not ASCII, or a
header it would have to guess about gets None, and mime.py uses the email package instead.
tests/unit/test_fast_mime.py reads both back with the stdlib parser and compares.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime, formataddr

# RFC 5322 2.1.1: lines SHOULD be at most 78 characters and MUST be at most 998.
_FOLD_AT = 78
_LONGEST = 998
# Bytes of UTF-8 per encoded-word: base64 of 42 bytes is 56 characters, the word 68.
_WORD_BYTES = 42


def _plain(value: str) -> bool:
    """Printable ASCII that a reader cannot mistake for an encoded-word."""
    return "=?" not in value and value.isascii() and value.isprintable()


def _encoded_words(value: str) -> list[str]:
    """`value` as RFC 2047 encoded-words, each whole characters of at most _WORD_BYTES."""
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        data = char.encode("utf-8", "surrogateescape")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(_word(bytes(chunk)))
            chunk.clear()
        chunk += data
    if chunk or not words:
        words.append(_word(bytes(chunk)))
    return words


def _word(data: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="


def _fold(name: str, value: str) -> str | None:
    """One header line of plain ASCII, folded before spaces; None if it cannot be (a token
    longer than a line may be)."""
    line = f"{name}: {value}"
    lines: list[str] = []
    while len(line) > _FOLD_AT:
        start = 1 if lines else len(name) + 2  # never fold right after the name
        cut = line.rfind(" ", start, _FOLD_AT + 1)
        if cut < start:
            cut = line.find(" ", _FOLD_AT + 1)
        if cut < start or not line[cut:].strip():
            break
        lines.append(line[:cut])
        line = line[cut:]  # the space stays: unfolding removes only the line break
    lines.append(line)
    if any(len(part) > _LONGEST for part in lines):
        return None
    return "\n".join(lines)


def _unstructured(name: str, value: str) -> str | None:
    """A text header (Subject): plain and folded, or as encoded-words one per line."""
    if "\r" in value or "\n" in value:
        return None  # the email package refuses these; let it say so
    if _plain(value):
        return _fold(name, value)
    return f"{name}: " + "\n ".join(_encoded_words(value))


def _identifiers(name: str, ids: Sequence[str]) -> str | None:
    """In-Reply-To or References: message ids, folded between them."""
    if not all(_plain(i) and " " not in i for i in ids):
        return None
    return _fold(name, " ".join(ids))


def _address_ok(address: str) -> bool:
    return bool(address) and _plain(address) and not any(c in address for c in ' <>,;"()\\')


def _body(text: str) -> tuple[str, bytes]:
    """(transfer encoding, body): the text's lines ending in "\\n", as the email package
    splits them, written 7bit when ASCII with lines it may carry, else quoted-printable."""
    lines = text.encode("utf-8", "surrogateescape").splitlines()
    data = b"\n".join(lines) + b"\n"
    if data.isascii() and max((len(line) for line in lines), default=0) <= _LONGEST:
        return "7bit", data
    return "quoted-printable", binascii.b2a_qp(data, istext=True)


def _boundary(*bodies: bytes) -> str:
    while True:
        boundary = "===============" + secrets.token_hex(12) + "=="
        if not any(boundary.encode("ascii") in body for body in bodies):
            return boundary


def build_fast(*, from_name: str, from_address: str, to: str, subject: str,
               reply_to: str | None, in_reply_to: str | None, references: Sequence[str],
               ticket_number: str | None, text: str, html: str, message_id: str,
               now: datetime) -> bytes | None:
    """The message's bytes, or None when its shape is not one this writer covers."""
    addresses = [from_address, to, *([reply_to] if reply_to else [])]
    if not all(_address_ok(a) for a in addresses):
        return None
    sender = formataddr((from_name, from_address))
    if "\n" in sender or "\r" in sender or len(sender) > _LONGEST - 6:
        return None
    headers = [f"From: {sender}", f"To: {to}", _unstructured("Subject", subject)]
    if reply_to:
        headers.append(f"Reply-To: {reply_to}")
    headers += [f"Date: {format_datetime(now)}", _identifiers("Message-ID", [message_id])]
    if in_reply_to:
        headers.append(_identifiers("In-Reply-To", [in_reply_to]))
    if references:
        headers.append(_identifiers("References", references))
    headers += ["Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"]
    if ticket_number:
        headers.append(_unstructured("X-Mailflow-Ticket", ticket_number))
    if any(h is None for h in headers):
        return None
    text_cte, text_body = _body(text)
    html_cte, html_body = _body(html)
    boundary = _boundary(text_body, html_body)
    head = "\n".join([*(h for h in headers if h is not None), "MIME-Version: 1.0",
                      f'Content-Type: multipart/alternative;\n boundary="{boundary}"'])
    return b"".join([
        head.encode("ascii"), b"\n\n",
        f'--{boundary}\nContent-Type: text/plain; charset="utf-8"\n'
        f"Content-Transfer-Encoding: {text_cte}\n\n".encode("ascii"), text_body,
        f'\n--{boundary}\nContent-Type: text/html; charset="utf-8"\n'
        f"Content-Transfer-Encoding: {html_cte}\n\n".encode("ascii"), html_body,
        f"\n--{boundary}--\n".encode("ascii"),
    ])
