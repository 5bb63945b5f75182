"""A large message made small before parsing (core/parse/spill.py) says what the whole one says."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from email.message import EmailMessage

import pytest

from mailflow.core.intake_rules import content_key, message_key
from mailflow.core.parse import ParsedMessage, Spilled, SpillUnresolved, parse_message
from mailflow.core.parse.spill import Reduced, reduce_message

MIN_RUN = 64 * 1024


class MemorySink:
    """A Sink that keeps what it gets, to compare with what the email package decodes."""

    def __init__(self, index: int) -> None:
        self.path = f"memory-{index}"
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def finish(self) -> Spilled:
        return Spilled(self.path, len(self.data), hashlib.sha256(self.data).hexdigest())


def _reduce(raw: bytes, *, line_limit: int = 64 * 1024) -> tuple[Reduced, list[MemorySink]]:
    sinks: list[MemorySink] = []

    def open_sink() -> MemorySink:
        sinks.append(MemorySink(len(sinks)))
        return sinks[-1]

    handle = io.BytesIO(raw)
    lines = iter(lambda: handle.readline(line_limit), b"")
    return reduce_message(lines, open_sink, nonce="0123abcd", min_run=MIN_RUN), sinks


def _complaint(*files: bytes, linesep: str = "\n") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Siti <siti@warga.example>", "pengaduan@desa.example"
    msg["Subject"], msg["Message-ID"] = "Pengaduan Masyarakat", "<a1@warga.example>"
    msg.set_content("Jalan di Dusun Krajan berlubang.\n")
    for index, data in enumerate(files):
        msg.add_attachment(data, maintype="image", subtype="jpeg", filename=f"foto{index}.jpg")
    return msg.as_bytes(policy=msg.policy.clone(linesep=linesep))


def _encoded(raw: bytes) -> bytes:
    """The base64 text of the first attachment (LF line ends)."""
    start = raw.index(b"\n\n", raw.index(b'filename="foto0.jpg"')) + 2
    return raw[start:raw.index(b"\n--", start)]


def _same(small: ParsedMessage, whole: ParsedMessage) -> None:
    assert small.text == whole.text
    assert small.subject == whole.subject
    assert [(a.filename, a.content_type, a.size, a.sha256()) for a in small.attachments] == \
        [(a.filename, a.content_type, a.size, a.sha256()) for a in whole.attachments]
    # Deduplication must not depend on whether the message was spooled.
    assert message_key(small) == message_key(whole)
    assert content_key(small) == content_key(whole)


@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_a_long_attachment_goes_to_its_own_file_and_parses_the_same(linesep: str) -> None:
    big, small = os.urandom(300_000), os.urandom(20_000)
    raw = _complaint(big, small, linesep=linesep)

    reduced, sinks = _reduce(raw)
    parsed = parse_message(reduced.data, spills=reduced.spills)

    assert len(reduced.data) < 40_000  # the small photo stays, the big one is a token
    assert [bytes(s.data) for s in sinks] == [big]
    [spilled, kept] = parsed.attachments
    assert spilled.spilled is not None and spilled.data == b""
    assert spilled.spilled.sha256 == hashlib.sha256(big).hexdigest()
    assert kept.spilled is None and kept.data == small
    _same(parsed, parse_message(raw))


def test_a_base64_body_without_line_breaks_is_read_in_pieces_and_decoded_whole() -> None:
    big = os.urandom(200_000)
    raw = _complaint(big)
    encoded = _encoded(raw)
    unwrapped = raw.replace(encoded, encoded.replace(b"\n", b""))
    assert len(encoded) > 200_000
    assert unwrapped != raw

    reduced, sinks = _reduce(unwrapped, line_limit=1000)

    assert [bytes(s.data) for s in sinks] == [big]
    _same(parse_message(reduced.data, spills=reduced.spills), parse_message(unwrapped))


def test_lost_padding_is_decoded_as_leniently_as_the_email_package_does() -> None:
    big = os.urandom(100_001)  # not a multiple of 3: the encoding ends in "="
    raw = _complaint(big)
    encoded = _encoded(raw)
    assert encoded.rstrip().endswith(b"=")
    unpadded = raw.replace(encoded, encoded.rstrip().rstrip(b"=") + b"\n")

    reduced, sinks = _reduce(unpadded)

    assert [bytes(s.data) for s in sinks] == [big]
    _same(parse_message(reduced.data, spills=reduced.spills), parse_message(unpadded))


def test_short_runs_stay_in_the_message_untouched() -> None:
    raw = _complaint(os.urandom(30_000))
    reduced, sinks = _reduce(raw)
    assert reduced.data == raw
    assert reduced.spills == {} and sinks == []


def test_a_text_part_written_in_base64_letters_is_not_taken_for_a_file() -> None:
    # A resident pasting a long code or a broken mail program: it is text, so the intake
    # must read it as text (SpillUnresolved makes it parse the whole message instead).
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "siti@warga.example", "Pengaduan Masyarakat"
    msg.set_content("Kode: \n" + ("QUJDRA" * 12 + "\n") * 2000, cte="7bit")
    raw = msg.as_bytes()

    reduced, _ = _reduce(raw)

    assert reduced.spills
    with pytest.raises(SpillUnresolved):
        parse_message(reduced.data, spills=reduced.spills)
    assert "QUJDRA" in parse_message(raw).text


def test_a_token_the_sender_wrote_names_no_file() -> None:
    # Tokens carry a nonce the sender cannot know: a guessed one is just base64 text.
    big = os.urandom(100_000)
    reduced, _ = _reduce(_complaint(big))
    [token] = reduced.spills
    forged = reduced.data.replace(token.encode(), b"MAILFLOWSPILLffffffffN0")
    with pytest.raises(SpillUnresolved):
        parse_message(forged, spills=reduced.spills)


def test_reducing_holds_a_slice_not_the_attachment() -> None:
    big = os.urandom(3 << 20)
    raw = _complaint(big)
    handle = io.BytesIO(raw)
    lines = iter(lambda: handle.readline(64 * 1024), b"")
    digest = hashlib.sha256()

    class HashSink:
        size = 0

        def write(self, data: bytes) -> None:
            digest.update(data)
            HashSink.size += len(data)

        def finish(self) -> Spilled:
            return Spilled("x", HashSink.size, digest.hexdigest())

    tracemalloc.start()
    try:
        reduced = reduce_message(lines, HashSink, nonce="00", min_run=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [s.sha256 for s in reduced.spills.values()] == [hashlib.sha256(big).hexdigest()]
    # A run is buffered until it is long enough to spill (1 MB of text), then decoded in
    # slices: the 4 MB of base64 text is never all in memory.
    assert peak < 2.5 * (1 << 20), peak
