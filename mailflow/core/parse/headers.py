"""Header fields to one-line text, addresses and message ids, before the body is touched.

The headers carry what the intake cannot do without (who wrote, about what, in reply
to which message), so they are read on their own and a broken body cannot cost them.
Values are decoded by hand rather than by the stdlib's `policy.default`, which raises
on the malformed headers residents' phones and old gateways send.
"""

# The parser catches every exception on purpose (see mailflow.core.parse). BLE001 is on in
# the project's lint configuration but not in every lint run, hence RUF100 as well.
# ruff: noqa: BLE001, RUF100

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from typing import Any

from mailflow.core.parse.charsets import MISLABEL_PRONE, codec_for, decode_with_note, mostly_utf8
from mailflow.core.parse.model import (
    HEADER_CONTROL,
    MAX_ADDRESS_CHARS,
    MAX_HEADER_CHARS,
    MAX_HEADERS,
    MAX_RECIPIENTS,
    MAX_REFERENCES,
    Problems,
)

__all__ = [
    "Head",
    "addresses",
    "charset_hint",
    "decode_words",
    "display_name",
    "message_ids",
    "one_line",
    "read_header_items",
    "unsurrogate",
]

_SPACES = re.compile(r"\s+")
# No control characters or surrogates: ids are stored and logged, and PostgreSQL refuses NUL.
_MSGID = re.compile(r"<([^<>\s\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,500})>")
# An id is at most 500 characters in brackets: the tail of a header that holds its last
# `limit` ids (with ordinary folding between them) is at most this long per id.
_ID_CHARS = 520
_ID_HEAD_CHARS = 2000
_SURROGATES = re.compile("[\udc80-\udcff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
# An unquoted display name holding an "@", then an angle address, in one list element.
_ADDRESS_AS_NAME = re.compile(r'(?P<lead>^|,)(?P<name>[^,"<>()]*@[^,"<>()]*?)\s*<(?P<addr>[^<>,]*)>')
_ANGLE_ADDRESS = re.compile(r"<([^<>\s()\[\],;:\"@]{1,64}@[^<>\s()\[\],;:\"@]{1,255})>")
_ADDRESS_FALLBACK = re.compile(r"[^\s<>()\[\],;:\"@]{1,64}@[^\s<>()\[\],;:\"@]{1,255}")


def unsurrogate(value: str, hint: str | None) -> str:
    """A raw header with its undeclared 8-bit bytes decoded, encoded-words left as they are.

    compat32 keeps such bytes as surrogate escapes. They are usually UTF-8; otherwise
    the body's charset is the best guess, and cp1252 the last resort.
    """
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    text = mostly_utf8(data)
    if text is not None:
        return text
    codec = codec_for(hint)
    if codec is not None and codec not in MISLABEL_PRONE:
        try:
            return data.decode(codec)
        except Exception:
            pass
    return data.decode("cp1252", errors="replace")


def _word_bytes(encoding: str, payload: str) -> bytes:
    raw = payload.encode("utf-8", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(raw, header=True)
    # Tolerate what encoders get wrong: stray characters, missing padding.
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))


def decode_words(text: str, problems: Problems | None = None) -> str:
    """RFC 2047 encoded-words to text, however sloppily they were written.

    Adjacent words in one charset are joined before decoding because encoders split
    multi-byte characters across words; whitespace between words is dropped (RFC 2047).
    A word that cannot be decoded stays as it was written.
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    run = bytearray()
    run_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal run_charset
        if run_charset is not None:
            decoded, note = decode_with_note(bytes(run), run_charset)
            out.append(decoded)
            if note and problems is not None:
                problems.add(f"header: {note}")
        run.clear()
        run_charset = None

    for match in _ENCODED_WORD.finditer(text):
        between = text[pos:match.start()]
        charset, encoding, payload = match.groups()
        try:
            data = _word_bytes(encoding, payload)
        except Exception:
            data = None
        if data is None:
            flush()
            out.append(between + match.group(0))
        else:
            if between and not (between.isspace() and run_charset is not None):
                flush()
                out.append(between)
            elif run_charset is not None and charset.lower() != run_charset:
                flush()
            run_charset = charset.lower()
            run.extend(data)
        pos = match.end()
    flush()
    out.append(text[pos:])
    return "".join(out)


def one_line(text: str) -> str:
    return _SPACES.sub(" ", HEADER_CONTROL.sub(" ", text)).strip()


def _valid_address(addr: str) -> bool:
    local, at, domain = addr.rpartition("@")
    return (bool(at and local and domain) and len(addr) <= 320
            and not any(c.isspace() or c in "<>,;()\"[]" for c in addr)
            and not HEADER_CONTROL.search(addr))


def _quote_address_names(value: str) -> str:
    """`someone@host <someone@host.example.it>` with its display name quoted.

    Mail programs write a login or an address as the name; unquoted, getaddresses reads
    it as a first address and the real one as a second, so the acknowledgement went to
    the name. The address in angle brackets is the address, as for mail clients and
    DMARC, and a name that is someone else's address must not stand in for it.
    """
    return _ADDRESS_AS_NAME.sub(lambda m: f'{m["lead"]} "{m["name"].strip()}" <{m["addr"]}>', value)


def _bounded(values: list[str]) -> list[str]:
    """Header values cut to MAX_ADDRESS_CHARS in all, at an address boundary where possible."""
    kept: list[str] = []
    room = MAX_ADDRESS_CHARS
    for value in values:
        if room <= 0:
            break
        if len(value) > room:
            cut = value[:room]
            value = cut.rpartition(",")[0] or cut
        kept.append(value)
        room -= len(value)
    return kept


def addresses(values: list[str], problems: Problems,
              limit: int = MAX_RECIPIENTS) -> list[tuple[str | None, str]]:
    """(display name, lowercased address) pairs, read before decoding display names.

    Parsing the decoded text would misread a display name that decodes to "Doe, John".
    At most `limit` pairs, read from at most MAX_ADDRESS_CHARS characters, however many
    recipients the sender wrote.
    """
    bounded = _bounded(values)
    if bounded != values:
        problems.add(f"address header longer than {MAX_ADDRESS_CHARS} characters; the rest ignored")
    try:
        pairs = getaddresses([_quote_address_names(value) for value in bounded])
    except Exception:
        pairs = []
    found: list[tuple[str | None, str]] = []
    for name, addr in pairs:
        addr = one_line(addr).lower()
        if _valid_address(addr):
            display = one_line(decode_words(name, problems))
            found.append((display if display and display.lower() != addr else None, addr))
    if not found:
        for value in bounded:
            match = _ANGLE_ADDRESS.search(value[:2000]) or _ADDRESS_FALLBACK.search(value[:2000])
            if match and _valid_address(match.group(match.lastindex or 0).lower()):
                found.append((None, match.group(match.lastindex or 0).lower()))
    if len(found) > limit:
        problems.add(f"more than {limit} addresses in one header; the rest ignored")
    return found[:limit]


def display_name(values: list[str], problems: Problems) -> str | None:
    """The sender's name even when the address is missing ("From: MAILER-DAEMON")."""
    try:
        pairs = getaddresses(_bounded(values))
    except Exception:
        return None
    names = [one_line(decode_words(name, problems)) for name, _ in pairs]
    return next((name for name in names if name), None)


