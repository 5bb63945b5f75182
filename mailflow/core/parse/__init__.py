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
"""

# The parser catches every exception on purpose (see above). BLE001 is on in the
# project's lint configuration but not in every lint run, hence RUF100 as well.
# ruff: noqa: BLE001, RUF100

from __future__ import annotations

import base64
import binascii
import codecs
import email
import html as htmllib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

import charset_normalizer
from inscriptis import get_text as inscriptis_text

__all__ = ["Attachment", "ParsedMessage", "decode_bytes", "parse_message", "safe_filename"]

# Bounds against mail built to exhaust time, memory or the stack.
_MAX_PARTS = 100
_MAX_DEPTH = 20
_MAX_HEADERS = 1000
_MAX_HEADER_CHARS = 20_000
_MAX_HTML_CHARS = 2_000_000
_MAX_PROBLEMS = 50
# charset_normalizer guesses wildly on a few bytes (b"caf\xe9" comes out as UTF-16),
# and needs no more than a sample of a long text.
_MIN_DETECT_BYTES = 64
_MAX_DETECT_BYTES = 200_000
_MAX_FILENAME = 120

_HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_SPACES = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
_ADDRESS_FALLBACK = re.compile(r"[^\s<>()\[\],;:\"@]{1,64}@[^\s<>()\[\],;:\"@]{1,255}")
_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\ud800-\udfff]")


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


class _Problems(list[str]):
    """Notes without repeats and with a cap, so a hostile message cannot flood the log."""

    def add(self, note: str) -> None:
        if note in self:
            return
        if len(self) < _MAX_PROBLEMS:
            self.append(note)
        elif len(self) == _MAX_PROBLEMS:
            self.append("further problems omitted")


# -- charsets --------------------------------------------------------------------------------

# Labels seen in real mail that Python does not know, and labels whose superset is what
# senders actually use (Outlook writes gb2312 and means GBK, ks_c_5601 and means cp949).
_CHARSET_ALIASES = {
    "x-sjis": "cp932", "shift_jis": "cp932", "sjis": "cp932", "x-euc-jp": "euc_jp",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "iso-8859-8-i": "iso8859-8", "x-mac-roman": "mac-roman", "utf8": "utf-8",
}
_MISLABEL_PRONE = frozenset(codecs.lookup(c).name for c in ("ascii", "latin-1", "cp1252"))
_LATIN = frozenset(codecs.lookup(c).name for c in ("latin-1", "cp1252"))


def _label(declared: str) -> str:
    """A charset label safe to put in a problem note."""
    return _HEADER_CONTROL.sub("?", declared.strip())[:40]


def _codec(declared: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it is unknown or not text."""
    if not declared:
        return None
    label = declared.strip().strip("\"'").split("*", 1)[0].strip().lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    # "base64", "zlib" or "rot13" are codecs too, but not charsets.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few broken bytes (cut by a gateway, one stray latin-1 byte).

    Replacing a handful of bytes keeps the rest readable, where any single-byte
    charset would turn every non-ASCII character of it into mojibake.
    """
    text = data.decode("utf-8", "surrogateescape")
    broken = len(_ESCAPED_BYTE.findall(text))
    valid = len(_NON_ASCII.findall(text)) - broken
    if valid and broken * 4 <= valid:
        return data.decode("utf-8", "replace")
    return None


def _detect(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _mostly_utf8(data)
    if text is not None:
        return text
    if len(data) >= _MIN_DETECT_BYTES:
        try:
            best = charset_normalizer.from_bytes(data[:_MAX_DETECT_BYTES]).best()
            encoding = best.encoding if best is not None else None
            # A UTF-16/32 guess without a byte order mark is always wrong for mail text.
            if encoding and not encoding.startswith(("utf_16", "utf_32")):
                return data.decode(encoding, errors="replace")
        except Exception:
            pass
    return data.decode("cp1252", errors="replace")


def _decode(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text and, when the declared charset could not be used as it is, a note saying why."""
    codec = _codec(declared)
    if codec in _MISLABEL_PRONE and not data.isascii():
        # Phones label UTF-8 as latin-1 or ASCII; latin-1 decodes any bytes, so valid
        # UTF-8 with non-ASCII sequences wins over such a label.
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
        if codec in _LATIN:
            # As browsers do: bytes 0x80-0x9f in "latin-1" text are cp1252 punctuation.
            try:
                return data.decode("cp1252"), None
            except UnicodeDecodeError:
                return data.decode("latin-1"), None
    if codec is not None and codec.startswith(("utf-16", "utf-32")) and b"\x00" not in data:
        # Any even number of ASCII bytes "decodes" as UTF-16, into CJK nonsense.
        return _detect(data), f"text not valid in declared charset {_label(declared or '')}"
    if codec is not None:
        try:
            return data.decode(codec), None
        except Exception:
            return _detect(data), f"text not valid in declared charset {_label(declared or '')}"
    if declared and declared.strip():
        return _detect(data), f"unknown charset {_label(declared)}"
    return _detect(data), None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text, trusting the declared charset only as far as the bytes agree with it.

    Detection order when the label is unknown or wrong: strict UTF-8 (most mail today),
    charset_normalizer (only on enough bytes to judge), then cp1252 with replacement,
    which never fails.
    """
    try:
        return _decode(bytes(data), declared)[0]
    except Exception:
        return bytes(data).decode("latin-1")


# -- headers ---------------------------------------------------------------------------------


def _unsurrogate(value: str, hint: str | None) -> str:
    """A raw header with its undeclared 8-bit bytes decoded, encoded-words left as they are.

    compat32 keeps such bytes as surrogate escapes. They are usually UTF-8; otherwise
    the body's charset is the best guess, and cp1252 the last resort.
    """
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    text = _mostly_utf8(data)
    if text is not None:
        return text
    codec = _codec(hint)
    if codec is not None and codec not in _MISLABEL_PRONE:
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


def _decode_words(text: str, problems: _Problems | None = None) -> str:
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
            decoded, note = _decode(bytes(run), run_charset)
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


def _one_line(text: str) -> str:
    return _SPACES.sub(" ", _HEADER_CONTROL.sub(" ", text)).strip()


def _valid_address(addr: str) -> bool:
    local, at, domain = addr.rpartition("@")
    return (bool(at and local and domain) and len(addr) <= 320
            and not any(c.isspace() or c in "<>,;()\"[]" for c in addr))


def _addresses(values: list[str], problems: _Problems) -> list[tuple[str | None, str]]:
    """(display name, lowercased address) pairs, read before decoding display names.

    Parsing the decoded text would misread a display name that decodes to "Doe, John".
    """
    try:
        pairs = getaddresses(values)
    except Exception:
        pairs = []
    found: list[tuple[str | None, str]] = []
    for name, addr in pairs:
        addr = _one_line(addr).lower()
        if _valid_address(addr):
            display = _one_line(_decode_words(name, problems))
            found.append((display if display and display.lower() != addr else None, addr))
    if not found:
        for value in values:
            match = _ADDRESS_FALLBACK.search(value[:2000])
            if match and _valid_address(match.group(0).lower()):
                found.append((None, match.group(0).lower()))
    return found


def _display_name(values: list[str], problems: _Problems) -> str | None:
    """The sender's name even when the address is missing ("From: MAILER-DAEMON")."""
    try:
        pairs = getaddresses(values)
    except Exception:
        return None
    names = [_one_line(_decode_words(name, problems)) for name, _ in pairs]
    return next((name for name in names if name), None)


