"""Identity in hostile text never survives the scrub that staff without identity rights read.

A NIK, a phone number or an email address, in any grouping the hiding rules promise to
handle (mailflow/core/identity/shapes.py), put anywhere in fuzzed text, must be gone from
`Redactor(identity).text(...)`; and whatever extraction took from a text as the reporter's
NIK, phone or email must be gone from that text's scrub. Numbers are looked for as
tests/e2e/leaks.py does: with the separators between digits removed.
"""

from __future__ import annotations

import base64
import quopri
import re

from hypothesis import example, given
from hypothesis import strategies as st

from mailflow.core.identity import extract_identity
from mailflow.core.parse import parse_message
from mailflow.core.privacy import Redactor, redact
from tests.fuzz.budget import fuzz
from tests.fuzz.strategies import texts

_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ \t.\-/()+]{1,3}(?=\d)")
# Around an inserted number: anything but ASCII digits, which would only make the run longer.
_FILLER = st.text(st.characters(codec="utf-8", exclude_characters="0123456789"), max_size=40)


def _collapsed(text: str) -> str:
    return _BETWEEN_DIGITS.sub("", text)


@st.composite
def niks(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from([11, 12, 31, 32, 33, 35, 51, 73, 91, 96]))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))
    return (f"{province}{draw(st.integers(1, 99)):02d}{draw(st.integers(1, 99)):02d}"
            f"{day:02d}{draw(st.integers(1, 12)):02d}{draw(st.integers(0, 99)):02d}"
            f"{draw(st.integers(1, 9999)):04d}")


@st.composite
def phones(draw: st.DrawFn) -> str:
    """National digits of an Indonesian mobile: 08 and 8 to 11 more digits."""
    return "08" + draw(st.sampled_from(["1", "2", "5", "7", "9"])) + "".join(
        str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(7, 10))))


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """`digits` as people write them: groups joined by a space, dot, dash or slash, alone or
    between spaces, or by nothing."""
    out = [digits[0]]
    for digit in digits[1:]:
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from([" ", "-", ".", "\t", " - ", " / ", "/", ". "])))
        out.append(digit)
    return "".join(out)


emails = st.builds(lambda local, host: f"{local}@{host}.example",
                   st.from_regex(r"[a-z][a-z0-9._+-]{0,20}", fullmatch=True),
                   st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True))
_LABELS = st.sampled_from(["", "NIK: ", "No. HP: ", "nik saya ", "WA ", "hubungi ", "Email: ", "\n"])


def _written(numbers: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    """(the digits, the digits as written)."""
    return numbers.flatmap(lambda digits: grouped(digits).map(lambda written: (digits, written)))


@fuzz(150)
@given(_FILLER, _LABELS, _written(niks()), _FILLER)
@example("rumah ", "", ("3322114506890002", "3322 1145 0689 0002"), " rusak")
# Found by this fuzzer: groups joined by " - " (three characters) were separate short runs,
# each too short to hide, so the whole number stayed readable.
@example("NIK ", "", ("3322114506890002", "3322 - 1145 - 0689 - 0002"), " ya")
def test_a_nik_anywhere_is_hidden(before: str, label: str, nik: tuple[str, str], after: str) -> None:
    digits, written = nik
    text = f"{before} {label}{written} {after}"
    for scrubbed in (Redactor().text(text), redact(text)):
        assert digits not in _collapsed(scrubbed), (text, scrubbed)


@fuzz(150)
@given(_FILLER, _LABELS, _written(phones()), _FILLER, st.booleans())
@example("hp ", "", ("081234567890", "0812 - 3456 - 7890"), "", False)
@example("", "", ("081234567890", "0812 / 3456 / 7890"), "", False)
def test_a_phone_anywhere_is_hidden(before: str, label: str, phone: tuple[str, str], after: str,
                                    plus: bool) -> None:
    digits, written = phone
    if plus:
        written = "+62 " + written[1:].lstrip(" \t-./")
    text = f"{before} {label}{written} {after}"
    scrubbed = Redactor().text(text)
    assert digits[1:] not in _collapsed(scrubbed), (text, scrubbed)


@fuzz(100)
@given(_FILLER, _LABELS, emails, _FILLER)
def test_an_email_anywhere_is_hidden(before: str, label: str, email: str, after: str) -> None:
    text = f"{before} {label}{email} {after}"
    assert email not in Redactor().text(text).lower(), text


def _assert_extracted_identity_hidden(text: str) -> None:
    identity = extract_identity(text).identity
    scrubbed = Redactor(identity).text(text)
    collapsed = _collapsed(scrubbed)
    if identity.nik:
        assert identity.nik not in collapsed, (text, scrubbed)
    if identity.phone:
        national = identity.phone.removeprefix("+62")
        assert national not in collapsed, (text, scrubbed)
    if identity.email:
        assert identity.email not in scrubbed.lower(), (text, scrubbed)


@fuzz(150)
@given(st.lists(texts | niks() | phones() | emails | _LABELS, max_size=12).map(" ".join))
def test_what_extraction_takes_is_hidden_in_the_same_text(text: str) -> None:
    _assert_extracted_identity_hidden(text)


@fuzz(60)
@given(_FILLER, niks(), phones(), st.sampled_from(["utf-8", "iso-8859-1", "windows-1252", "utf-16"]),
       st.sampled_from(["8bit", "base64", "quoted-printable"]), st.sampled_from(["plain", "html"]))
def test_identity_in_a_fuzzed_body_is_hidden_after_parsing(filler: str, nik: str, phone: str, charset: str,
                                                            encoding: str, kind: str) -> None:
    body = f"Nama: Siti Aminah\nNIK: {nik}\nNo. HP: {phone}\n\n{filler}\nJalan rusak.\n"
    if kind == "html":
        body = "<html><body>" + body.replace("\n", "<br>") + "</body></html>"
    data = body.encode(charset, "replace")
    payload = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(
        encoding, lambda b: b)(data)
    raw = (f"From: siti@warga.example\r\nSubject: Pengaduan Masyarakat\r\nContent-Type: text/{kind}; "
           f"charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n").encode() + payload
    msg = parse_message(raw)
    _assert_extracted_identity_hidden(msg.text)
    scrubbed = _collapsed(Redactor(extract_identity(msg.text).identity).text(msg.text))
    assert nik not in scrubbed and phone[1:] not in scrubbed, (msg.text, scrubbed)
