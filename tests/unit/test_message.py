"""The parser on small hand-made messages: one oddity per test; it never raises."""

from __future__ import annotations

import base64
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.parse import Attachment, ParsedMessage, decode_bytes, parse_message, safe_filename


def _msg(headers: str, body: bytes = b"isi\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def _multipart(subtype: str, *parts: bytes) -> bytes:
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"
    return _msg(f'Subject: x\nContent-Type: multipart/{subtype}; boundary="b"\n', body)


def _part(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


# -- headers ---------------------------------------------------------------------------------


def test_plain_message_fields() -> None:
    msg = parse_message(_msg(
        "From: Siti Aminah <Siti@Warga.Example>\nReply-To: siti.lain@warga.example\n"
        "To: a@x.example, B <B@x.example>\nSubject:  Pengaduan   Masyarakat\n"
        "Date: Mon, 3 Mar 2025 08:00:00 +0700\n", b"Jalan rusak.\r\n"))
    assert isinstance(msg, ParsedMessage)
    assert msg.subject == "Pengaduan Masyarakat"
    assert msg.from_addr == "siti@warga.example"
    assert msg.from_name == "Siti Aminah"
    assert msg.reply_to == "siti.lain@warga.example"
    assert msg.to_addrs == ("a@x.example", "b@x.example")
    assert msg.date_header == "Mon, 3 Mar 2025 08:00:00 +0700"
    assert msg.content_type == "text/plain"
    assert msg.text == "Jalan rusak."
    assert not msg.html_only
    assert msg.problems == ()


def test_missing_headers_give_empty_values() -> None:
    msg = parse_message(b"\r\nhanya isi\r\n")
    assert (msg.subject, msg.from_addr, msg.from_name, msg.reply_to) == ("", None, None, None)
    assert (msg.message_id, msg.date_header, msg.to_addrs) == (None, None, ())
    assert msg.text == "hanya isi"


def test_headers_keep_order_with_lowercased_names() -> None:
    msg = parse_message(_msg("Auto-Submitted: auto-replied\nX-Autoreply: yes\n"
                             "Precedence: bulk\nX-Autoreply: second\n"))
    assert [name for name, _ in msg.headers] == ["auto-submitted", "x-autoreply", "precedence",
                                                 "x-autoreply"]


def test_header_lookup_is_case_insensitive_and_returns_the_first() -> None:
    msg = parse_message(_msg("X-Autoreply: yes\nX-AUTOREPLY: no\n"))
    assert msg.header("x-autoreply") == "yes"
    assert msg.header("X-AutoReply") == "yes"
    assert msg.header("auto-submitted") is None


def test_header_values_are_decoded() -> None:
    msg = parse_message(_msg("X-Note: =?utf-8?q?caf=C3=A9?=\n"))
    assert msg.header("x-note") == "café"


def test_folded_header_is_unfolded() -> None:
    msg = parse_message(_msg("Subject: Pengaduan\n\tjalan   rusak\n"))
    assert msg.subject == "Pengaduan jalan rusak"


def test_from_name_that_decodes_to_a_comma_keeps_the_address() -> None:
    msg = parse_message(_msg("From: =?utf-8?q?Aminah=2C_Siti?= <siti@warga.example>\n"))
    assert msg.from_addr == "siti@warga.example"
    assert msg.from_name == "Aminah, Siti"


def test_from_without_address_keeps_the_name() -> None:
    msg = parse_message(_msg("From: Mail Delivery Subsystem <MAILER-DAEMON>\n"))
    assert msg.from_addr is None
    assert msg.from_name == "Mail Delivery Subsystem"


def test_from_with_undeclared_utf8_name() -> None:
    msg = parse_message(b"From: Sit\xc3\xad Aminah <siti@warga.example>\r\n\r\nisi")
    assert msg.from_name == "Sití Aminah"
    assert msg.from_addr == "siti@warga.example"


def test_unparseable_from_gives_none() -> None:
    msg = parse_message(_msg("From: <<<>>> ,,, ;;;\n"))
    assert msg.from_addr is None


def test_to_addresses_from_every_to_header() -> None:
    msg = parse_message(_msg("To: a@x.example, a@x.example\nTo: C <c@x.example>\n"))
    assert msg.to_addrs == ("a@x.example", "c@x.example")


def test_message_id_is_normalised() -> None:
    assert parse_message(_msg("Message-ID:   <abc@warga.example>  \n")).message_id == (
        "<abc@warga.example>")


def test_message_id_without_brackets_gets_them() -> None:
    assert parse_message(_msg("Message-ID: abc@warga.example\n")).message_id == (
        "<abc@warga.example>")


def test_in_reply_to_ignores_comments() -> None:
    msg = parse_message(_msg("In-Reply-To: <p@x.example> (Siti's message of Monday)\n"))
    assert msg.in_reply_to == ("<p@x.example>",)


def test_references_over_folded_lines_without_repeats() -> None:
    msg = parse_message(_msg("References: <r1@x.example>\n\t<r2@x.example> <r1@x.example>\n"))
    assert msg.references == ("<r1@x.example>", "<r2@x.example>")


def test_in_reply_to_that_is_free_text_gives_nothing() -> None:
    assert parse_message(_msg("In-Reply-To: your message of Monday\n")).in_reply_to == ()


# -- subjects and encoded-words --------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("=?UTF-8?B?UGVuZ2FkdWFuIE1hc3lhcmFrYXQ=?=", "Pengaduan Masyarakat"),
    ("=?utf-8?q?pengaduan_=E2=80=93_jalan?=", "pengaduan – jalan"),
    ("=?ISO-8859-1?Q?caf=E9?= tutup", "café tutup"),
    ("=?windows-1252?Q?=93kutipan=94?=", "\u201ckutipan\u201d"),
    ("Re: =?UTF-8?B?UGVuZ2FkdWFu?= Masyarakat", "Re: Pengaduan Masyarakat"),
    ("Fwd: Re: =?utf-8?q?caf=C3=A9?=", "Fwd: Re: café"),
    ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
    ("=?utf-8?b?8J+Ysw==?=", "\U0001f633"),
    ("=?utf-8*id?q?caf=C3=A9?=", "café"),
    ("=?utf-8?b?UGVuZ2FkdWFu?", "=?utf-8?b?UGVuZ2FkdWFu?"),
], ids=["utf8-b", "utf8-q", "latin1-q", "cp1252-q", "re-prefix", "fwd-prefix", "adjacent",
        "emoji", "rfc2231-language", "unterminated"])
