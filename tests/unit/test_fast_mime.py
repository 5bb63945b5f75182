"""The hand-built writer (compose/fast_mime.py) against the email package: both read back by
the stdlib parser say the same thing, whatever the names, subjects and bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from mailflow.compose.fast_mime import build_fast
from mailflow.compose.mime import Envelope, build_message, build_with_email_package

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
LONG_SUBJECT = "Re: [KLR-2026-0001] " + " ".join(f"kata{n}" for n in range(40))
CASES = [
    ("Pemerintah Desa Klero", "Tanda terima pengaduan KLR-2026-0001", "Terima kasih.\n"),
    ("Pemerintah Desa Klero", LONG_SUBJECT, "baris\n" * 3),
    ("Désa Kléro, Kab. Semarang", "Pengaduan dari Bu Sité Ämïnah 😀 " * 4, "Nama: Sité\n"),
    ('Desa "Klero"', "=?utf-8?q?looks_encoded?= but is not", "x" * 300 + "\n"),
    ("Desa Klero", "tab\there and  two spaces ", "trailing space \nend"),
    ("Desa Klero", "", "é" * 200),
    ("Desa Klero", "x" * 120, "line\r\nwith crlf\rand cr\n--===============\n"),
]


def _envelope(name: str, subject: str, **extra: object) -> Envelope:
    return Envelope(from_address="pengaduan@klero.desa.id", from_name=name,
                    to="siti@warga.example", subject=subject,
                    in_reply_to="<a1@warga.example>",
                    references=tuple(f"<r{n}@warga.example>" for n in range(8)),
                    ticket_number="KLR-2026-0001", reply_to="balas+x@klero.desa.id",
                    **extra)  # type: ignore[arg-type]


def _read(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize(("name", "subject", "text"), CASES)
def test_the_fast_writer_reads_back_as_the_email_package_writes(name: str, subject: str,
                                                                text: str) -> None:
    envelope = _envelope(name, subject)
    html = f"<p>{text}</p>"
    fast = build_message(envelope, text, html, "<m1@klero.desa.id>", NOW)
    slow = build_with_email_package(envelope, text, html, "<m1@klero.desa.id>", NOW)
    assert fast != slow  # the fast path was taken (the boundary differs at least)
    got, want = _read(fast), _read(slow)
    # What was meant, even where the email package's own reading differs (it decodes a
    # subject that merely looks like an encoded-word; this writer encodes it).
    assert str(got["Subject"]) == subject
    for header in ("From", "To", "Reply-To", "Date", "Message-ID", "In-Reply-To",
                   "References", "Auto-Submitted", "X-Auto-Response-Suppress",
                   "X-Mailflow-Ticket", "MIME-Version"):
        assert str(got[header]) == str(want[header]), header
    assert got.get_content_type() == "multipart/alternative"
    parts = [(p.get_content_type(), p.get_content()) for p in got.iter_parts()]
    assert parts == [(p.get_content_type(), p.get_content()) for p in want.iter_parts()]
    assert got.defects == [] and all(p.defects == [] for p in got.iter_parts())
    for line in fast.split(b"\n"):
        assert len(line) <= 998 and line.isascii()


def test_long_headers_are_folded_under_78_where_they_have_spaces() -> None:
    raw = build_message(_envelope("Desa Klero", LONG_SUBJECT), "t", "h", "<m@klero.desa.id>", NOW)
    head = raw.split(b"\n\n", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\n"))
    assert b"\n kata" in head  # Subject continued on a folded line


def test_non_ascii_header_text_is_encoded_words_of_whole_characters() -> None:
    subject = "Ä" * 100 + "😀" * 30
    raw = build_message(_envelope("Kéro", subject), "t", "h", "<m@klero.desa.id>", NOW)
    head = raw.split(b"\n\n", 1)[0]
    assert b"=?utf-8?b?" in head and all(len(line) <= 78 for line in head.split(b"\n"))
    assert str(_read(raw)["Subject"]) == subject


def test_shapes_it_does_not_cover_go_to_the_email_package() -> None:
    common = dict(from_name="Desa", from_address="pengaduan@klero.desa.id", subject="s",
                  reply_to=None, in_reply_to=None, references=(), ticket_number=None,
                  text="t", html="h", message_id="<m@klero.desa.id>", now=NOW)
    assert build_fast(to="büdi@warga.example", **common) is None  # type: ignore[arg-type]
    assert build_fast(to="a@b.example", **{**common, "subject": "a\nBcc: x"}) is None  # type: ignore[arg-type]
    raw = build_message(_envelope("Desa", "s", attachments=(("a.txt", "text/plain", b"x"),)),
                        "t", "h", "<m@klero.desa.id>", NOW)
    assert [p.get_filename() for p in _read(raw).iter_attachments()] == ["a.txt"]


@pytest.mark.parametrize("subject", ["bel\x07 here", "del\x7f here", "nul\x00 here", "esc\x1b[1m"])
def test_control_characters_in_a_subject_are_encoded_not_written(subject: str) -> None:
    """RFC 5322 header text is printable ASCII and spaces: a control character a resident's
    subject carried into ours goes as an encoded-word, and reads back as it was."""
    raw = build_message(_envelope("Desa Klero", subject), "x\n", "<p>x</p>", "<m1@klero.desa.id>",
                        NOW)
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert all(c.isprintable() or c in "\n\t" for c in head), repr(head)
    assert "=?utf-8?b?" in head.split("Subject:", 1)[1].split("\n", 1)[0]
    assert str(_read(raw)["Subject"]) == subject
