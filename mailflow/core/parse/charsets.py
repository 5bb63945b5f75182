"""Bytes to text for every stage that meets bytes: header words, 8-bit headers, bodies.

Residents' phones mislabel charsets, so a declared charset is trusted only as far as the
bytes agree with it. This is the bottom of the parser: headers and body both decode
through here, and a failure here may only ever cost a note, never the message.
"""

# The parser catches every exception on purpose (see mailflow.core.parse). BLE001 is on in
# the project's lint configuration but not in every lint run, hence RUF100 as well.
# ruff: noqa: BLE001, RUF100

from __future__ import annotations

import codecs
import re

from mailflow.core.parse.model import HEADER_CONTROL

__all__ = ["MISLABEL_PRONE", "codec_for", "decode_bytes", "decode_with_note", "mostly_utf8"]

# charset_normalizer guesses wildly on a few bytes (b"caf\xe9" comes out as UTF-16),
# and needs no more than a sample of a long text.
_MIN_DETECT_BYTES = 64
_MAX_DETECT_BYTES = 200_000

_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

# Labels seen in real mail that Python does not know, and labels whose superset is what
# senders actually use (Outlook writes gb2312 and means GBK, ks_c_5601 and means cp949).
_CHARSET_ALIASES = {
    "x-sjis": "cp932", "shift_jis": "cp932", "sjis": "cp932", "x-euc-jp": "euc_jp",
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "iso-8859-8-i": "iso8859-8", "x-mac-roman": "mac-roman", "utf8": "utf-8",
}
MISLABEL_PRONE = frozenset(codecs.lookup(c).name for c in ("ascii", "latin-1", "cp1252"))
_LATIN = frozenset(codecs.lookup(c).name for c in ("latin-1", "cp1252"))


def _label(declared: str) -> str:
    """A charset label safe to put in a problem note."""
    return HEADER_CONTROL.sub("?", declared.strip())[:40]


def codec_for(declared: str | None) -> str | None:
    """The Python codec for a declared charset, or None when it is unknown or not text."""
    if not declared:
        return None
    label = declared.strip().strip("\"'").split("*", 1)[0].strip().lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None
    # "base64", "zlib" or "rot13" are codecs too, but not charsets.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few broken bytes (cut by a gateway, one stray latin-1 byte).

    Replacing a handful of bytes keeps the rest readable, where any single-byte
    charset would turn every non-ASCII character of it into mojibake.
    """
    text = data.decode("utf-8", "surrogateescape")
    broken = len(_ESCAPED_BYTE.findall(text))
    valid = len(_NON_ASCII.findall(text)) - broken
    if valid and broken * 4 <= valid:
        return data.decode("utf-8", "replace")
    return None


def _detect(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = mostly_utf8(data)
    if text is not None:
        return text
    if len(data) >= _MIN_DETECT_BYTES:
        try:
            # Imported here: 2.7 MB in every process that loads it, and only mislabeled
            # text that is not UTF-8 ever gets this far (issue 10's memory budget).
            import charset_normalizer

            best = charset_normalizer.from_bytes(data[:_MAX_DETECT_BYTES]).best()
            encoding = best.encoding if best is not None else None
            # A UTF-16/32 guess without a byte order mark is always wrong for mail text.
            if encoding and not encoding.startswith(("utf_16", "utf_32")):
                return data.decode(encoding, errors="replace")
        except Exception:
            pass
    return data.decode("cp1252", errors="replace")


def decode_with_note(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text and, when the declared charset could not be used as it is, a note saying why."""
    codec = codec_for(declared)
    if codec in MISLABEL_PRONE and not data.isascii():
        # Phones label UTF-8 as latin-1 or ASCII; latin-1 decodes any bytes, so valid
        # UTF-8 with non-ASCII sequences wins over such a label.
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
        if codec in _LATIN:
            # As browsers do: bytes 0x80-0x9f in "latin-1" text are cp1252 punctuation.
            try:
                return data.decode("cp1252"), None
            except UnicodeDecodeError:
                return data.decode("latin-1"), None
    if codec is not None and codec.startswith(("utf-16", "utf-32")) and b"\x00" not in data:
        # Any even number of ASCII bytes "decodes" as UTF-16, into CJK nonsense.
        return _detect(data), f"text not valid in declared charset {_label(declared or '')}"
    if codec is not None:
        try:
            return data.decode(codec), None
        except Exception:
            return _detect(data), f"text not valid in declared charset {_label(declared or '')}"
    if declared and declared.strip():
        return _detect(data), f"unknown charset {_label(declared)}"
    return _detect(data), None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text, trusting the declared charset only as far as the bytes agree with it.

    Detection order when the label is unknown or wrong: strict UTF-8 (most mail today),
    charset_normalizer (only on enough bytes to judge), then cp1252 with replacement,
    which never fails.
    """
    try:
        return decode_with_note(bytes(data), declared)[0]
    except Exception:
        return bytes(data).decode("latin-1")