def test_encoded_word_subjects(raw: str, expected: str) -> None:
    assert parse_message(_msg(f"Subject: {raw}\n")).subject == expected


def test_multibyte_character_split_across_encoded_words() -> None:
    # "é" is C3 A9; encoders cut words by length, not by character.
    assert parse_message(_msg("Subject: =?utf-8?q?caf=C3?= =?utf-8?q?=A9?=\n")).subject == "café"


def test_base64_encoded_word_without_padding() -> None:
    assert parse_message(_msg("Subject: =?utf-8?b?UGVuZ2FkdWFu?=\n")).subject == "Pengaduan"
    assert parse_message(_msg("Subject: =?utf-8?b?Y2Fmw6k?=\n")).subject == "café"


def test_undeclared_utf8_subject() -> None:
    raw = b"Subject: Pengaduan \xe2\x80\x94 caf\xc3\xa9\r\n\r\nisi"
    assert parse_message(raw).subject == "Pengaduan — café"


def test_undeclared_latin1_subject() -> None:
    assert parse_message(b"Subject: caf\xe9 tutup\r\n\r\nisi").subject == "café tutup"


def test_control_characters_in_subject_become_spaces() -> None:
    assert parse_message(b"Subject: a\x00b\x07c\r\n\r\nisi").subject == "a b c"


# -- body text -------------------------------------------------------------------------------


