"""The acknowledgement as residents read it; nothing they write is evaluated or rendered."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment

from mailflow.compose.mime import MAX_REFERENCES_OUT, Envelope, build_message
from mailflow.compose.render import Renderer
from mailflow.core.workdays import WorkCalendar, format_moment

CONTEXT = {
    "number": "ADU-2026-00042",
    "salutation": "Bapak/Ibu {{ 7*7 }} <script>alert(1)</script>",
    "received": "Sabtu, 28 November 2026 pukul 09.00 WIB",
    "due": "Selasa, 8 Desember 2026",
    "working_days": 7,
    "status_label": "Diterima",
    "missing": [],
    "nik_problem": None,
    "village": "Desa Klero",
    "signature": "Pemerintah Desa Klero",
}


def test_text_names_ticket_and_due_date() -> None:
    text, _ = Renderer().render("ack", CONTEXT)
    assert "ADU-2026-00042" in text
    assert "Selasa, 8 Desember 2026" in text
    assert "Kerahasiaan identitas Bapak/Ibu kami jamin" in text
    assert "Batas waktu tanggapan : Selasa, 8 Desember 2026" in text
    assert "tidak termasuk Sabtu, Minggu, hari libur nasional, dan cuti bersama" in text
    assert "Anda" not in text  # "Bapak/Ibu" is the pronoun throughout


def test_resident_text_is_not_evaluated_and_html_is_escaped() -> None:
    text, html = Renderer().render("ack", CONTEXT)
    assert "{{ 7*7 }}" in text
    assert "49" not in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_missing_items_are_listed() -> None:
    text, html = Renderer().render("ack", {**CONTEXT, "missing": ["nama lengkap"],
                                          "nik_problem": "NIK harus 16 digit angka"})
    assert "- nama lengkap" in text
    assert "Catatan NIK: NIK harus 16 digit angka." in text
    assert "<li>nama lengkap</li>" in html


def test_message_headers_thread_and_mark_auto_reply() -> None:
    envelope = Envelope("pengaduan@klero.desa.id", "Pemerintah Desa Klero", "siti@warga.example",
                        "[ADU-2026-00042] Pengaduan Bapak/Ibu telah diterima",
                        in_reply_to="<orig@warga.example>", references=("<older@x>",),
                        ticket_number="ADU-2026-00042")
    raw = build_message(envelope, "teks", "<p>teks</p>", "<id@klero.desa.id>",
                        datetime(2026, 11, 28, 2, tzinfo=UTC))
    msg = message_from_bytes(raw, policy=default)
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["In-Reply-To"] == "<orig@warga.example>"
    assert msg["References"] == "<older@x> <orig@warga.example>"
    assert msg["Message-ID"] == "<id@klero.desa.id>"
    assert msg.get_body(("html",)) is not None
    assert msg.get_body(("plain",)).get_content().strip() == "teks"


def test_moment_in_words() -> None:
    moment = datetime(2026, 11, 28, 2, 0, tzinfo=UTC).astimezone(WorkCalendar().zone)
    assert format_moment(moment, "Asia/Jakarta") == "Sabtu, 28 November 2026 pukul 09.00 WIB"


def test_international_address_is_written_in_utf8_not_as_an_encoded_word() -> None:
    envelope = Envelope("pengaduan@klero.desa.id", "Pemerintah Desa Klero", "büdi@desa.test",
                        "[ADU-2026-00042] Pengaduan Bapak/Ibu telah diterima")
    raw = build_message(envelope, "teks é", "<p>teks</p>", "<id@klero.desa.id>",
                        datetime(2026, 11, 28, 2, tzinfo=UTC))
    head, _, _body = raw.partition(b"\n\n")
    assert "To: büdi@desa.test".encode() in head
    assert b"=?utf-8?" not in head
    msg = message_from_bytes(raw, policy=default)
    assert msg["To"] == "büdi@desa.test"
    assert msg.get_body(("plain",)).get_content().strip() == "teks é"


def test_ascii_addresses_keep_ascii_headers() -> None:
    envelope = Envelope("pengaduan@klero.desa.id", "Pemerintah Désa", "budi@desa.test",
                        "Pengaduan — diterima")
    raw = build_message(envelope, "teks", "<p>teks</p>", "<id@klero.desa.id>",
                        datetime(2026, 11, 28, 2, tzinfo=UTC))
    assert raw.isascii()


def test_references_of_an_answer_are_bounded_and_keep_root_and_latest() -> None:
    # 5,000 keep the test fast even without the bound; 260,000 took the email package minutes.
    cited = tuple(f"<banjir-{n}@spam.example>" for n in range(5_000))
    envelope = Envelope("pengaduan@klero.desa.id", "Pemerintah Desa Klero", "budi@desa.test",
                        "[ADU-2026-00042] Pengaduan Bapak/Ibu telah diterima",
                        in_reply_to="<keluhan@warga.example>", references=cited)
    raw = build_message(envelope, "teks", "<p>teks</p>", "<id@klero.desa.id>",
                        datetime(2026, 11, 28, 2, tzinfo=UTC))
    refs = str(message_from_bytes(raw, policy=default)["References"]).split()
    assert len(refs) == MAX_REFERENCES_OUT
    assert refs[0] == "<banjir-0@spam.example>"
    assert refs[-2:] == ["<banjir-4999@spam.example>", "<keluhan@warga.example>"]


def test_a_second_renderer_compiles_nothing_and_renders_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A fleet builds one renderer per village: the shipped templates are compiled once a process.
    first = Renderer().render("ack", CONTEXT)
    compiled: list[str | None] = []
    original = Environment.compile

    def counting(self: Environment, source: str, name: str | None = None,
                 filename: str | None = None, raw: bool = False, defer_init: bool = False) -> Any:
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(Environment, "compile", counting)
    assert Renderer().render("ack", CONTEXT) == first
    assert compiled == []


def test_an_edited_template_is_compiled_again_not_taken_from_the_shared_code(
        tmp_path: Path) -> None:
    own = tmp_path / "village"
    own.mkdir()
    (own / "ack.txt.j2").write_text("Nomor {{ number }}, versi satu\n")
    assert Renderer(own=str(own)).render("ack", CONTEXT)[0] == "Nomor ADU-2026-00042, versi satu\n"
    (own / "ack.txt.j2").write_text("Nomor {{ number }}, versi dua\n")
    text, html = Renderer(own=str(own)).render("ack", CONTEXT)
    assert text == "Nomor ADU-2026-00042, versi dua\n"
    assert "ADU-2026-00042" in html  # the shipped HTML, untouched by the village's text file


def test_the_html_of_every_mail_is_ascii_so_its_part_goes_7bit() -> None:
    """A non-ASCII character in a template (an em dash) made every acknowledgement's and
    notification's HTML part quoted-printable, encoded again for each ticket (issue 10); in
    HTML an entity renders the same. The monthly report, one a month, may keep its own."""
    shipped = Path(__file__).resolve().parents[2] / "templates"
    mails = [path for path in shipped.glob("*.html.j2") if path.name != "report.html.j2"]
    assert mails
    assert [p.name for p in mails if not p.read_text(encoding="utf-8").isascii()] == []
    _, html = Renderer().render("ack", {**CONTEXT, "salutation": "Bapak/Ibu Budi"})
    raw = build_message(Envelope("desa@klero.id", "Desa Klero", "budi@warga.example", "Tiket"),
                        "Teks — saja", html, "<id@klero.id>", datetime(2026, 11, 30, tzinfo=UTC))
    assert b"Content-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: 7bit" in raw
    assert "&mdash;" in html
