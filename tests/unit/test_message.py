"""The parser on small hand-made messages: one oddity per test; it never raises."""

from mailflow.message import decode_bytes, parse_message, safe_filename


def _msg(headers: str, body: bytes = b"isi\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


def test_plain_message_fields() -> None:
    msg = parse_message(_msg(
        "From: Siti Aminah <Siti@Warga.Example>\nReply-To: siti.lain@warga.example\n"
        "To: a@x, B <b@x>\nSubject:  Pengaduan   Masyarakat\nMessage-ID:  <abc@warga.example> \n"
        "In-Reply-To: <p@x>\nReferences: <r1@x> <r2@x>\n", b"Jalan rusak.\r\n"))
    assert msg.subject == "Pengaduan Masyarakat"
    assert msg.from_addr == "siti@warga.example"
    assert msg.from_name == "Siti Aminah"
    assert msg.reply_to == "siti.lain@warga.example"
    assert msg.to_addrs == ("a@x", "b@x")
    assert msg.message_id == "<abc@warga.example>"
    assert msg.in_reply_to == ("<p@x>",)
    assert msg.references == ("<r1@x>", "<r2@x>")
    assert msg.text == "Jalan rusak."
    assert not msg.html_only


def test_html_only_becomes_readable_text() -> None:
    html = (b"<html><head><style>p{color:red}</style></head><body><p>Air <b>mati</b> di RT&nbsp;03."
            b"</p><p>Lihat <a href='http://x.example/foto'>foto</a></p></body></html>")
    msg = parse_message(_msg("Subject: x\nContent-Type: text/html; charset=utf-8\n", html))
    assert msg.html_only
    assert "Air mati di RT 03." in msg.text
    assert "foto" in msg.text
    assert "<" not in msg.text and "color:red" not in msg.text


def test_alternative_prefers_plain() -> None:
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nteks biasa\r\n"
            b"--b\r\nContent-Type: text/html\r\n\r\n<p>teks html</p>\r\n--b--\r\n")
    msg = parse_message(_msg('Subject: x\nContent-Type: multipart/alternative; boundary="b"\n', body))
    assert msg.text == "teks biasa"


def test_encoded_subjects() -> None:
    cases = {
        "=?UTF-8?B?UGVuZ2FkdWFuIE1hc3lhcmFrYXQ=?=": "Pengaduan Masyarakat",
        "=?utf-8?q?Re=3A_pengaduan_=E2=80=93_jalan?=": "Re: pengaduan – jalan",
        "=?ISO-8859-1?Q?caf=E9?= tutup": "café tutup",
        "Fwd: =?UTF-8?B?UGVuZ2FkdWFu?= Masyarakat": "Fwd: Pengaduan Masyarakat",
    }
    for raw, expected in cases.items():
        assert parse_message(_msg(f"Subject: {raw}\n")).subject == expected


def test_undeclared_utf8_subject() -> None:
    raw = b"Subject: Pengaduan \xe2\x80\x94 caf\xc3\xa9\r\n\r\nisi"
    assert parse_message(raw).subject == "Pengaduan — café"


def test_wrongly_declared_latin1_body_is_read_as_utf8() -> None:
    body = "banjir — café".encode()
    msg = parse_message(_msg("Content-Type: text/plain; charset=iso-8859-1\n", body))
    assert msg.text == "banjir — café"


def test_real_latin1_body_stays_latin1() -> None:
    msg = parse_message(_msg("Content-Type: text/plain; charset=iso-8859-1\n", "café".encode("latin-1")))
    assert msg.text == "café"


def test_unknown_charset_is_detected() -> None:
    msg = parse_message(_msg("Content-Type: text/plain; charset=x-fakescii\n", "jalan rusak ü".encode()))
    assert msg.text == "jalan rusak ü"


def test_decode_bytes_garbage_never_raises() -> None:
    assert isinstance(decode_bytes(bytes(range(256)), "utf-8"), str)


def test_attachment_names_are_made_safe() -> None:
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nlihat lampiran\r\n"
            b"--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; "
            b'filename="../../etc/passwd"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n'
            b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            b"filename*=utf-8''laporan%20desa.pdf\r\n\r\n%PDF\r\n"
            b"--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n"
            b"--b--\r\n")
    msg = parse_message(_msg('Content-Type: multipart/mixed; boundary="b"\n', body))
    names = [a.filename for a in msg.attachments]
    assert names == ["passwd", "laporan desa.pdf", "lampiran-4.jpg"]
    assert msg.attachments[0].data.startswith(b"\x89PNG")
    assert msg.text == "lihat lampiran"


def test_text_attachment_is_not_the_body() -> None:
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\nisi pengaduan\r\n"
            b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
            b"lampiran teks\r\n--b--\r\n")
    msg = parse_message(_msg('Content-Type: multipart/mixed; boundary="b"\n', body))
    assert msg.text == "isi pengaduan"
    assert [a.filename for a in msg.attachments] == ["a.txt"]


def test_attachment_limits() -> None:
    part = (b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
            b"filename=f.bin\r\n\r\n" + b"x" * 100 + b"\r\n")
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nisi\r\n" + part * 3 + b"--b--\r\n"
    raw = _msg('Content-Type: multipart/mixed; boundary="b"\n', body)
    assert len(parse_message(raw, max_attachments=2).attachments) == 2
    limited = parse_message(raw, max_attachment_bytes=50)
    assert limited.attachments == ()
    assert any("over the 50 limit" in p for p in limited.problems)


def test_missing_boundary_keeps_the_text() -> None:
    raw = _msg("Content-Type: multipart/alternative\n", b"teks tanpa batas\r\n")
    msg = parse_message(raw)
    assert "teks tanpa batas" in msg.text


def test_deep_nesting_is_bounded() -> None:
    depth = 60
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                    for i in range(depth))
    raw = b"Subject: x\r\n" + head + b"Content-Type: text/plain\r\n\r\ndalam\r\n"
    msg = parse_message(raw)
    assert any("nesting" in p for p in msg.problems)


def test_empty_and_garbage_input() -> None:
    assert parse_message(b"").subject == ""
    garbage = parse_message(bytes(range(256)) * 10)
    assert isinstance(garbage.text, str) and "\x00" not in garbage.text


def test_line_endings_cr_only_and_crlf() -> None:
    for raw in (b"Subject: a\rFrom: x@y\r\rbody\r", b"Subject: a\r\nFrom: x@y\r\n\r\nbody\r\n"):
        msg = parse_message(raw)
        assert msg.subject == "a"
        assert msg.text == "body"


def test_text_is_capped() -> None:
    msg = parse_message(_msg("Subject: x\n", b"a" * 5000), max_text_chars=1000)
    assert len(msg.text) == 1000
    assert any("truncated" in p for p in msg.problems)


def test_safe_filename_edge_cases() -> None:
    assert safe_filename("..", "image/png", 2) == "lampiran-2.png"
    assert safe_filename("C:\\Users\\x\\foto.jpg", "image/jpeg", 1) == "foto.jpg"
    assert len(safe_filename("a" * 300 + ".jpg", "image/jpeg", 1)) <= 120
    assert safe_filename("a" * 300 + ".jpg", "image/jpeg", 1).endswith(".jpg")
