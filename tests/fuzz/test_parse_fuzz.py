"""`parse_message` on hostile bytes: it never raises, it keeps its bounds, its text is storable.

The parser's promise (mailflow/core/parse/__init__.py) is that nothing raises: whatever
goes wrong becomes a note in `problems`. Downstream, every string goes into the database
(SQLite, PostgreSQL, which refuses NUL in text) and into logs as UTF-8, so no field may
hold a lone surrogate, and the one-line fields (addresses, ids, subject, header values)
no NUL either.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import astuple
from email.message import EmailMessage

from hypothesis import example, given
from hypothesis import strategies as st

from mailflow.core.intake_rules import content_key, message_key
from mailflow.core.parse import ParsedMessage, Spilled, SpillUnresolved, _read_head, parse_message
from mailflow.core.parse.model import MAX_FILENAME, MAX_PROBLEMS, MAX_RECIPIENTS, MAX_REFERENCES
from mailflow.core.parse.spill import reduce_message
from tests.fuzz.budget import fuzz
from tests.fuzz.strategies import built_messages, messages, mutated_corpus

MAX_BYTES = 2000
MAX_COUNT = 3
MAX_TEXT = 5000


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    return []


def _one_line_fields(msg: ParsedMessage) -> list[str]:
    values = [msg.subject, msg.from_addr, msg.from_name, msg.reply_to, msg.message_id, msg.date_header,
              msg.content_type, *msg.to_addrs, *msg.in_reply_to, *msg.references,
              *(s for pair in msg.headers for s in pair), *(a.filename for a in msg.attachments),
              *(a.content_type for a in msg.attachments)]
    return [v for v in values if v is not None]


def check(raw: bytes) -> ParsedMessage:
    msg = parse_message(raw, max_text_chars=MAX_TEXT, max_attachment_bytes=MAX_BYTES,
                        max_attachments=MAX_COUNT)
    assert isinstance(msg, ParsedMessage)
    for text in _strings(astuple(msg)):
        text.encode("utf-8")  # a lone surrogate raises here
    for text in _one_line_fields(msg):
        assert "\x00" not in text and "\n" not in text and "\r" not in text, repr(text)
    assert "\x00" not in msg.text
    assert len(msg.text) <= MAX_TEXT
    assert len(msg.attachments) <= MAX_COUNT
    for attachment in msg.attachments:
        assert 0 < len(attachment.data) <= MAX_BYTES
        name = attachment.filename
        assert name and len(name) <= MAX_FILENAME and not name.startswith(".")
        assert "/" not in name and "\\" not in name
    assert len(msg.in_reply_to) <= MAX_REFERENCES and len(msg.references) <= MAX_REFERENCES
    assert len(msg.to_addrs) <= MAX_RECIPIENTS
    assert len(msg.problems) <= MAX_PROBLEMS + 1
    return msg


@fuzz(100)
@given(messages)
@example(b"")
@example(b"\x00")
@example(b"Subject: x\r\r\rbody")
@example(b"Content-Type: multipart/mixed; boundary=b\n\n--b\n" * 3)
# Found by this fuzzer: a NUL inside an id's brackets was kept in message_id/references
# (PostgreSQL refuses NUL in text, and ids are logged).
@example(b"References: <\x00@x>\n\n")
@example(b"Message-ID: <a\x01b@x>\n\n")
@example(b"Message-ID: a\x00b\n\n")
# Found by this fuzzer: the fallback address reader kept a NUL in an address.
@example(b"To: \xff\xfe@\x00.example\n\n")
def test_any_bytes_parse_to_a_storable_message(raw: bytes) -> None:
    check(raw)


@fuzz(80)
@given(built_messages())
def test_generated_mime_trees_parse_within_bounds(raw: bytes) -> None:
    check(raw)


@fuzz(300)
@given(mutated_corpus())
def test_mutated_corpus_messages_parse_within_bounds(raw: bytes) -> None:
    check(raw)


@fuzz(20)
@given(built_messages())
def test_parsing_is_deterministic(raw: bytes) -> None:
    assert parse_message(raw) == parse_message(raw)


class _MemorySink:
    """A spill.py Sink that keeps the bytes, for comparing with the whole message's parse."""

    def __init__(self, index: int) -> None:
        self.path, self.data = f"memory-{index}", bytearray()

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def finish(self) -> Spilled:
        return Spilled(self.path, len(self.data), hashlib.sha256(self.data).hexdigest())


