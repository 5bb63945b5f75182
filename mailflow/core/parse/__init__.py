"""Raw mail bytes -> plain data, for any input: malformed, huge, hostile or mislabelled.

A complaint must never be lost to a parsing bug, so nothing here raises: whatever
goes wrong is recorded in `problems` and the rest of the message is still returned.
The intake logs those notes, so they name parts, charsets and limits but never carry
an address, a subject or a file name.

Parsing uses the stdlib's compat32 policy and decodes headers by hand. That is several
times faster than `policy.default`, and it does not raise where `policy.default` does:
on address headers with CR/LF in them, on unknown charsets in `get_content()`, and on
multiparts whose boundary is never found (kept as one string payload). Residents'
phones mislabel charsets, so a declared charset is trusted only as far as the bytes
agree with it.

This module is the entry point: it repairs a garbled header block, then hands the
message to the stages in `headers` and `body` (which decode through `charsets`), each
behind its own guard. `model` holds the result types and the bounds they all keep.
"""

# The parser catches every exception on purpose (see above). BLE001 is on in the
# project's lint configuration but not in every lint run, hence RUF100 as well.
# ruff: noqa: BLE001, RUF100

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import Message
from functools import lru_cache
from typing import Any

from mailflow.core.parse.body import Block, Walker, body_text, clean_text, content_type_of, safe_filename
from mailflow.core.parse.charsets import decode_bytes
from mailflow.core.parse.headers import (
    Head,
    addresses,
    charset_hint,
    display_name,
    message_ids,
    read_header_items,
)
from mailflow.core.parse.model import MAX_PROBLEMS, Attachment, ParsedMessage, Problems, Spilled
from mailflow.core.parse.spill import SpillUnresolved

__all__ = ["Attachment", "ParsedMessage", "SpillUnresolved", "Spilled", "decode_bytes", "parse_head",
           "parse_message", "safe_filename"]

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:|^[ \t]")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n|\r\r")


def _repair_header_block(raw: bytes) -> bytes | None:
    """The message without the lines of its header block that are not headers.

    Python ends the headers at the first invalid line and reads the rest (Subject and
    From included) as body; a single garbled line must not hide a complaint's subject.
    """
    blank = _BLANK_LINE.search(raw)
    end = blank.start() if blank else len(raw)
    lines = raw[:end].splitlines(keepends=True)
    kept = [line for line in lines if _HEADER_LINE.match(line)]
    if len(kept) == len(lines):
        return None
    return b"".join(kept) + raw[end:]


# The message is fed to the parser in pieces, as BytesParser.parse does from a file:
# parsebytes decodes the whole message into one string and copies it again, so a message
# with a 25 MB attachment cost 260 MB to parse; fed in pieces, 90 MB (issue 10).
_FEED_PIECE = 64 * 1024


def _feed(raw: bytes, headersonly: bool) -> Message:
    parser = BytesFeedParser()
    if headersonly:
        parser._set_headersonly()  # type: ignore[attr-defined]  # as BytesParser does
    view = memoryview(raw)
    for start in range(0, len(view), _FEED_PIECE):
        parser.feed(bytes(view[start:start + _FEED_PIECE]))
    return parser.close()


def _parse_bytes(raw: bytes, problems: Problems, *, headersonly: bool = False) -> Message:
    msg = _feed(raw, headersonly)
    if any(type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects):
        repaired = _repair_header_block(raw)
        if repaired is not None:
            problems.add("invalid header line dropped")
            msg = _feed(repaired, headersonly)
    return msg


def _defects(parts: Iterable[Message], problems: Problems) -> None:
    for part in parts:
        for defect in getattr(part, "defects", ()):
            problems.add(f"defect: {type(defect).__name__}")


def _first(raw: dict[str, list[str]], name: str) -> str | None:
    values = raw.get(name)
    return values[0] if values else None


@dataclass
class _Senders:
    """Who wrote and where replies go; what was read before a failure is kept."""

    from_addr: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    to_addrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Body:
    text: str
    html_only: bool
    attachments: tuple[Attachment, ...]


_NO_BODY = _Body("", False, ())


def _message(raw: bytes, problems: Problems) -> Message:
    """The parsed message; its top headers over an unsplit body when the MIME tree defeats
    the parser (1,000 nested multiparts exhaust its recursion); an empty one only when
    even the header block does.

    The top headers alone (subject, sender, message ids) decide whether a message is a
    complaint, so losing them to a broken tree would silently drop the complaint.
    """
    try:
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
        if b"\r\r\n" in data:
            # CRLF copied in text mode: read as one line end, or every header line is followed
            # by a blank one and the headers end after the first (the Subject is lost).
            problems.add("doubled CR in line ends")
            data = data.replace(b"\r\r\n", b"\r\n")
        return _parse_bytes(data, problems)
    except Exception as exc:
        problems.add(f"MIME structure unparseable ({type(exc).__name__}); body read as plain text")
    try:
        return _parse_bytes(data, problems, headersonly=True)
    except Exception as exc:
        problems.add(f"unparseable message: {type(exc).__name__}")
        return Message()


# An intake pass reads a header block twice: alone, to decide whether the message is wanted
# (runners/intake.py), then with the body. What it says depends only on its raw items and
# the charset hint, so the second reading is the first one's, kept here for a while: at most
# _HEAD_MEMO blocks of at most _HEAD_MEMO_CHARS characters (a chunk of headers is 200).
_HEAD_MEMO = 256
_HEAD_MEMO_CHARS = 16 * 1024


