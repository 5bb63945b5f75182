"""Whole messages as bytes, built to be hostile: MIME trees, headers, encodings, charsets.

`messages()` draws a message from one of three sources: a generated MIME tree
(`built_messages`), a third-party corpus message mutated by splicing, truncating and
flipping bytes (`mutated_corpus`), or plain random bytes with a header-like start.
Every generated piece may be broken the way real senders break it: encoded-words in
unknown or lying charsets, base64 with bad padding, quoted-printable with bad escapes,
boundaries that never close or that appear in a body, CR-only or mixed line endings,
NUL and control characters, duplicated or missing From/Subject/Date/Message-ID.
"""

from __future__ import annotations

import base64
import binascii
import quopri
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.corpus_files import corpus_messages

PHRASE = "Pengaduan Masyarakat"
PREFIX = "ADU"
INBOX = "pengaduan@klero.desa.id"

CHARSETS = [
    "utf-8", "UTF-8", "us-ascii", "iso-8859-1", "latin1", "windows-1252", "cp1252", "gb2312",
    "gbk", "big5", "shift_jis", "euc-kr", "koi8-r", "utf-16", "utf-16le", "utf-16be", "utf-32",
    "utf-7", "iso-2022-jp", "x-unknown", "", "utf-8*id", '"utf-8"', "base64", "rot13", "zlib",
    "\x00", "utf-8\x01", "iso-8859-99", "a" * 80, "ks_c_5601-1987", "unicode-1-1-utf-7",
]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode",
             "BASE64", "x-unknown", ""]

# Text that resembles what residents write, including identity and near-miss phrases.
_WORDS = [
    "Pengaduan", "Masyarakat", "pengaduan masyarakat", "PENGADUAN  MASYARAKAT", "Pengaduan\u00a0Masyarakat",
    "Pengaduan Masyarakt", "Peng\u200baduan Masyarakat", "Ｐｅｎｇａｄｕａｎ Ｍａｓｙａｒａｋａｔ",
    "ADU-2026-00042", "[ADU-2026-00001]", "adu-2026-123456", "ADU-26-0001", "ADU-2026-0000",
    "Re:", "Fwd:", "Balas:", "Out of Office", "Automatic reply", "Undeliverable:", "Nama:", "NIK:",
    "Alamat:", "No. HP:", "Siti Aminah", "3322114506890002", "0812-3456-7890", "+62 812 3456 7890",
    "siti@warga.example", "Dusun Krajan RT 02/RW 05", "jalan", "rusak", "mohon", "#status", "#tolak",
    "#prioritas tinggi", "#petugas kasi@klero.desa.id", "#kanal telepon", "#internal", "#publik",
    "> dikutip", "Pada Jum, 27 Nov 2026 Siti menulis:", "--", "-- ", "Hormat saya,", "\u202e",
    "\ufeff", "\ud7ff", "\U0001f600", "café", "日本語", "Ω", "\x00", "\x7f", "\x1b[31m", "&amp;",
    "<script>alert(1)</script>", "=?utf-8?B?", "?=", "=?", "\\", '"', "<", ">", ",", ";",
]
_TEXT_ALPHABET = st.characters(codec="utf-8") | st.sampled_from("\r\n\t \x00\x0b\x0c\x85\u2028")
texts = st.lists(st.sampled_from(_WORDS) | st.text(_TEXT_ALPHABET, max_size=12), max_size=25).map(" ".join)