def test_html_only_becomes_readable_text() -> None:
    html = (b"<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
            b"<p>Air <b>mati</b> di RT&nbsp;03.</p>"
            b"<p>Lihat <a href='http://x.example/foto'>foto di sini</a></p></body></html>")
    msg = parse_message(_msg("Subject: x\nContent-Type: text/html; charset=utf-8\n", html))
    assert msg.html_only
    assert "Air mati di RT 03." in msg.text
    assert "foto di sini" in msg.text
    assert "<" not in msg.text
    assert "color:red" not in msg.text and "alert" not in msg.text


def test_alternative_prefers_plain() -> None:
    raw = _multipart("alternative",
                     _part("Content-Type: text/plain\n", b"teks biasa"),
                     _part("Content-Type: text/html\n", b"<p>teks html</p>"))
    msg = parse_message(raw)
    assert msg.text == "teks biasa"
    assert not msg.html_only


def test_alternative_with_empty_plain_uses_html() -> None:
    raw = _multipart("alternative",
                     _part("Content-Type: text/plain\n", b"  \r\n"),
                     _part("Content-Type: text/html\n", b"<p>teks html</p>"))
    msg = parse_message(raw)
    assert msg.text == "teks html"
    assert msg.html_only


def test_images_embedded_in_html_are_inline_attachments() -> None:
    related = (b'Content-Type: multipart/related; boundary="r"\r\n\r\n'
               b"--r\r\nContent-Type: text/html\r\n\r\n<p>lihat foto</p><img src='cid:f1'>\r\n"
               b"--r\r\nContent-Type: image/jpeg\r\nContent-ID: <f1>\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--r--")
    raw = _multipart("alternative", _part("Content-Type: text/plain\n", b"lihat foto"), related)
    msg = parse_message(raw)
    assert msg.text == "lihat foto"
    [photo] = msg.attachments
    assert photo == Attachment("lampiran-1.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10", True)


def test_inline_text_parts_of_a_mixed_message_are_joined_with_a_blank_line() -> None:
    raw = _multipart("mixed",
                     _part("Content-Type: text/plain\n", b"bagian satu"),
                     _part("Content-Type: image/png\nContent-Disposition: inline\n", b"PNG"),
                     _part("Content-Type: text/plain\n", b"bagian dua"))
    assert parse_message(raw).text == "bagian satu\n\nbagian dua"


def test_text_attachment_is_not_the_body() -> None:
    raw = _multipart("mixed",
                     _part("Content-Type: text/plain\n", b"isi pengaduan"),
                     _part("Content-Type: text/plain\nContent-Disposition: attachment; "
                           "filename=catatan.txt\n", b"lampiran teks"))
    msg = parse_message(raw)
    assert msg.text == "isi pengaduan"
    assert [(a.filename, a.data) for a in msg.attachments] == [("catatan.txt", b"lampiran teks")]


def test_quoted_printable_body() -> None:
    msg = parse_message(_msg("Content-Type: text/plain; charset=utf-8\n"
                             "Content-Transfer-Encoding: quoted-printable\n",
                             b"jalan rusak =E2=80=94 sudah lam=\r\na sekali"))
    assert msg.text == "jalan rusak — sudah lama sekali"


def test_base64_body() -> None:
    body = base64.encodebytes("Lampu jalan mati — RT 02".encode())
    msg = parse_message(_msg("Content-Type: text/plain; charset=utf-8\n"
                             "Content-Transfer-Encoding: base64\n", body))
    assert msg.text == "Lampu jalan mati — RT 02"


def test_forwarded_message_text_is_kept() -> None:
    inner = b"Subject: aduan asli\r\nContent-Type: text/plain\r\n\r\nsampah menumpuk"
    raw = _multipart("mixed", _part("Content-Type: text/plain\n", b"diteruskan:"),
                     _part("Content-Type: message/rfc822\n", inner))
    assert parse_message(raw).text == "diteruskan:\n\nsampah menumpuk"


def test_text_is_capped() -> None:
    msg = parse_message(_msg("Subject: x\n", b"a" * 5000), max_text_chars=1000)
    assert len(msg.text) == 1000
    assert "text truncated to 1000 characters" in msg.problems


