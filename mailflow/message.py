"""Raw mail bytes -> plain data, for any input: malformed, huge, hostile or mislabelled.

The parser never raises. Whatever goes wrong is recorded in `problems` and the
rest of the message is still returned, because a complaint must never be lost to
a parsing bug. Headers are decoded by hand from compat32 parsing, which is several
times faster than `policy.default` and does not raise on broken address headers.
"""

from __future__ import annotations

import codecs
import email
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr

import charset_normalizer

_MAX_PARTS = 200
_MAX_DEPTH = 20
_MAX_HTML_BYTES = 2 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MSGID = re.compile(r"<[^<>\s]{1,500}>")
_SPACES = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_LATIN_LABELS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
                 "iso8859-1", "l1"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool


@dataclass(frozen=True)
class ParsedMessage:
    subject: str
    from_addr: str | None
    from_name: str | None
    reply_to: str | None
    to_addrs: tuple[str, ...]
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date_header: str | None
    headers: tuple[tuple[str, str], ...]
    content_type: str
    text: str
    html_only: bool
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


# -- charsets --------------------------------------------------------------------------------


def _known(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text, trusting the declared charset only as far as the bytes agree with it.

    Phones often label UTF-8 as latin-1; latin-1 decodes anything, so valid UTF-8
    with non-ASCII bytes is preferred over such a label.
    """
    codec = _known(declared)
    if codec is not None and codec in {_known(c) for c in _LATIN_LABELS} and not data.isascii():
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding, errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")


def decode_header_value(value: object) -> str:
    """RFC 2047 words in any charset, and raw 8-bit bytes, to one clean line."""
    if value is None:
        return ""
    # compat32 hands undeclared 8-bit header bytes over as a Header in charset unknown-8bit;
    # str() of it would turn them into replacement characters.
    source = value if isinstance(value, Header) else str(value)
    try:
        pieces = decode_header(source)
    except Exception:  # noqa: BLE001 - malformed encoded-words: keep the raw text
        pieces = [(str(value), None)]
    out = []
    for chunk, charset in pieces:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(_unsurrogate(chunk))
    return _SPACES.sub(" ", _CONTROL.sub(" ", "".join(out))).strip()


def _unsurrogate(text: str) -> str:
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)


# -- headers ---------------------------------------------------------------------------------


def _address(value: str) -> tuple[str | None, str | None]:
    name, addr = parseaddr(value)
    addr = addr.strip().lower()
    if "@" not in addr or any(c in addr for c in " \r\n<>,;"):
        return (name or None), None
    return (name or None), addr


def _message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_MSGID.findall(value or "")))


def _headers(msg: Message, problems: list[str]) -> tuple[tuple[str, str], ...]:
    found = []
    try:
        items = msg.items()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"headers unreadable: {type(exc).__name__}")
        return ()
    for key, value in items:
        try:
            found.append((str(key).lower(), decode_header_value(value)))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"header {key!s:.40} undecodable: {type(exc).__name__}")
    return tuple(found)


# -- body ------------------------------------------------------------------------------------


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64 or quoted-printable
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def html_to_text(html: str, problems: list[str]) -> str:
    """Readable text from HTML; a hostile document degrades to tag stripping, never a crash."""
    if len(html) > _MAX_HTML_BYTES:
        problems.append("html truncated before conversion")
        html = html[:_MAX_HTML_BYTES]
    try:
        from inscriptis import get_text

        return get_text(html)
    except (RecursionError, Exception) as exc:  # noqa: BLE001
        problems.append(f"html conversion fell back to tag stripping: {type(exc).__name__}")
        import html as htmllib

        stripped = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
        stripped = re.sub(r"(?s)<[^>]{0,2000}>", " ", stripped)
        return htmllib.unescape(stripped)


def _clean_text(text: str, limit: int, problems: list[str]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text.replace("\t", "    "))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUNS.sub("\n\n", text).strip()
    if len(text) > limit:
        problems.append(f"text truncated to {limit} characters")
        text = text[:limit]
    return text


def _walk(msg: Message, problems: list[str]) -> list[Message]:
    """Leaf parts, bounded in depth and count against endless nesting."""
    leaves: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > _MAX_PARTS:
            problems.append(f"more than {_MAX_PARTS} MIME parts; the rest ignored")
            break
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            if depth >= _MAX_DEPTH:
                problems.append(f"MIME nesting deeper than {_MAX_DEPTH}; inner parts ignored")
                continue
            stack.extend((child, depth + 1) for child in reversed(payload))
        else:
            leaves.append(part)
    return leaves


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", base)).strip().lstrip(".").strip()
    if not base:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        base = f"lampiran-{index}{extension}"
    if len(base) > 120:
        stem, dot, extension = base.rpartition(".")
        base = (stem[: 110] + dot + extension[:9]) if dot and len(extension) < 10 else base[:120]
    return base


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        return None
    return decode_header_value(name) if name else None


@dataclass
class _Body:
    plain: list[str]
    html: list[str]
    attachments: list[Attachment]


def _collect(leaves: list[Message], limits: tuple[int, int], problems: list[str]) -> _Body:
    max_bytes, max_count = limits
    body = _Body([], [], [])
    for index, part in enumerate(leaves, start=1):
        ctype, disposition, name = _content_type(part), _disposition(part), _filename(part)
        is_text = ctype in ("text/plain", "text/html")
        if is_text and disposition != "attachment" and not (name and disposition == "inline"):
            try:
                charset = part.get_content_charset()
            except Exception:  # noqa: BLE001
                charset = None
            text = decode_bytes(_payload_bytes(part), charset)
            (body.plain if ctype == "text/plain" else body.html).append(text)
            continue
        if part.is_multipart() or ctype.startswith("multipart/"):
            problems.append(f"{ctype} part without a usable boundary; kept as text")
            body.plain.append(decode_bytes(_payload_bytes(part), None))
            continue
        if ctype in ("message/delivery-status", "message/rfc822-headers"):
            continue
        data = _payload_bytes(part)
        if len(body.attachments) >= max_count:
            problems.append(f"attachment {index} skipped: more than {max_count} attachments")
        elif len(data) > max_bytes:
            problems.append(f"attachment {index} skipped: {len(data)} bytes over the {max_bytes} limit")
        elif data:
            body.attachments.append(Attachment(safe_filename(name, ctype, index), ctype, data,
                                               disposition == "inline"))
    return body


_HEADER_LINE = re.compile(rb"^[!-9;-~]+:|^[ \t]")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n|\r\r")


def repair_header_block(raw: bytes) -> bytes | None:
    """Drop lines in the header block that are not headers, so later headers are not lost.

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


def parse_message(raw: bytes, *, max_text_chars: int = 100_000,
                  max_attachment_bytes: int = 10 * 1024 * 1024,
                  max_attachments: int = 20) -> ParsedMessage:
    problems: list[str] = []
    try:
        msg = email.message_from_bytes(raw)
        if any(type(d).__name__.startswith("MissingHeaderBodySeparator") for d in msg.defects):
            repaired = repair_header_block(raw)
            if repaired is not None:
                problems.append("invalid header line dropped")
                msg = email.message_from_bytes(repaired)
    except Exception as exc:  # noqa: BLE001 - stdlib parsing is lenient, but never trust it
        problems.append(f"unparseable message: {type(exc).__name__}")
        msg = email.message_from_string("")
    for defect in getattr(msg, "defects", [])[:10]:
        problems.append(f"defect: {type(defect).__name__}")
    headers = _headers(msg, problems)
    first = {}
    for key, value in headers:
        first.setdefault(key, value)
    from_name, from_addr = _address(first.get("from", ""))
    _, reply_to = _address(first.get("reply-to", ""))
    to_addrs = tuple(a.lower() for _, a in getaddresses([first.get("to", "")]) if "@" in a)
    try:
        body = _collect(_walk(msg, problems), (max_attachment_bytes, max_attachments), problems)
    except (RecursionError, Exception) as exc:  # noqa: BLE001
        problems.append(f"body unreadable: {type(exc).__name__}")
        body = _Body([], [], [])
    html_only = not any(t.strip() for t in body.plain) and bool(body.html)
    if html_only:
        text = "\n\n".join(html_to_text(h, problems) for h in body.html)
    else:
        text = "\n\n".join(t for t in body.plain if t.strip())
    return ParsedMessage(
        subject=first.get("subject", ""),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to,
        to_addrs=to_addrs,
        message_id=next(iter(_message_ids(first.get("message-id"))), None),
        in_reply_to=_message_ids(first.get("in-reply-to")),
        references=_message_ids(first.get("references")),
        date_header=first.get("date"),
        headers=headers,
        content_type=_content_type(msg),
        text=_clean_text(text, max_text_chars, problems),
        html_only=html_only,
        attachments=tuple(body.attachments),
        problems=tuple(problems),
    )