def _encode(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset.strip('"'), errors="replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return text.encode("utf-8", errors="surrogatepass")


@st.composite
def encoded_words(draw: st.DrawFn, text: str, damage: bool = True) -> str:
    """`text` as RFC 2047 encoded-words, possibly split, lying about their charset, or (with
    `damage`) broken."""
    charset = draw(st.sampled_from(CHARSETS))
    data = _encode(text, draw(st.sampled_from([charset, "utf-8", "latin-1"])))
    pieces = []
    size = draw(st.integers(1, 40))
    for start in range(0, max(len(data), 1), size):
        chunk = data[start:start + size]
        if draw(st.booleans()):
            body = base64.b64encode(chunk).decode()
            if damage and draw(st.integers(0, 5)) == 0:
                body = body.rstrip("=") + draw(st.sampled_from(["", "=", "===", "!", "*"]))
            pieces.append(f"=?{charset}?{draw(st.sampled_from('bB'))}?{body}?=")
        else:
            body = binascii.b2a_qp(chunk, header=True).decode("ascii").replace("?", "=3F")
            if damage and draw(st.integers(0, 5)) == 0:
                body += draw(st.sampled_from(["=", "=Z", "=4", "=\n"]))
            pieces.append(f"=?{charset}?{draw(st.sampled_from('qQ'))}?{body}?=")
    return draw(st.sampled_from([" ", "\r\n ", "", "\t"])).join(pieces)


@st.composite
def header_values(draw: st.DrawFn, base: st.SearchStrategy[str] = texts) -> bytes:
    """A header value: plain, encoded-words, raw 8-bit in some charset, folded, with controls."""
    text = draw(base)
    kind = draw(st.sampled_from(["plain", "words", "raw8", "mixed"]))
    if kind == "words":
        value = draw(encoded_words(text)).encode("ascii", "replace")
    elif kind == "raw8":
        value = _encode(text, draw(st.sampled_from(CHARSETS)))
    elif kind == "mixed":
        value = text.encode("utf-8", "surrogatepass") + b" " + draw(encoded_words(draw(texts))).encode(
            "ascii", "replace")
    else:
        value = text.encode("ascii", "replace")
    if draw(st.booleans()):
        # Fold at some spaces (and sometimes at no whitespace at all).
        folded = value.replace(b" ", draw(st.sampled_from([b"\r\n ", b"\n\t", b"\r ", b" "])), 3)
        value = folded
    return value


def _addresses(draw: st.DrawFn) -> bytes:
    shapes = [
        b"siti@warga.example", b"Siti Aminah <siti@warga.example>", b'"Doe, John" <j@x.example>',
        b"<>", b"", b"MAILER-DAEMON", b"postmaster@x.example", INBOX.encode(), b"a@b@c",
        b"kasi@klero.desa.id <siti@warga.example>", b"=?utf-8?B?U2l0aQ==?= <siti@warga.example>",
        b"undisclosed-recipients:;", b"(comment) <x@y.example> (more)", b"\xff\xfe@\x00.example",
        b"<" + b"a" * 400 + b"@x.example>", b'"unterminated <siti@warga.example>',
    ]
    picked = draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=4))
    if draw(st.integers(0, 9)) == 0:
        picked = picked * draw(st.integers(50, 80))
    return b", ".join(picked)


def _message_ids(draw: st.DrawFn) -> bytes:
    one = draw(st.sampled_from([
        b"<keluhan-1@warga.example>", b"keluhan-1@warga.example", b"<>", b"<a b@c>", b"<\x00@x>",
        b"<\xff\xfe@x.example>", b"<" + b"x" * 600 + b"@y>", b"", b"<ack-1@klero.desa.id>",
        b"<a\x01b@x.example>", b"<ok@x> <second@x>", b"(comment) <c@x>",
    ]))
    count = draw(st.sampled_from([1, 1, 2, 60, 2000]))
    return b" ".join([one] * count) if count < 100 else b"\r\n ".join(
        b"<r%d@x.example>" % i for i in range(count))


def _transfer(draw: st.DrawFn, data: bytes, encoding: str) -> bytes:
    low = encoding.lower()
    if low == "base64":
        body = base64.encodebytes(data)
        damage = draw(st.integers(0, 4))
        if damage == 1:
            body = body.replace(b"=", b"")
        elif damage == 2:
            body = body[: max(0, len(body) - draw(st.integers(1, 5)))]
        elif damage == 3:
            body = body + b"!!*==\x00"
        return body
    if low == "quoted-printable":
        body = quopri.encodestring(data)
        if draw(st.booleans()):
            body += draw(st.sampled_from([b"=", b"=G1", b"=\r\n=", b"=4", b"=\xff"]))
        return body
    if "uuencode" in low:
        lines = [b"begin 644 ../../etc/passwd\n"]
        for start in range(0, len(data), 45):
            lines.append(binascii.b2a_uu(data[start:start + 45]))
        if draw(st.booleans()):
            lines.append(b"`\nend\n")
        return b"".join(lines)
    return data


_FILENAMES = [
    "foto.jpg", "../../../etc/passwd", "..\\..\\windows\\system32\\cmd.exe", "CON", "lpt1.txt",
    "foto\u202egpj.exe", ".htaccess", "a" * 300 + ".png", "", "  .. ", "nul.\u00b9", "dokumen.pdf\x00.exe",
    "=?utf-8?B?Zm90by5qcGc=?=", "Siti Aminah 3322114506890002.jpg", "日本語.png", "\udcff.bin",
]