def test_nul_and_control_characters_are_removed_but_tabs_kept() -> None:
    msg = parse_message(_msg("Subject: x\n", b"a\x00b\x07c\x1bd\te\x0cf\r\n"))
    assert msg.text == "abcd\tef"


@pytest.mark.parametrize("raw", [
    b"Subject: a\r\nFrom: x@y.example\r\n\r\nsatu\r\ndua\r\n",
    b"Subject: a\nFrom: x@y.example\n\nsatu\ndua\n",
    b"Subject: a\rFrom: x@y.example\r\rsatu\rdua\r",
], ids=["crlf", "lf", "cr-only"])
def test_line_endings(raw: bytes) -> None:
    msg = parse_message(raw)
    assert (msg.subject, msg.from_addr) == ("a", "x@y.example")
    assert msg.text == "satu\ndua"


def test_garbled_header_line_does_not_hide_the_subject() -> None:
    raw = b"From: x@y.example\r\nthis is not a header\r\nSubject: Pengaduan\r\n\r\nisi\r\n"
    msg = parse_message(raw)
    assert msg.subject == "Pengaduan"
    assert "invalid header line dropped" in msg.problems


# -- charsets --------------------------------------------------------------------------------

WRONGLY_LABELLED = b"Jalan rusak di depan rumah \xe2\x80\x94 sudah 3 bulan, caf\xc3\xa9"


@pytest.mark.parametrize("label", ["iso-8859-1", "us-ascii", "windows-1252", "latin-1"])
def test_utf8_body_labelled_as_latin1_or_ascii_is_read_as_utf8(label: str) -> None:
    msg = parse_message(_msg(f"Content-Type: text/plain; charset={label}\n", WRONGLY_LABELLED))
    assert msg.text == "Jalan rusak di depan rumah — sudah 3 bulan, café"


def test_real_latin1_body_stays_latin1() -> None:
    raw = _msg("Content-Type: text/plain; charset=iso-8859-1\n", "café".encode("latin-1"))
    assert parse_message(raw).text == "café"


def test_latin1_label_on_cp1252_punctuation() -> None:
    raw = _msg("Content-Type: text/plain; charset=iso-8859-1\n", b"\x93kutipan\x94 \x96 ya")
    assert parse_message(raw).text == "\u201ckutipan\u201d \u2013 ya"


def test_declared_charset_that_fits_is_used() -> None:
    raw = _msg("Content-Type: text/plain; charset=koi8-r\n", "Привет, село".encode("koi8-r"))
    assert parse_message(raw).text == "Привет, село"


@pytest.mark.parametrize("label", ["fakescii", "X-UNKNOWN", "us-askey", '"utf-8 bogus"'])
def test_unknown_charset_is_detected_and_noted(label: str) -> None:
    raw = _msg(f"Content-Type: text/plain; charset={label}\n", "jalan rusak ü".encode())
    msg = parse_message(raw)
    assert msg.text == "jalan rusak ü"
    assert any(p.startswith("unknown charset") for p in msg.problems)


def test_bytes_invalid_in_declared_charset_are_detected_and_noted() -> None:
    raw = _msg("Content-Type: text/plain; charset=utf-8\n", "café".encode("latin-1"))
    msg = parse_message(raw)
    assert msg.text == "café"
    assert any("not valid in declared charset" in p for p in msg.problems)


def test_decode_bytes_prefers_utf8_over_a_latin1_label() -> None:
    assert decode_bytes(WRONGLY_LABELLED, "iso-8859-1") == (
        "Jalan rusak di depan rumah — sudah 3 bulan, café")


def test_decode_bytes_without_label() -> None:
    assert decode_bytes("café".encode(), None) == "café"
    assert decode_bytes("café".encode("cp1252"), None) == "café"


def test_decode_bytes_ignores_codecs_that_are_not_charsets() -> None:
    assert decode_bytes(b"abc", "base64") == "abc"
    assert decode_bytes(b"abc", "rot13") == "abc"


def test_decode_bytes_does_not_read_ascii_as_utf16() -> None:
    assert decode_bytes(b"lampu mati", "utf-16") == "lampu mati"
    assert decode_bytes("lampu mati".encode("utf-16"), "utf-16") == "lampu mati"


