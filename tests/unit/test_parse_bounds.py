"""What the parser reads of hostile headers: bounded, and the part that matters kept."""

from __future__ import annotations

import time

import pytest

from mailflow.core.parse import parse_message
from mailflow.core.parse.body import without_mime_scaffolding
from mailflow.core.parse.headers import addresses, message_ids
from mailflow.core.parse.model import MAX_RECIPIENTS, MAX_REFERENCES, Problems


def _ids(count: int, prefix: str = "banjir") -> str:
    return " ".join(f"<{prefix}-{n}@spam.example>" for n in range(count))


def test_references_keep_the_root_and_the_latest_ids() -> None:
    value = "<akar@warga.example> " + _ids(260_000) + " <ack@klero.desa.id>"
    found = message_ids(value, bare_means_id=False)
    assert len(found) == MAX_REFERENCES
    assert found[0] == "<akar@warga.example>"
    assert found[-1] == "<ack@klero.desa.id>"
    assert found[-2] == "<banjir-259999@spam.example>"


def test_a_short_references_header_is_read_whole_and_in_order() -> None:
    value = _ids(30)
    assert message_ids(value, bare_means_id=False) == tuple(
        f"<banjir-{n}@spam.example>" for n in range(30))
    assert message_ids(value, bare_means_id=False, limit=1) == ("<banjir-0@spam.example>",)


def test_a_flooded_message_parses_fast_and_within_bounds() -> None:
    recipients = ", ".join(f"warga{n}@spam.example" for n in range(50_000))
    raw = (f"From: siti@warga.example\r\nTo: pengaduan@klero.desa.id, {recipients}\r\n"
           f"Subject: Pengaduan Masyarakat\r\nIn-Reply-To: {_ids(5000, 'irt')}\r\n"
           f"References: {_ids(260_000)}\r\n\r\nJalan rusak.").encode()
    started = time.perf_counter()
    msg = parse_message(raw)
    assert time.perf_counter() - started < 2.0  # ~0.2 s; the unbounded parser took far longer
    assert msg.subject == "Pengaduan Masyarakat"
    assert len(msg.references) == MAX_REFERENCES
    assert len(msg.in_reply_to) == MAX_REFERENCES
    assert len(msg.to_addrs) == MAX_RECIPIENTS
    assert msg.to_addrs[0] == "pengaduan@klero.desa.id"
    assert all(len(value) <= 20_000 for _, value in msg.headers)


def test_a_cut_address_list_ends_at_an_address_boundary() -> None:
    problems = Problems()
    value = ", ".join(f"warga{n}@spam.example" for n in range(5000))
    found = addresses([value], problems, limit=10_000)
    assert found[-1][1].endswith("@spam.example")  # never a truncated "warga812@spam.ex"
    assert len(found) < 5000
    assert any("address header longer" in note for note in problems)


# -- a tree too deep to parse still gives its headers and its words -------------------------


def _nested(depth: int, text: bytes = b"Jalan di dusun Krajan berlubang.\r\n") -> bytes:
    raw = (b"From: Siti <siti@warga.example>\r\nSubject: Pengaduan Masyarakat\r\n"
           b"Message-ID: <dalam@warga.example>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n')
    for level in range(1, depth):
        raw += b'--b%d\r\nContent-Type: multipart/mixed;\r\n boundary="b%d"\r\n\r\n' % (level - 1, level)
    raw += b"--b%d\r\nContent-Type: text/plain\r\n\r\n" % (depth - 1) + text
    return raw + b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))


def test_a_tree_that_exhausts_the_parser_keeps_headers_and_text() -> None:
    msg = parse_message(_nested(1000))
    assert msg.subject == "Pengaduan Masyarakat"
    assert msg.from_addr == "siti@warga.example"
    assert msg.message_id == "<dalam@warga.example>"
    assert msg.text == "Jalan di dusun Krajan berlubang."
    assert any("MIME structure unparseable" in note for note in msg.problems)


def test_parts_below_the_depth_bound_are_read_flat() -> None:
    msg = parse_message(_nested(60))
    assert msg.text == "Jalan di dusun Krajan berlubang."
    assert any("nesting deeper than" in note for note in msg.problems)


def test_only_declared_boundaries_are_scaffolding() -> None:
    text = ('--b0\nContent-Type: text/plain;\n charset=utf-8\n\nIsi pengaduan.\n--Budi\n'
            'RT 01\n--b0--\n')
    assert without_mime_scaffolding(text, "b0") == "Isi pengaduan.\n--Budi\nRT 01\n"
    assert without_mime_scaffolding("--Budi\nHalo", None) == "--Budi\nHalo"


# -- the address in angle brackets is the address -------------------------------------------


@pytest.mark.parametrize(("header", "address", "name"), [
    ("someone@host <someone@host.example.it>", "someone@host.example.it", "someone@host"),
    ("budi@warga.example <siti@warga.example>", "siti@warga.example", "budi@warga.example"),
    ("Siti Aminah siti@warga <siti@warga.example>", "siti@warga.example", "Siti Aminah siti@warga"),
    ('"budi@warga.example" <siti@warga.example>', "siti@warga.example", "budi@warga.example"),
    ("Siti Aminah <siti@warga.example>", "siti@warga.example", "Siti Aminah"),
    ("siti@warga.example", "siti@warga.example", None),
])
def test_from_is_the_angle_address_even_when_the_name_looks_like_one(
        header: str, address: str, name: str | None) -> None:
    msg = parse_message(f"From: {header}\r\nSubject: x\r\n\r\nisi".encode())
    assert (msg.from_addr, msg.from_name) == (address, name)


def test_each_recipient_of_a_list_keeps_its_own_angle_address() -> None:
    found = addresses(["a@warga <a@warga.example>, b@warga.example, c@x <c@warga.example>"],
                      Problems())
    assert [addr for _, addr in found] == ["a@warga.example", "b@warga.example", "c@warga.example"]