@st.composite
def leaves(draw: st.DrawFn) -> bytes:
    """One MIME leaf: text, HTML, an attachment or a uuencoded block, in some encoding."""
    kind = draw(st.sampled_from(["plain", "html", "attachment", "inline-image", "bare"]))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    text = draw(texts)
    if kind == "html":
        text = draw(st.sampled_from([
            "<html><body><p>{}</p></body></html>", "<p>{}", "<script>{}</script>rest", "<style>{}",
            "<div>" * 300 + "{}", "<?xml version='1.0' encoding='utf-8'?><html>{}</html>",
            "&#0;&#xD800;&#99999999;&nbsp;{}&amp", "<table><tr><td>{}</td>" * 50, "{}",
        ])).replace("{}", text)
    data = _encode(text, charset) if kind in ("plain", "html", "bare") else draw(
        st.binary(max_size=300)) * draw(st.sampled_from([1, 1, 30]))
    ctype = {"plain": "text/plain", "html": "text/html", "attachment": "application/pdf",
             "inline-image": "image/png", "bare": draw(st.sampled_from(["", "text", "text/", "x/y/z"]))}[kind]
    head = [f"Content-Type: {ctype}; charset={charset}".encode("utf-8", "surrogatepass")]
    if encoding:
        head.append(f"Content-Transfer-Encoding: {encoding}".encode())
    if kind in ("attachment", "inline-image") or draw(st.integers(0, 5)) == 0:
        name = draw(st.sampled_from(_FILENAMES)).encode("utf-8", "surrogatepass")
        style = draw(st.sampled_from(["plain", "2231", "2231-broken", "none"]))
        disposition = draw(st.sampled_from([b"attachment", b"inline", b"", b"weird"]))
        if style == "plain":
            head.append(b'Content-Disposition: ' + disposition + b'; filename="' + name + b'"')
        elif style == "2231":
            quoted = "".join(f"%{b:02X}" for b in name).encode()
            head.append(b"Content-Disposition: " + disposition + b"; filename*=utf-8''" + quoted)
        elif style == "2231-broken":
            head.append(b"Content-Disposition: " + disposition + b"; filename*0*=x-bad'zz'%ZZ%" +
                        b"; filename*1=" + name + b"; size=99999999999999999999")
        if kind == "inline-image":
            head.append(b"Content-ID: <img1@x>")
    return b"\n".join(head) + b"\n\n" + _transfer(draw, data, encoding)


@st.composite
def multiparts(draw: st.DrawFn, children: st.SearchStrategy[bytes]) -> bytes:
    """A multipart around `children`, with every way of getting its boundary wrong."""
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "digest", "x-odd"]))
    boundary = draw(st.sampled_from(["b1", "==_Part_0", "simple boundary", "a" * 75, "'()+_,-./:=?", "x"]))
    declared = boundary if draw(st.integers(0, 5)) else draw(st.sampled_from(["other", ""]))
    parts = draw(st.lists(children, max_size=5))
    delim = f"--{boundary}".encode()
    body = [b"preamble " + delim[:-1]] if draw(st.booleans()) else []
    for part in parts:
        body.append(delim)
        body.append(part)
        if draw(st.integers(0, 6)) == 0:
            body.append(b"text with the boundary inside " + delim + b" and more")
    if draw(st.integers(0, 3)):
        body.append(delim + b"--")
        if draw(st.booleans()):
            body.append(b"epilogue")
    param = b"" if declared == "" else b'; boundary="' + declared.encode() + b'"'
    return b"Content-Type: multipart/" + subtype.encode() + param + b"\n\n" + b"\n".join(body)


@st.composite
def rfc822(draw: st.DrawFn, children: st.SearchStrategy[bytes]) -> bytes:
    """A forwarded message (message/rfc822) holding a whole message of its own."""
    inner = draw(header_block()) + b"\n" + draw(children)
    return b"Content-Type: message/rfc822\n\n" + inner


trees = st.recursive(leaves(), lambda children: multiparts(children) | rfc822(children), max_leaves=8)


@st.composite
def header_block(draw: st.DrawFn, subject: st.SearchStrategy[bytes] | None = None) -> bytes:
    """The top headers, each perhaps missing, duplicated, huge or garbled."""
    lines: list[bytes] = [b"MIME-Version: 1.0"]
    subject_values = subject if subject is not None else header_values(texts)
    dates = [b"Fri, 27 Nov 2026 10:00:00 +0700", b"yesterday", b"", b"\xff\xfe",
             b"Mon, 32 Foo 99999 99:99:99 +9999"]
    for name, value in [
        (b"From", lambda: _addresses(draw)),
        (b"To", lambda: _addresses(draw)),
        (b"Subject", lambda: draw(subject_values)),
        (b"Date", lambda: draw(st.sampled_from(dates))),
        (b"Message-ID", lambda: _message_ids(draw)),
        (b"In-Reply-To", lambda: _message_ids(draw)),
        (b"References", lambda: _message_ids(draw)),
    ]:
        times = 1 if name == b"Subject" and subject is not None else draw(st.sampled_from([1, 1, 1, 0, 2]))
        lines += [name + b": " + value() for _ in range(times)]
    extras = [
        b"Auto-Submitted: auto-replied", b"Precedence: bulk", b"Return-Path: <>", b"X-Autoreply: yes",
        b"Reply-To: other@x.example", b"Authentication-Results: mx.klero.desa.id; dkim=pass header.d=x",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=s; h=from:subject; bh=; b=",
        b"X-Bad\x00Name: v", b"no colon here", b" leading continuation", b"X-Long: " + b"y" * 30000,
        b"Content-Type: text/plain; charset=\"=?utf-8?q?x?=\"", b"\xff\xfe: \xff",
    ]
    lines += draw(st.lists(st.sampled_from(extras), max_size=4))
    order = draw(st.permutations(range(len(lines))))
    return b"\n".join(lines[i] for i in order) + b"\n"