def test_decode_bytes_mostly_utf8_with_one_broken_byte() -> None:
    data = "Юникод запрещен".encode() + b"\xf1"
    assert decode_bytes(data, None) == "Юникод запрещен\ufffd"


def test_decode_bytes_never_raises_on_garbage() -> None:
    for label in (None, "utf-8", "utf-16", "utf-7", "iso-2022-jp", "zlib", "\x00", "a" * 500):
        assert isinstance(decode_bytes(bytes(range(256)) * 3, label), str)


# -- attachments -----------------------------------------------------------------------------


def _attachment_named(disposition: str) -> ParsedMessage:
    return parse_message(_multipart(
        "mixed", _part("Content-Type: text/plain\n", b"lihat lampiran"),
        _part(f"Content-Type: application/pdf\nContent-Disposition: attachment; {disposition}\n",
              b"%PDF-1.4")))


@pytest.mark.parametrize(("disposition", "expected"), [
    ('filename="../../etc/passwd"', "passwd"),
    ('filename="C:\\\\Users\\\\warga\\\\laporan.pdf"', "laporan.pdf"),
    ("filename*=utf-8''laporan%20desa%20%E2%80%94%20RT%2003.pdf", "laporan desa — RT 03.pdf"),
    ("filename*0*=utf-8''foto%20;\n filename*1=jalan.pdf", "foto jalan.pdf"),
    ('filename="=?utf-8?q?sur=C3=A1t.pdf?="', "surát.pdf"),
    ('filename=".htaccess"', "htaccess"),
    ('filename=".."', "lampiran-1.pdf"),
    ('filename="a\x01b\x7fc.pdf"', "a b c.pdf"),
    ("", "lampiran-1.pdf"),
], ids=["traversal", "windows-path", "rfc2231", "rfc2231-continued", "rfc2047", "dotfile",
        "dot-dot", "control-chars", "missing"])
def test_attachment_names_are_made_safe(disposition: str, expected: str) -> None:
    [attachment] = _attachment_named(disposition).attachments
    assert attachment.filename == expected
    assert attachment.content_type == "application/pdf"
    assert attachment.data == b"%PDF-1.4"
    assert not attachment.inline


def test_missing_names_are_numbered_by_attachment() -> None:
    raw = _multipart("mixed", _part("Content-Type: text/plain\n", b"isi"),
                     _part("Content-Type: image/jpeg\n", b"JPG"),
                     _part("Content-Type: application/x-unknown-thing\n", b"???"))
    assert [a.filename for a in parse_message(raw).attachments] == ["lampiran-1.jpg",
                                                                    "lampiran-2.bin"]


def test_safe_filename_caps_the_length_and_keeps_the_extension() -> None:
    name = safe_filename("a" * 300 + ".jpg", "image/jpeg", 1)
    assert len(name) == 120
    assert name.endswith(".jpg")


def test_safe_filename_replaces_control_and_reserved_characters() -> None:
    assert safe_filename('a\x00b\x1b:c*?"<>|.pdf', "application/pdf", 1) == "a_b__c______.pdf"


@pytest.mark.parametrize(("name", "safe"), [
    ("foto\u202egpj.exe", "fotogpj.exe"),  # shown as "fotoexe.jpg" with the override kept
    ("\u2066surat\u2069\u200e.pdf\u200f", "surat.pdf"),
    ("la\u200bpor\u200dan\u2060\ufeff\u061c\u00ad.pdf", "laporan.pdf"),
    ("\u3164.exe", "exe"),  # a blank filler for a name: a hidden file in disguise
    ("CON", "_CON"), ("con.txt", "_con.txt"), ("Nul.tar.gz", "_Nul.tar.gz"), ("aux", "_aux"),
    ("PRN.jpg", "_PRN.jpg"), ("COM1.png", "_COM1.png"), ("lpt9", "_lpt9"), ("com1 .doc", "_com1 .doc"),
    ("CONTOH.jpg", "CONTOH.jpg"), ("com10.txt", "com10.txt"), ("nulis.pdf", "nulis.pdf"),
    ("laporan.pdf. . .", "laporan.pdf"), ("foto.jpg   ", "foto.jpg"), (". . .", "lampiran-1.pdf"),
])
def test_safe_filename_says_what_the_file_is(name: str, safe: str) -> None:
    assert safe_filename(name, "application/pdf", 1) == safe


