"""The MIME tree to the complaint's text and its attachments, after the headers are read.

A resident's complaint may be plain text, HTML only, a forwarded message or photos
embedded in HTML, so the walk keeps every readable text and every file while staying
within fixed bounds. Senders choose file names and markup, so both are treated as
hostile here before anything downstream stores or shows them.
"""

# The parser catches every exception on purpose (see mailflow.core.parse). BLE001 is on in
# the project's lint configuration but not in every lint run, hence RUF100 as well.
# ruff: noqa: BLE001, RUF100

from __future__ import annotations

import binascii
import html as htmllib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message

from mailflow.core.parse.charsets import decode_with_note
from mailflow.core.parse.headers import decode_words, one_line, unsurrogate
from mailflow.core.parse.model import (
    MAX_DEPTH,
    MAX_FILENAME,
    MAX_HTML_CHARS,
    MAX_PARTS,
    Attachment,
    Problems,
    Spilled,
)

__all__ = ["Block", "Walker", "body_text", "clean_text", "content_type_of", "safe_filename",
           "without_mime_scaffolding"]

_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|\ud800-\udfff]")
# Letters that render as nothing (combining grapheme joiner, Hangul fillers).
_FILLERS = frozenset("\u034f\u115f\u1160\u3164\uffa0")
# Device names on Windows, with or without an extension (superscript digits included).
_RESERVED_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                            | {f"{dev}{n}" for dev in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"})


def _payload_bytes(part: Message, problems: Problems) -> bytes:
    direct = _base64_payload(part)
    if direct is not None:
        return direct
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


def _base64_payload(part: Message) -> bytes | None:
    """A well-formed base64 part decoded in one step, None for anything else. The email
    package splits the text into lines, joins and copies it before decoding: for a 25 MB
    attachment, three copies more of it at once (issue 10). Anything this refuses (bad
    padding, bytes that are not ASCII) is left to the email package's lenient decoding."""
    if not _is_base64(part):
        return None
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    try:
        return binascii.a2b_base64(payload)
    except (binascii.Error, ValueError):
        return None


def _is_base64(part: Message) -> bool:
    return str(part.get("content-transfer-encoding", "")).strip().lower() == "base64"


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


def _html_to_text(html: str, problems: Problems) -> str:
    """Readable text from HTML; a hostile document degrades to tag stripping, never a crash."""
    if len(html) > MAX_HTML_CHARS:
        problems.add(f"html truncated to {MAX_HTML_CHARS} characters before conversion")
        html = html[:MAX_HTML_CHARS]
    # lxml refuses a str that still declares its byte encoding.
    html = re.sub(r"^\s*<\?xml[^<>]*\?>", "", html)
    # Imported here (issue 10, memory): inscriptis and lxml cost some 4 MB of RSS that
    # plain-text mail never needs.
    from inscriptis import get_text as inscriptis_text  # type: ignore[import-untyped, unused-ignore]

    try:
        text: str = inscriptis_text(html)  # inscriptis is untyped; it returns str
        return text
    except (RecursionError, Exception) as exc:
        problems.add(f"html conversion fell back to tag stripping: {type(exc).__name__}")
        return _strip_tags(html)


def clean_text(text: str, limit: int, problems: Problems) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TEXT_CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUNS.sub("\n\n", text).strip()
    if len(text) > limit:
        problems.add(f"text truncated to {limit} characters")
        text = text[:limit]
    return text


def _visible(text: str) -> str:
    """`text` without invisible characters: bidi controls, zero-width and other format
    characters (Unicode category Cf) and the blank fillers that render as nothing."""
    return "".join(ch for ch in text
                   if unicodedata.category(ch) not in ("Cf", "Zl", "Zp") and ch not in _FILLERS)


def _not_reserved(base: str) -> str:
    """Windows opens a device, not a file, for CON or com1.txt: such names get a "_"."""
    stem = base.split(".", 1)[0].rstrip(" ").upper()
    return "_" + base if stem in _RESERVED_NAMES else base


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A name that is safe to show and to store under, and that says what the file is.

    The sender chooses the name, so it is treated as hostile: only the last path element
    is kept; invisible characters go, so that "foto<U+202E>gpj.exe" (shown as
    "fotoexe.jpg") reads "fotogpj.exe"; characters special on common file systems become
    "_"; leading dots (no hidden files, no "..") and trailing dots and spaces (which
    Windows drops, changing the extension) go; device names such as CON or LPT1.txt get
    a "_"; the length is capped keeping the extension.
    """
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", _UNSAFE_NAME.sub("_", _visible(base)))
    base = base.strip().lstrip(". ").rstrip(". ")
    if not base:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        base = f"lampiran-{index}{extension}"
    base = _not_reserved(base)
    if len(base) > MAX_FILENAME:
        stem, dot, extension = base.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            base = stem[: MAX_FILENAME - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            base = base[:MAX_FILENAME].rstrip(". ")
    return base


_BOUNDARY_PARAM = re.compile(r'(?im)\bboundary\s*=\s*"?([^"\s;]{1,200})')


def _boundary(part: Message) -> str | None:
    try:
        found = part.get_boundary()
    except Exception:
        return None
    return found if isinstance(found, str) else None


def without_mime_scaffolding(text: str, boundary: str | None) -> str:
    """An undivided multipart's text without its delimiter lines and its parts' headers.

    Only delimiters of boundaries the text itself declares (or `boundary`) count, so a
    resident's own "--Budi" stays. What remains is the parts' content, in order: the
    complaint, not a page of MIME structure burying it.
    """
    boundaries = set(_BOUNDARY_PARAM.findall(text[:MAX_HTML_CHARS]))
    if boundary:
        boundaries.add(boundary)
    if not boundaries:
        return text
    kept: list[str] = []
    in_part_head = False
    for line in text.split("\n"):
        token = line.rstrip()[2:] if line.startswith("--") else None
        if token is not None and token in boundaries:
            in_part_head = True  # an opening delimiter: the part's header block follows
        elif token is not None and token.endswith("--") and token[:-2] in boundaries:
            in_part_head = False  # a closing delimiter
        elif in_part_head:
            in_part_head = bool(line.strip())  # header lines until the blank line
        else:
            kept.append(line)
    return "\n".join(kept)


def content_type_of(part: Message) -> str:
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


def _filename(part: Message, problems: Problems) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not isinstance(name, str) or not name:
        return None
    # RFC 2231 is decoded by get_filename(); RFC 2047 in names is wrong but common.
    return one_line(decode_words(unsurrogate(name, None), problems)) or None


# Report machinery, not something a resident sent: DSN fields and returned headers.
_SKIPPED_TYPES = frozenset({"message/delivery-status", "text/rfc822-headers",
                            "message/rfc822-headers"})


@dataclass
class Block:
    text: str
    html: bool


@dataclass
class Walker:
    """Collects body text and attachments, bounded in depth and in the number of parts."""

    max_bytes: int
    max_count: int
    problems: Problems
    attachments: list[Attachment] = field(default_factory=list)
    visited: list[Message] = field(default_factory=list)
    # Base64 runs decoded to files before parsing, by token (spill.py); `resolved`: those used.
    spills: Mapping[str, Spilled] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)

    def visit(self, part: Message, depth: int, blocks: list[Block]) -> None:
        if len(self.visited) >= MAX_PARTS:
            self.problems.add(f"more than {MAX_PARTS} MIME parts; the rest ignored")
            return
        self.visited.append(part)
        number = len(self.visited)
        try:
            ctype = content_type_of(part)
            payload = part.get_payload()
            if not isinstance(payload, list):
                self.leaf(part, ctype, number, blocks)
            elif ctype in _SKIPPED_TYPES:
                pass
            elif depth >= MAX_DEPTH:
                self.problems.add(f"MIME nesting deeper than {MAX_DEPTH}; inner parts read flat")
                self.flat([c for c in payload if isinstance(c, Message)], blocks)
            elif ctype == "multipart/alternative":
                self.alternative([c for c in payload if isinstance(c, Message)], depth, blocks)
            else:
                # message/rfc822 is walked as well: a forwarded complaint is the complaint.
                for child in payload:
                    if isinstance(child, Message):
                        self.visit(child, depth + 1, blocks)
        except Exception as exc:
            self.problems.add(f"part {number} unreadable: {type(exc).__name__}")

    def flat(self, children: list[Message], blocks: list[Block]) -> None:
        """The leaves below the depth bound, in order, walked with a stack of our own.

        Recursing further could exhaust Python's stack; ignoring them would lose a
        complaint that a broken mail program wrapped forty times. Alternatives are not
        chosen here: body_text prefers the plain ones anyway.
        """
        stack = list(reversed(children))
        while stack:
            part = stack.pop()
            if len(self.visited) >= MAX_PARTS:
                self.problems.add(f"more than {MAX_PARTS} MIME parts; the rest ignored")
                return
            self.visited.append(part)
            try:
                payload = part.get_payload()
                if isinstance(payload, list):
                    stack.extend(c for c in reversed(payload) if isinstance(c, Message))
                else:
                    self.leaf(part, content_type_of(part), len(self.visited), blocks)
            except Exception as exc:
                self.problems.add(f"part {len(self.visited)} unreadable: {type(exc).__name__}")

    def alternative(self, children: list[Message], depth: int, blocks: list[Block]) -> None:
        """The plain-text alternative if it says anything, else the last (richest) one.

        Every alternative is still walked, so that images embedded in the HTML version
        (often a resident's photos) are kept as attachments.
        """
        candidates: list[list[Block]] = []
        for child in children:
            found: list[Block] = []
            self.visit(child, depth + 1, found)
            candidates.append(found)
        plain = [c for c in candidates if any(not b.html and b.text.strip() for b in c)]
        rich = [c for c in candidates if any(b.text.strip() for b in c)]
        chosen = plain[0] if plain else (rich[-1] if rich else [])
        blocks.extend(chosen)

    def leaf(self, part: Message, ctype: str, number: int, blocks: list[Block]) -> None:
        disposition = _disposition(part)
        name = _filename(part, self.problems)
        if ctype.startswith("multipart/"):
            # Its boundary was never found, or its tree was too deep to split: its parts are
            # one undivided text, which still holds what the resident wrote.
            self.problems.add(f"{ctype} part without a usable boundary; read as plain text")
            text = without_mime_scaffolding(self.text(part, None), _boundary(part))
            blocks.append(Block(text, html=False))
            return
        is_text = ctype in ("text/plain", "text/html")
        if is_text and disposition != "attachment" and not (name and disposition == "inline"):
            try:
                charset = part.get_content_charset()
            except Exception:
                charset = None
            blocks.append(Block(self.text(part, charset), html=ctype == "text/html"))
            return
        if ctype in _SKIPPED_TYPES:
            return
        self.attachment(part, ctype, disposition, name, number)

    def text(self, part: Message, charset: str | None) -> str:
        text, note = decode_with_note(_payload_bytes(part, self.problems), charset)
        if note:
            self.problems.add(note)
        return text

    def attachment(self, part: Message, ctype: str, disposition: str, name: str | None,
                   number: int) -> None:
        spilled = self.spilled(part)
        if len(self.attachments) >= self.max_count:
            self.problems.add(f"part {number} skipped: more than {self.max_count} attachments")
            return
        data = b"" if spilled is not None else _payload_bytes(part, self.problems)
        size = spilled.size if spilled is not None else len(data)
        if size > self.max_bytes:
            self.problems.add(f"part {number} skipped: {size} bytes, "
                              f"over the {self.max_bytes} limit")
            return
        if not size:
            self.problems.add(f"part {number} skipped: empty attachment")
            return
        # Embedded images often carry only a Content-ID and no disposition at all.
        inline = disposition == "inline" or (not disposition and part.get("content-id") is not None)
        filename = safe_filename(name, ctype, len(self.attachments) + 1)
        self.attachments.append(Attachment(filename, ctype, data, inline, spilled))

    def spilled(self, part: Message) -> Spilled | None:
        """The file a base64 part's payload was decoded to (exactly), when it is one token."""
        payload = part.get_payload() if self.spills and _is_base64(part) else None
        token = payload.strip() if isinstance(payload, str) else ""
        found = self.spills.get(token)
        if found is not None and found.exact:
            self.resolved.add(token)
        return found if found is not None and found.exact else None


def body_text(blocks: Iterable[Block], problems: Problems) -> tuple[str, bool]:
    """Plain text when there is any; the HTML made readable only when there is not."""
    blocks = [b for b in blocks if b.text.strip()]
    plain = [b.text for b in blocks if not b.html]
    if plain:
        return "\n\n".join(plain), False
    html = [_html_to_text(b.text, problems) for b in blocks]
    return "\n\n".join(html), bool(html)
