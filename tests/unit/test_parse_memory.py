"""A large attachment is parsed without being held many times over (issue 10)."""

from __future__ import annotations

import tracemalloc
from email import message_from_bytes
from email.message import EmailMessage

from mailflow.core.parse import parse_message
from tests.harness.fresh import printed_by


def _with_attachment(data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "siti@warga.example", "p@desa.id", "Pengaduan"
    msg.set_content("Foto terlampir.\n")
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="f.bin")
    return msg.as_bytes()


def test_a_large_attachment_costs_a_few_times_its_size_to_parse_not_eight() -> None:
    data = bytes(range(256)) * (16 * 1024)  # 4 MB
    raw = _with_attachment(data)
    tracemalloc.start()
    try:
        parsed = parse_message(raw, max_attachment_bytes=8 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.data for a in parsed.attachments] == [data]
    # The email package's parsebytes alone peaked at 7.7 x the message; fed in pieces and
    # decoded in one step, the whole parse stays under 3.
    assert peak < 3 * len(raw), peak / len(raw)


def test_base64_the_direct_decoding_refuses_is_decoded_as_the_email_package_does() -> None:
    raw = _with_attachment(b"abcde")
    bad_padding = raw.replace(b"YWJjZGU=", b"YWJjZGU")  # padding lost in transit
    assert bad_padding != raw
    parsed = parse_message(bad_padding)
    stdlib = message_from_bytes(bad_padding).get_payload()[1].get_payload(decode=True)
    assert [a.data for a in parsed.attachments] == [stdlib] == [b"abcde"]


def test_charset_guessing_is_loaded_only_by_a_message_that_needs_it() -> None:
    """charset_normalizer holds 2.7 MB once imported: a process that reads only UTF-8 and
    correctly labelled mail (nearly all of it) never loads it; unlabelled Cyrillic does."""
    code = (
        "import sys\n"
        "from mailflow.core.parse import parse_message\n"
        "import mailflow.service, mailflow.daemon, mailflow.cli\n"
        "def body(raw):\n"
        "    return parse_message(raw).text.strip()\n"
        "head = b'From: warga@desa.example\\r\\nSubject: Jalan rusak\\r\\n'\n"
        "print(body(head + b'Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n'"
        " + 'Jalan rusak di dusun Krajan, mohon diperbaiki.'.encode()))\n"
        "print('charset_normalizer' in sys.modules)\n"
        "text = 'Дорога в деревне разрушена, просим отремонтировать её как можно скорее.'\n"
        "print(body(head + b'\\r\\n' + text.encode('cp1251')) == text)\n"
        "print('charset_normalizer' in sys.modules)\n")
    assert printed_by(code) == ["Jalan rusak di dusun Krajan, mohon diperbaiki.",
                                        "False", "True", "True"]
