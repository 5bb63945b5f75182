"""`parse_message` on hostile bytes: it never raises, it keeps its bounds, its text is storable.

The parser's promise (mailflow/core/parse/__init__.py) is that nothing raises: whatever
goes wrong becomes a note in `problems`. Downstream, every string goes into the database
(SQLite, PostgreSQL, which refuses NUL in text) and into logs as UTF-8, so no field may
hold a lone surrogate, and the one-line fields (addresses, ids, subject, header values)
no NUL either.
"""

from __future__ import annotations

from dataclasses import astuple

from hypothesis import example, given

from mailflow.core.parse import ParsedMessage, parse_message
from mailflow.core.parse.model import MAX_FILENAME, MAX_PROBLEMS, MAX_RECIPIENTS, MAX_REFERENCES
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