def _message_ids(value: str | None, *, bare_means_id: bool) -> tuple[str, ...]:
    """Message ids in "<...>" form; ids written without brackets are accepted too."""
    if not value:
        return ()
    found = [f"<{m}>" for m in _MSGID.findall(value)]
    if not found:
        for token in value.split():
            token = token.strip("<>,;")
            if token and len(token) <= 500 and (bare_means_id or "@" in token):
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
class _Head:
    headers: tuple[tuple[str, str], ...]
    raw: dict[str, list[str]]


def _read_headers(msg: Message, problems: _Problems) -> _Head:
    try:
        hint = _charset_hint(msg)
    except Exception:
        hint = None
    items = list(msg.raw_items())
    if len(items) > _MAX_HEADERS:
        problems.add(f"more than {_MAX_HEADERS} headers; the rest ignored")
        items = items[:_MAX_HEADERS]
    headers: list[tuple[str, str]] = []
    raw: dict[str, list[str]] = {}
    for key, value in items:
        try:
            name = _one_line(_unsurrogate(str(key), None)).lower()
            text = _unsurrogate(value if isinstance(value, str) else str(value), hint)
            raw.setdefault(name, []).append(text)
            decoded = _one_line(_decode_words(text, problems))
            if len(decoded) > _MAX_HEADER_CHARS:
                problems.add(f"header {name[:40]} truncated to {_MAX_HEADER_CHARS} characters")
                decoded = decoded[:_MAX_HEADER_CHARS]
            headers.append((name, decoded))
        except Exception as exc:
            problems.add(f"a header was unreadable: {type(exc).__name__}")
    return _Head(tuple(headers), raw)