def message_ids(value: str | None, *, bare_means_id: bool,
                limit: int = MAX_REFERENCES) -> tuple[str, ...]:
    """Message ids in "<...>" form; ids written without brackets are accepted too.

    At most `limit`: the first (the thread's root, often the complaint itself) and the
    last ones (the messages just answered), as RFC 5322 trims a long References. Only
    the head and the tail of the value are read, so a header of 260,000 ids costs no
    more than one of fifty, and no lookup downstream ever sees more than `limit`.
    """
    if not value:
        return ()
    head, tail = value[:_ID_HEAD_CHARS], value[-limit * _ID_CHARS:]
    found = [f"<{m}>" for m in _MSGID.findall(head)][:1]
    room = limit - len(found)
    found += [f"<{m}>" for m in _MSGID.findall(tail)][-room:] if room > 0 else []
    if not found:
        for token in head.split()[:limit]:
            token = token.strip("<>,;")
            if (token and len(token) <= 500 and (bare_means_id or "@" in token)
                    and not HEADER_CONTROL.search(token)):
                found.append(f"<{token}>")
                if bare_means_id:
                    break
    return tuple(dict.fromkeys(found))


def _charset_hint(msg: Message) -> str | None:
    """The first charset declared anywhere near the top, for 8-bit bytes in headers."""
    queue: list[Message] = [msg]
    for _ in range(20):
        if not queue:
            return None
        part = queue.pop(0)
        charset = part.get_content_charset()
        if charset:
            return charset
        payload = part.get_payload()
        if isinstance(payload, list):
            queue.extend(p for p in payload[:10] if isinstance(p, Message))
    return None


@dataclass(frozen=True)
class Head:
    headers: tuple[tuple[str, str], ...]
    raw: dict[str, list[str]]


def charset_hint(msg: Message) -> str | None:
    """The charset 8-bit bytes in the headers are read in (None: none declared, or unreadable)."""
    try:
        return _charset_hint(msg)
    except Exception:
        return None


def read_header_items(items: Sequence[tuple[str, Any]], hint: str | None, problems: Problems) -> Head:
    """What the header block says, from its raw (name, value) items and `charset_hint`."""
    if len(items) > MAX_HEADERS:
        problems.add(f"more than {MAX_HEADERS} headers; the rest ignored")
        items = items[:MAX_HEADERS]
    headers: list[tuple[str, str]] = []
    raw: dict[str, list[str]] = {}
    for key, value in items:
        try:
            name = one_line(unsurrogate(str(key), None)).lower()
            text = unsurrogate(value if isinstance(value, str) else str(value), hint)
            raw.setdefault(name, []).append(text)
            # Decoding only shrinks text, and a real header's encoded-words are at most about
            # four times longer than what they say: 8x the bound keeps every real one whole.
            decoded = one_line(decode_words(text[:MAX_HEADER_CHARS * 8], problems))
            if len(decoded) > MAX_HEADER_CHARS or len(text) > MAX_HEADER_CHARS * 8:
                problems.add(f"header {name[:40]} truncated to {MAX_HEADER_CHARS} characters")
                decoded = decoded[:MAX_HEADER_CHARS]
            headers.append((name, decoded))
        except Exception as exc:
            problems.add(f"a header was unreadable: {type(exc).__name__}")
    return Head(tuple(headers), raw)