_INVISIBLE = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
              "\u2066\u2067\u2068\u2069\u061c\ufeff")


_NAME_PIECES = ["foto", "CON", "nul", "Aux", "prn", "com1", "LPT9", ".", " ", ".jpg", ".exe", "/",
                "\\", *_INVISIBLE]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES) | st.characters(), max_size=12).map("".join))
def test_safe_filename_never_keeps_invisible_characters_or_device_names(name: str) -> None:
    safe = safe_filename(name, "image/jpeg", 1)
    assert safe and not any(ch in _INVISIBLE for ch in safe)
    assert not safe.endswith((".", " ")) and not safe.startswith(".")
    stem = safe.split(".", 1)[0].rstrip(" ").upper()
    assert stem not in {"CON", "PRN", "AUX", "NUL"} and not (
        stem[:3] in ("COM", "LPT") and stem[3:] in list("123456789"))


def test_attachment_content_type_is_lowercased() -> None:
    raw = _multipart("mixed", _part("Content-Type: IMAGE/PNG; name=Foto.PNG\n", b"PNG"))
    [attachment] = parse_message(raw).attachments
    assert (attachment.content_type, attachment.filename) == ("image/png", "Foto.PNG")


def test_base64_attachment_with_bad_padding_is_decoded() -> None:
    raw = _multipart("mixed", _part("Content-Type: image/png\nContent-Disposition: attachment; "
                                    "filename=a.png\nContent-Transfer-Encoding: base64\n",
                                    b"iVBORw0KGgo"))
    msg = parse_message(raw)
    assert msg.attachments[0].data == b"\x89PNG\r\n\x1a\n"
    assert "defect: InvalidBase64PaddingDefect" in msg.problems


def _three_attachments() -> bytes:
    part = _part("Content-Type: application/octet-stream\nContent-Disposition: attachment; "
                 "filename=f.bin\n", b"x" * 100)
    return _multipart("mixed", _part("Content-Type: text/plain\n", b"isi"), part, part, part)


def test_attachment_count_limit() -> None:
    msg = parse_message(_three_attachments(), max_attachments=2)
    assert len(msg.attachments) == 2
    assert "part 5 skipped: more than 2 attachments" in msg.problems


def test_attachment_size_limit() -> None:
    msg = parse_message(_three_attachments(), max_attachment_bytes=50)
    assert msg.attachments == ()
    assert "part 3 skipped: 100 bytes, over the 50 limit" in msg.problems
    assert msg.text == "isi"


# -- broken structure ------------------------------------------------------------------------


def test_multipart_without_boundary_parameter_keeps_the_text() -> None:
    msg = parse_message(_msg("Content-Type: multipart/alternative\n", b"teks tanpa batas\r\n"))
    assert "teks tanpa batas" in msg.text
    assert any("without a usable boundary" in p for p in msg.problems)


def test_boundary_that_never_appears_keeps_the_text() -> None:
    msg = parse_message(_msg('Content-Type: multipart/mixed; boundary="hilang"\n',
                             b"teks tanpa batas\r\n"))
    assert "teks tanpa batas" in msg.text


def test_missing_close_boundary_keeps_the_text() -> None:
    raw = _msg('Content-Type: multipart/mixed; boundary="b"\n',
               b"--b\r\nContent-Type: text/plain\r\n\r\nisi tanpa penutup\r\n")
    msg = parse_message(raw)
    assert msg.text == "isi tanpa penutup"
    assert "defect: CloseBoundaryNotFoundDefect" in msg.problems


def test_deep_nesting_is_bounded() -> None:
    depth = 60
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                    for i in range(depth))
    msg = parse_message(b"Subject: x\r\n" + head + b"Content-Type: text/plain\r\n\r\ndalam\r\n")
    assert any("nesting deeper than" in p for p in msg.problems)