# -- body ------------------------------------------------------------------------------------


def _payload_bytes(part: Message, problems: _Problems) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        problems.add(f"transfer encoding not decodable: {type(exc).__name__}")
        data = None
    if isinstance(data, bytes):
        return data
    try:
        raw = part.get_payload()
    except Exception:
        return b""
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _strip_tags(html: str) -> str:
    """Text from HTML without a parser: the fallback for documents that defeat one.

    Every pattern here is linear, because this runs on exactly the hostile input.
    """
    lower = html.lower()
    kept: list[str] = []
    pos = 0
    for match in re.finditer(r"<(script|style)\b", lower):
        if match.start() < pos:
            continue
        kept.append(html[pos:match.start()])
        end = lower.find(f"</{match.group(1)}", match.end())
        if end < 0:
            pos = len(html)
            break
        pos = end + 2 + len(match.group(1))
    kept.append(html[pos:])
    text = "".join(kept)
    text = re.sub(r"(?i)<(?:br|/p|/div|/tr|/li|/h[1-6])\b[^<>]*>", "\n", text)
    text = re.sub(r"<[^<>]*>", " ", text)
    return htmllib.unescape(text)


def _html_to_text(html: str, problems: _Problems) -> str:
    """Readable text from HTML; a hostile document degrades to tag stripping, never a crash."""
    if len(html) > _MAX_HTML_CHARS:
        problems.add(f"html truncated to {_MAX_HTML_CHARS} characters before conversion")
        html = html[:_MAX_HTML_CHARS]
    # lxml refuses a str that still declares its byte encoding.
    html = re.sub(r"^\s*<\?xml[^<>]*\?>", "", html)
    try:
        return inscriptis_text(html)
    except (RecursionError, Exception) as exc:
        problems.add(f"html conversion fell back to tag stripping: {type(exc).__name__}")
        return _strip_tags(html)


def _clean_text(text: str, limit: int, problems: _Problems) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TEXT_CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUNS.sub("\n\n", text).strip()
    if len(text) > limit:
        problems.add(f"text truncated to {limit} characters")
        text = text[:limit]
    return text


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A name that is safe to show and to store under: no path, no control characters.

    The sender chooses the name, so it is treated as hostile: only the last path element
    is kept, characters that are special on common file systems become "_", leading dots
    go (no hidden files, no ".."), and the length is capped keeping the extension.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", base))
    base = base.strip().lstrip(". ").rstrip()
    if not base:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        base = f"lampiran-{index}{extension}"
    if len(base) > _MAX_FILENAME:
        stem, dot, extension = base.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            base = stem[: _MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            base = base[:_MAX_FILENAME]
    return base


def _content_type(part: Message) -> str:
    try:
        ctype = part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
    return ctype if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", ctype) else (
        "application/octet-stream")


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: Message, problems: _Problems) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not isinstance(name, str) or not name:
        return None
    # RFC 2231 is decoded by get_filename(); RFC 2047 in names is wrong but common.
    return _one_line(_decode_words(_unsurrogate(name, None), problems)) or None