def _facts(msg: ParsedMessage) -> tuple[object, ...]:
    return (msg.subject, msg.text, msg.html_only, message_key(msg), content_key(msg),
            [(a.filename, a.content_type, a.inline, a.size, a.sha256()) for a in msg.attachments])


def check_spilled(raw: bytes, *, min_run: int = 8, must_resolve: bool = False) -> None:
    """Made small with runs as short as `min_run` characters spilled (core/parse/spill.py), the
    message says exactly what it says whole, or the parser refuses the reduction
    (SpillUnresolved; not allowed when `must_resolve`: well-formed photos must be taken)."""
    sinks: list[_MemorySink] = []

    def open_sink() -> _MemorySink:
        sinks.append(_MemorySink(len(sinks)))
        return sinks[-1]

    handle = io.BytesIO(raw)
    reduced = reduce_message(iter(lambda: handle.readline(200), b""), open_sink, nonce="f00d",
                             min_run=min_run)
    limits = {"max_text_chars": MAX_TEXT, "max_attachment_bytes": MAX_BYTES,
              "max_attachments": MAX_COUNT}
    whole = parse_message(raw, **limits)  # type: ignore[arg-type]
    try:
        small = parse_message(reduced.data, spills=reduced.spills, **limits)  # type: ignore[arg-type]
    except SpillUnresolved:
        assert not must_resolve, "well-formed base64 photos were not taken from their files"
        return
    assert _facts(small) == _facts(whole)


@fuzz(150)
@given(built_messages())
def test_a_reduced_message_says_what_the_whole_one_says(raw: bytes) -> None:
    check_spilled(raw)


@fuzz(150)
@given(mutated_corpus())
# Found by this property: a cut base64 body (one character past a quantum) was decoded one way
# from its file and another by the email package; such a file is now refused (exact=False).
@example(b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n"
         b"Content-Disposition: attachment; filename=a.png\n\n" + b"iVBORw0K" * 10 + b"\nVHNBX")
def test_a_reduced_corpus_message_says_what_the_whole_one_says(raw: bytes) -> None:
    check_spilled(raw)


@st.composite
def _with_files(draw: st.DrawFn) -> bytes:
    """A complaint with photos, as mail programs write it and as they damage it: line ends
    of either kind, padding lost, base64 without line breaks."""
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "Siti <siti@warga.example>", "Pengaduan Masyarakat"
    # ASCII text: a text part in base64 is meant to be refused a spill (it is read as text).
    msg.set_content(draw(st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                 max_size=200)) + "\n")
    for index in range(draw(st.integers(1, 3))):
        # 48 bytes and more: 64 base64 characters, the run this property spills.
        msg.add_attachment(draw(st.binary(min_size=48, max_size=1500)), maintype="image",
                           subtype="jpeg", filename=f"foto{index}.jpg")
    msg.set_boundary("batas-mailflow")  # not the email package's random one
    raw = msg.as_bytes()
    damage = draw(st.sampled_from(["none", "unpadded", "unwrapped", "crlf"]))
    if damage == "unpadded":
        raw = re.sub(rb"=+\n", b"\n", raw)
    elif damage == "unwrapped":
        lines = raw.split(b"\n")
        raw = b"\n".join(line if len(line) != 76 else line + b"\x00" for line in lines)
        raw = raw.replace(b"\x00\n", b"")
    elif damage == "crlf":
        raw = raw.replace(b"\n", b"\r\n")
    return raw


@fuzz(150)
@given(_with_files())
def test_a_reduced_message_with_photos_says_what_the_whole_one_says(raw: bytes) -> None:
    check_spilled(raw, min_run=64, must_resolve=True)


def _header_block(raw: bytes) -> bytes:
    """What IMAP's BODY.PEEK[HEADER] gives the intake's first look: the header block."""
    for blank in (b"\r\n\r\n", b"\n\n"):
        if blank in raw:
            return raw[:raw.index(blank) + len(blank)]
    return raw


@fuzz(20)
@given(built_messages())
def test_a_header_block_read_first_changes_nothing_the_message_says(raw: bytes) -> None:
    """The intake reads each header block alone, then the whole message: the second reading
    may reuse the first (parse/__init__.py `_read_head`), and says exactly what a first one
    would, problem notes included."""
    _read_head.cache_clear()
    cold = parse_message(raw)
    _read_head.cache_clear()
    parse_message(_header_block(raw))
    assert parse_message(raw) == cold