def _head_and_senders(msg: Message, problems: Problems) -> tuple[Head, _Senders]:
    items = list(msg.raw_items())
    hint = charset_hint(msg)
    if (all(isinstance(k, str) and isinstance(v, str) for k, v in items)
            and sum(len(k) + len(v) for k, v in items) <= _HEAD_MEMO_CHARS):
        head, senders, notes = _read_head(hint, tuple(items))
        if len(notes) < MAX_PROBLEMS:  # replayed here, they are what direct reading adds
            for note in notes:
                problems.add(note)
            return head, senders
    head = _head(items, hint, problems)
    return head, _senders(head.raw, problems)


@lru_cache(maxsize=_HEAD_MEMO)
def _read_head(hint: str | None, items: tuple[tuple[str, str], ...]
               ) -> tuple[Head, _Senders, tuple[str, ...]]:
    notes = Problems()
    head = _head(items, hint, notes)
    return head, _senders(head.raw, notes), tuple(notes)


def _head(items: Sequence[tuple[str, Any]], hint: str | None, problems: Problems) -> Head:
    try:
        return read_header_items(items, hint, problems)
    except Exception as exc:
        problems.add(f"headers unreadable: {type(exc).__name__}")
        return Head((), {})


def _senders(raw: dict[str, list[str]], problems: Problems) -> _Senders:
    found = _Senders()
    try:
        senders = addresses(raw.get("from", [])[:1], problems)
        if senders:
            found.from_name, found.from_addr = senders[0]
        else:
            found.from_name = display_name(raw.get("from", [])[:1], problems)
        replies = addresses(raw.get("reply-to", [])[:1], problems)
        found.reply_to = replies[0][1] if replies else None
        found.to_addrs = tuple(dict.fromkeys(a for _, a in addresses(raw.get("to", []), problems)))
    except Exception as exc:
        problems.add(f"addresses unreadable: {type(exc).__name__}")
    return found


def _body(msg: Message, problems: Problems, *, max_text_chars: int, max_attachment_bytes: int,
          max_attachments: int, spills: Mapping[str, Spilled]) -> _Body:
    """The text and the files; a walk that breaks off keeps what it had found until then."""
    walker = Walker(max_attachment_bytes, max_attachments, problems, spills=spills)
    blocks: list[Block] = []
    try:
        walker.visit(msg, 0, blocks)
    except (RecursionError, Exception) as exc:
        problems.add(f"body unreadable: {type(exc).__name__}")
    try:
        _defects(walker.visited or [msg], problems)
        text, html_only = body_text(blocks, problems)
        text = clean_text(text, max_text_chars, problems)
    except Exception as exc:
        problems.add(f"body text unreadable: {type(exc).__name__}")
        text, html_only = "", False
    if len(walker.resolved) != len(spills):
        raise SpillUnresolved(f"{len(spills) - len(walker.resolved)} of {len(spills)} spilled "
                              "runs are not whole base64 attachments")
    return _Body(text, html_only, tuple(walker.attachments))


def parse_head(raw: bytes) -> ParsedMessage:
    """A header block (IMAP's BODY.PEEK[HEADER]) as a message without a body: its text is
    empty and its body is not walked. A header block has no body to read, and walking the
    nothing after it cost a quarter of parsing it (the intake reads every new message's)."""
    return _parsed(raw, None)


def parse_message(raw: bytes, *, max_text_chars: int = 100_000,
                  max_attachment_bytes: int = 10 * 1024 * 1024,
                  max_attachments: int = 20,
                  spills: Mapping[str, Spilled] | None = None) -> ParsedMessage:
    """Everything the intake needs from one message, whatever the bytes are.

    Each stage has its own guard, so that a broken body still leaves the headers (and
    with them the sender and the subject) and broken headers still leave the body.
    `spills` are the files `raw`'s long base64 runs went to (core/parse/spill.py); if one of
    them is not a whole attachment, SpillUnresolved says to parse the whole message instead.
    """
    return _parsed(raw, functools.partial(
        _body, max_text_chars=max_text_chars, max_attachment_bytes=max_attachment_bytes,
        max_attachments=max_attachments, spills=spills or {}))


def _parsed(raw: bytes, read_body: Callable[[Message, Problems], _Body] | None) -> ParsedMessage:
    problems = Problems()
    msg = _message(raw, problems)
    head, senders = _head_and_senders(msg, problems)
    first: dict[str, str] = {}
    for key, value in head.headers:
        first.setdefault(key, value)
    body = _NO_BODY if read_body is None else read_body(msg, problems)
    own_ids = message_ids(_first(head.raw, "message-id"), bare_means_id=True)
    return ParsedMessage(
        subject=first.get("subject", ""),
        from_addr=senders.from_addr,
        from_name=senders.from_name,
        reply_to=senders.reply_to,
        to_addrs=senders.to_addrs,
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=message_ids(_first(head.raw, "in-reply-to"), bare_means_id=False),
        references=message_ids(_first(head.raw, "references"), bare_means_id=False),
        date_header=first.get("date") or None,
        headers=head.headers,
        content_type=content_type_of(msg),
        text=body.text,
        html_only=body.html_only,
        attachments=body.attachments,
        problems=tuple(problems),
    )