def test_part_count_is_bounded() -> None:
    part = _part("Content-Type: text/plain\n", b"x")
    msg = parse_message(_multipart("mixed", *[part] * 500))
    assert any("MIME parts; the rest ignored" in p for p in msg.problems)
    assert len(msg.problems) <= 51


def test_hostile_html_falls_back_quickly() -> None:
    html = b"<div>" * 200_000 + b"isi" + b"<script" * 50_000
    started = time.monotonic()
    msg = parse_message(_msg("Content-Type: text/html\n", html))
    assert time.monotonic() - started < 20
    assert isinstance(msg.text, str)
    assert "<" not in msg.text


def test_empty_input() -> None:
    msg = parse_message(b"")
    assert (msg.subject, msg.text, msg.attachments, msg.headers) == ("", "", (), ())
    assert msg.content_type == "text/plain"


def test_garbage_bytes() -> None:
    msg = parse_message(bytes(range(256)) * 10)
    assert isinstance(msg.text, str)
    assert "\x00" not in msg.text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    msg = parse_message(raw)
    assert "\x00" not in msg.text and "\x00" not in msg.subject


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    b"Subject: =?utf-8?b?", b"?=", b"Content-Type: multipart/mixed; boundary=b\r\n", b"--b\r\n",
    b"--b--\r\n", b"\r\n", b"\n", b"\r", b"Content-Transfer-Encoding: base64\r\n", b"=?x?q?",
    b"Content-Disposition: attachment; filename*=x''%ff%00\r\n", b"\xff\xfe", b"\xc3",
    b"Content-Type: text/html; charset=fakescii\r\n", b"<p>", b"From: <a@b>, \"c\r\n",
    b"Content-Type: message/rfc822\r\n",
]), max_size=40))
def test_mime_shaped_noise_never_raises(chunks: list[bytes]) -> None:
    msg = parse_message(b"".join(chunks))
    assert isinstance(msg.text, str)
    for attachment in msg.attachments:
        assert attachment.filename and "/" not in attachment.filename


def _read_cold_then_after_its_head(raw: bytes) -> tuple[ParsedMessage, ParsedMessage, ParsedMessage, int]:
    """(the message read with nothing remembered, its header block read alone, the message
    read after that, how many readings that last one reused)."""
    from mailflow.core.parse import _read_head

    _read_head.cache_clear()
    cold = parse_message(raw)
    _read_head.cache_clear()
    head = parse_message(raw.split(b"\r\n\r\n")[0] + b"\r\n\r\n")
    before = _read_head.cache_info().hits
    warm = parse_message(raw)
    return cold, head, warm, _read_head.cache_info().hits - before


def test_the_header_block_read_by_the_first_look_is_not_read_again() -> None:
    """A complaint's header block, read alone and then with its body: the second reading
    is the first one's (with its problem notes); one with an 8-bit header whose charset
    only a part declares is read again, since the hint differs, and says the same."""
    raw = (b"From: =?utf-8?q?Bu_Sit=C3=AD?= <siti@warga.example>\r\nTo: pengaduan@klero.desa.id\r\n"
           b"Subject: =?utf-8?q?Pengaduan_Masyarakat?= =?bogus?q?x?=\r\nMessage-ID: <a1@w>\r\n"
           b"\r\nJalan rusak.\r\n")
    cold, head, warm, reused = _read_cold_then_after_its_head(raw)
    assert reused == 1
    assert warm == cold and warm.problems == cold.problems and head.subject == cold.subject
    assert any("charset" in note or "encoded" in note for note in cold.problems), cold.problems

    koi8 = (b"From: warga@desa.example\r\nSubject: Jalan r\xd5sak\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b'Content-Type: text/plain; charset="koi8-r"\r\n\r\nr\xd5sak\r\n--b--\r\n')
    cold, head, warm, reused = _read_cold_then_after_its_head(koi8)
    assert head.subject == "Jalan rÕsak" and reused == 0
    assert warm == cold and cold.subject == "Jalan rуsak"  # Cyrillic u