# Report machinery, not something a resident sent: DSN fields and returned headers.
_SKIPPED_TYPES = frozenset({"message/delivery-status", "text/rfc822-headers",
                            "message/rfc822-headers"})


@dataclass
class _Block:
    text: str
    html: bool


@dataclass
class _Walker:
    """Collects body text and attachments, bounded in depth and in the number of parts."""

    max_bytes: int
    max_count: int
    problems: _Problems
    attachments: list[Attachment] = field(default_factory=list)
    visited: list[Message] = field(default_factory=list)

    def visit(self, part: Message, depth: int, blocks: list[_Block]) -> None:
        if len(self.visited) >= _MAX_PARTS:
            self.problems.add(f"more than {_MAX_PARTS} MIME parts; the rest ignored")
            return
        self.visited.append(part)
        number = len(self.visited)
        try:
            ctype = _content_type(part)
            payload = part.get_payload()
            if not isinstance(payload, list):
                self.leaf(part, ctype, number, blocks)
            elif ctype in _SKIPPED_TYPES:
                pass
            elif depth >= _MAX_DEPTH:
                self.problems.add(f"MIME nesting deeper than {_MAX_DEPTH}; inner parts ignored")
            elif ctype == "multipart/alternative":
                self.alternative([c for c in payload if isinstance(c, Message)], depth, blocks)
            else:
                # message/rfc822 is walked as well: a forwarded complaint is the complaint.
                for child in payload:
                    if isinstance(child, Message):
                        self.visit(child, depth + 1, blocks)
        except Exception as exc:
            self.problems.add(f"part {number} unreadable: {type(exc).__name__}")

    def alternative(self, children: list[Message], depth: int, blocks: list[_Block]) -> None:
        """The plain-text alternative if it says anything, else the last (richest) one.

        Every alternative is still walked, so that images embedded in the HTML version
        (often a resident's photos) are kept as attachments.
        """
        candidates: list[list[_Block]] = []
        for child in children:
            found: list[_Block] = []
            self.visit(child, depth + 1, found)
            candidates.append(found)
        plain = [c for c in candidates if any(not b.html and b.text.strip() for b in c)]
        rich = [c for c in candidates if any(b.text.strip() for b in c)]
        chosen = plain[0] if plain else (rich[-1] if rich else [])
        blocks.extend(chosen)

    def leaf(self, part: Message, ctype: str, number: int, blocks: list[_Block]) -> None:
        disposition = _disposition(part)
        name = _filename(part, self.problems)
        if ctype.startswith("multipart/"):
            # Its boundary was never found, so its parts are one undivided text.
            self.problems.add(f"{ctype} part without a usable boundary; read as plain text")
            blocks.append(_Block(self.text(part, None), html=False))
            return
        is_text = ctype in ("text/plain", "text/html")
        if is_text and disposition != "attachment" and not (name and disposition == "inline"):
            try:
                charset = part.get_content_charset()
            except Exception:
                charset = None
            blocks.append(_Block(self.text(part, charset), html=ctype == "text/html"))
            return
        if ctype in _SKIPPED_TYPES:
            return
        self.attachment(part, ctype, disposition, name, number)

    def text(self, part: Message, charset: str | None) -> str:
        text, note = _decode(_payload_bytes(part, self.problems), charset)
        if note:
            self.problems.add(note)
        return text

    def attachment(self, part: Message, ctype: str, disposition: str, name: str | None,
                   number: int) -> None:
        if len(self.attachments) >= self.max_count:
            self.problems.add(f"part {number} skipped: more than {self.max_count} attachments")
            return
        data = _payload_bytes(part, self.problems)
        if len(data) > self.max_bytes:
            self.problems.add(f"part {number} skipped: {len(data)} bytes, "
                              f"over the {self.max_bytes} limit")
            return
        if not data:
            self.problems.add(f"part {number} skipped: empty attachment")
            return
        # Embedded images often carry only a Content-ID and no disposition at all.
        inline = disposition == "inline" or (not disposition and part.get("content-id") is not None)
        filename = safe_filename(name, ctype, len(self.attachments) + 1)
        self.attachments.append(Attachment(filename, ctype, data, inline))