def line_endings(draw: st.DrawFn, raw: bytes, *, sane: bool = False) -> bytes:
    """LF, CRLF, CR only, or a mix; `sane` leaves out LF CR, which reads as a blank line."""
    style = draw(st.sampled_from(["lf", "crlf", "cr", "mixed"]))
    if style == "crlf":
        return raw.replace(b"\n", b"\r\n")
    if style == "cr":
        return raw.replace(b"\n", b"\r")
    if style == "mixed":
        lines = raw.split(b"\n")
        choices = [b"\n", b"\r\n", b"\r"] if sane else [b"\n", b"\r\n", b"\r", b"\n\r"]
        ends = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=8))
        return b"".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    return raw


@st.composite
def built_messages(draw: st.DrawFn, subject: st.SearchStrategy[bytes] | None = None,
                   sane: bool = False) -> bytes:
    """A whole message; with `subject`, exactly one Subject drawn from it."""
    head = draw(header_block(subject))
    tree = draw(trees)
    # The tree's first lines are the top part's own Content-* headers.
    raw = head + tree
    if sane:
        # One line-end style throughout (whatever the pieces folded with), as a mail program writes.
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return line_endings(draw, raw, sane=sane)


@cache
def corpus_sample() -> tuple[bytes, ...]:
    """The smaller third-party messages (the large ones add time, not shapes)."""
    files: list[Path] = [p for p in corpus_messages() if p.stat().st_size <= 40_000]
    return tuple(p.read_bytes() for p in files)


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    """A real message, spliced with another, truncated, with bytes flipped or inserted."""
    sample = corpus_sample()
    raw = bytearray(sample[draw(st.integers(0, len(sample) - 1))])
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "splice", "duplicate", "delete"]))
        at = draw(st.integers(0, len(raw)))
        if action == "truncate":
            del raw[at:]
        elif action == "flip" and raw:
            index = min(at, len(raw) - 1)
            raw[index] ^= draw(st.integers(1, 255))
        elif action == "insert":
            raw[at:at] = draw(st.sampled_from([b"\x00", b"\r", b"\n\n", b"--", b"=?", b"\xff",
                                               b"Content-Type: multipart/mixed; boundary=x\n"]))
        elif action == "splice":
            other = sample[draw(st.integers(0, len(sample) - 1))]
            cut = draw(st.integers(0, len(other)))
            raw[at:] = other[cut:]
        elif action == "duplicate":
            end = draw(st.integers(at, min(len(raw), at + 2000)))
            raw[at:at] = raw[at:end]
        else:
            del raw[at:at + draw(st.integers(1, 200))]
    return bytes(raw)


random_bytes = st.binary(max_size=2000).map(lambda b: b"Subject: " + b[:40] + b"\n" + b[40:])

messages = st.one_of(built_messages(), mutated_corpus(), random_bytes, st.binary(max_size=500))


@st.composite
def complaint_subjects(draw: st.DrawFn) -> tuple[str, bytes]:
    """A subject that carries the phrase (re-cased, re-spaced, perhaps encoded) and its header bytes."""
    phrase = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in PHRASE)
    phrase = phrase.replace(" ", draw(st.sampled_from([" ", "  ", "\t", " \u00a0"])))
    before = draw(st.sampled_from(["", "Re: ", "Fwd: ", "[warga] ", "Laporan ", "日本 "]))
    after = draw(st.sampled_from(["", " jalan rusak", ": lampu mati", " 😀", " café"]))
    text = before + phrase + after
    style = draw(st.sampled_from(["plain-utf8", "words", "folded"]))
    if style == "words":
        data = draw(encoded_words(text, damage=False)).encode("ascii")
        # An unknown or lying charset cannot be promised to read; utf-8 words must.
        data = data if "?utf-8?" in data.decode().lower() else text.encode("utf-8")
    elif style == "folded":
        data = text.encode("utf-8").replace(b" ", b"\n ", 1)  # line_endings makes it CRLF or CR
    else:
        data = text.encode("utf-8")
    return text, data


def fixed_sample(strategy: st.SearchStrategy[bytes], count: int) -> list[bytes]:
    """`count` examples of `strategy`, the same on every run (derandomized), for tests that
    cannot run once per example (a pass through real servers)."""
    found: list[bytes] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(raw: bytes) -> None:
        found.append(raw)

    collect()
    return found