def _body_text(blocks: Iterable[_Block], problems: _Problems) -> tuple[str, bool]:
    """Plain text when there is any; the HTML made readable only when there is not."""
    blocks = [b for b in blocks if b.text.strip()]
    plain = [b.text for b in blocks if not b.html]
    if plain:
        return "\n\n".join(plain), False
    html = [_html_to_text(b.text, problems) for b in blocks]
    return "\n\n".join(html), bool(html)


# -- parsing ---------------------------------------------------------------------------------

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


def _parse_bytes(raw: bytes, problems: _Problems) -> Message:
    msg = email.message_from_bytes(raw)
    if any(type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects):
        repaired = _repair_header_block(raw)
        if repaired is not None:
            problems.add("invalid header line dropped")
            msg = email.message_from_bytes(repaired)
    return msg


def _defects(parts: Iterable[Message], problems: _Problems) -> None:
    for part in parts:
        for defect in getattr(part, "defects", ()):
            problems.add(f"defect: {type(defect).__name__}")


def _first(raw: dict[str, list[str]], name: str) -> str | None:
    values = raw.get(name)
    return values[0] if values else None


def parse_message(raw: bytes, *, max_text_chars: int = 100_000,
                  max_attachment_bytes: int = 10 * 1024 * 1024,
                  max_attachments: int = 20) -> ParsedMessage:
    """Everything the intake needs from one message, whatever the bytes are.

    Each stage has its own guard, so that a broken body still leaves the headers (and
    with them the sender and the subject) and broken headers still leave the body.
    """
    problems = _Problems()
    try:
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
        msg = _parse_bytes(data, problems)
    except Exception as exc:
        problems.add(f"unparseable message: {type(exc).__name__}")
        msg = Message()

    try:
        head = _read_headers(msg, problems)
    except Exception as exc:
        problems.add(f"headers unreadable: {type(exc).__name__}")
        head = _Head((), {})
    first = {}
    for key, value in head.headers:
        first.setdefault(key, value)

    from_addr = from_name = reply_to = None
    to_addrs: tuple[str, ...] = ()
    try:
        senders = _addresses(head.raw.get("from", [])[:1], problems)
        if senders:
            from_name, from_addr = senders[0]
        else:
            from_name = _display_name(head.raw.get("from", [])[:1], problems)
        replies = _addresses(head.raw.get("reply-to", [])[:1], problems)
        reply_to = replies[0][1] if replies else None
        to_addrs = tuple(dict.fromkeys(a for _, a in _addresses(head.raw.get("to", []), problems)))
    except Exception as exc:
        problems.add(f"addresses unreadable: {type(exc).__name__}")

    walker = _Walker(max_attachment_bytes, max_attachments, problems)
    blocks: list[_Block] = []
    try:
        walker.visit(msg, 0, blocks)
    except (RecursionError, Exception) as exc:
        problems.add(f"body unreadable: {type(exc).__name__}")
    try:
        _defects(walker.visited or [msg], problems)
        text, html_only = _body_text(blocks, problems)
        text = _clean_text(text, max_text_chars, problems)
    except Exception as exc:
        problems.add(f"body text unreadable: {type(exc).__name__}")
        text, html_only = "", False

    message_ids = _message_ids(_first(head.raw, "message-id"), bare_means_id=True)
    return ParsedMessage(
        subject=first.get("subject", ""),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=reply_to,
        to_addrs=to_addrs,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=_message_ids(_first(head.raw, "in-reply-to"), bare_means_id=False),
        references=_message_ids(_first(head.raw, "references"), bare_means_id=False),
        date_header=first.get("date") or None,
        headers=head.headers,
        content_type=_content_type(msg),
        text=text,
        html_only=html_only,
        attachments=tuple(walker.attachments),
        problems=tuple(problems),
    )
