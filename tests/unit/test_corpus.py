"""Every third-party message through the parser and the intake rules: nothing may raise.

The golden checks below pin what a few known files must give, so that a parser that
merely survives (and returns nothing useful) does not pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailflow.core.identity import extract_identity
from mailflow.core.intake_rules import Kind, classify, message_key
from mailflow.core.parse import ParsedMessage, parse_head, parse_message
from tests.corpus_files import CORPUS, corpus_messages, with_phrase

FILES = corpus_messages()


def _parse(relative: str) -> ParsedMessage:
    return parse_message((CORPUS / relative).read_bytes())


def test_corpus_is_present() -> None:
    assert len(FILES) > 400
    assert (CORPUS / ".gitattributes").read_text().split() == ["*", "-text"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_parse_never_raises_and_gives_clean_output(path: Path) -> None:
    msg = parse_message(path.read_bytes())
    assert isinstance(msg, ParsedMessage)
    assert isinstance(msg.text, str)
    assert "\x00" not in msg.text
    assert "\x00" not in msg.subject
    for attachment in msg.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.filename and not attachment.filename.startswith(".")
        assert len(attachment.filename) <= 120
    decision = classify(msg, ["Pengaduan Masyarakat"], "ADU", {"pengaduan@klero.desa.id"})
    assert decision.kind in set(Kind)
    assert message_key(msg)
    extract_identity(msg.text)


RFC3834 = sorted((CORPUS / "sisimai-set-of-emails" / "maildir").rglob("rfc3834-*.eml"))


@pytest.mark.parametrize("path", RFC3834, ids=lambda p: str(p.relative_to(CORPUS)))
def test_vacation_replies_are_never_complaints(path: Path) -> None:
    # Even with the complaint phrase in the subject, a vacation notice is not a complaint.
    raw = with_phrase(path.read_bytes())
    msg = parse_message(raw)
    decision = classify(msg, ["Pengaduan Masyarakat"], "ADU", set())
    assert decision.kind is Kind.IGNORE, (decision, msg.headers[:12])


BOUNCES = sorted((CORPUS / "wRAR-flufl.bounce").rglob("*"))
BOUNCES = [p for p in BOUNCES if p.is_file() and p.name not in ("README.md", "LICENSE.upstream")]


@pytest.mark.parametrize("path", BOUNCES, ids=lambda p: p.name)
def test_bounces_are_never_complaints(path: Path) -> None:
    raw = with_phrase(path.read_bytes())
    decision = classify(parse_message(raw), ["Pengaduan Masyarakat"], "ADU", set())
    assert decision.kind is Kind.IGNORE, decision


# -- golden checks ---------------------------------------------------------------------------


def test_html_only_spam_gives_readable_text() -> None:
    msg = _parse("nodemailer-mailparser/fixtures/spam.eml")
    assert msg.html_only
    assert "Im Jahre 2007 wurde er als „asozialer Penner“ beschimpft!" in msg.text
    assert "<br" not in msg.text and "<p" not in msg.text


def test_html_only_inline_message_gives_its_text_and_image() -> None:
    msg = _parse("jhillyerd-enmime/testdata/mail/html-only-inline.raw")
    assert msg.html_only
    assert msg.text == "Test of HTML section"
    assert [(a.filename, a.inline) for a in msg.attachments] == [("favicon.png", True)]


@pytest.mark.parametrize(("relative", "subject"), [
    ("zbateson-mail-mime-parser/emails/m2001.txt", "Die Hasen und die Frösche"),
    ("mikel-mail/multi_charset/japanese_iso_2022.eml", "まみむめも"),
    ("mailgun-flanker/messages/bilingual-simple.eml",
     "Simple text. How are you? Как ты поживаешь?"),
    ("sisimai-set-of-emails/maildir/not/is-not-bounce-01.eml", "にゃんこ"),
    ("jhillyerd-enmime/testdata/mail/qp-utf8-header-recursed.raw", "MIME UTF8 Test ¢ More Text"),
], ids=["iso-8859-1-q", "utf8-b-japanese", "utf8-cyrillic", "sisimai-japanese",
        "qp-header-that-breaks-policy-default"])
def test_encoded_subjects_decode(relative: str, subject: str) -> None:
    assert _parse(relative).subject == subject


def test_iso_2022_jp_body_decodes() -> None:
    assert _parse("mikel-mail/multi_charset/japanese_iso_2022.eml").text == "すみません。"


def test_address_header_that_breaks_policy_default_is_read() -> None:
    msg = _parse("jhillyerd-enmime/testdata/mail/qp-utf8-header-recursed.raw")
    assert msg.from_addr == "jamehi03@jamehi03lx.noa.com"
    assert msg.text.startswith("Lorem ipsum dolor sit amet")


def test_unknown_charset_part_is_read_and_noted() -> None:
    msg = _parse("jhillyerd-enmime/testdata/low-quality/unk-charset-part.raw")
    assert msg.text == "A text section"
    assert "unknown charset fakescii" in msg.problems


def test_vacation_reply_with_cr_only_line_endings() -> None:
    msg = _parse("sisimai-set-of-emails/maildir/mac/rfc3834-01.eml")
    assert msg.subject == "Away until May 5"
    assert msg.header("auto-submitted") == "auto-replied"
    assert msg.text.startswith("I am currently away returning to the office on May 5th.")


def test_delivery_report_keeps_its_type_and_human_part() -> None:
    msg = _parse("mikel-mail/multipart_report_emails/report_422.eml")
    assert msg.content_type == "multipart/report"
    assert msg.from_addr == "mailer-daemon@tppppp.com.au"
    assert "THIS IS A WARNING MESSAGE ONLY" in msg.text


def test_torture_message_is_bounded_by_the_attachment_limit() -> None:
    msg = _parse("mailgun-flanker/messages/torture.eml")
    assert msg.subject == "Multi-media mail demonstration"
    assert msg.text.startswith("This is a demonstration of multi-part mail")
    assert len(msg.attachments) == 20
    assert any("more than 20 attachments" in p for p in msg.problems)


def test_endlessly_enclosed_message_is_bounded() -> None:
    started = time.monotonic()
    msg = _parse("mailgun-flanker/messages/enclosed-endless.eml")
    assert time.monotonic() - started < 10
    assert msg.subject == "Wow"
    assert "dudes... you're kicking ass." in msg.text
    assert any("the rest ignored" in p or "nesting" in p for p in msg.problems)


def test_deeply_nested_html_does_not_crash() -> None:
    msg = _parse("nodemailer-mailparser/fixtures/htmllargecallstack.eml")
    assert msg.subject == "Kill the HTML parser"
    assert msg.html_only
    assert "<" not in msg.text


_HEAD_FIELDS = ("subject", "from_addr", "from_name", "reply_to", "to_addrs", "message_id",
                "in_reply_to", "references", "date_header", "headers", "content_type")


def _header_block(raw: bytes) -> bytes:
    """What an IMAP server gives for BODY.PEEK[HEADER]: up to and with the first blank line."""
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    if not ends:
        return raw
    index, size = min(ends)
    return raw[:index + size]


def test_a_header_block_reads_the_same_without_its_body_walked() -> None:
    """parse_head, which the intake's first look and the old-mail records use, gives every
    header field parse_message gives on the same block, on every corpus message."""
    compared = 0
    for path in FILES:
        block = _header_block(path.read_bytes())
        head, whole = parse_head(block), parse_message(block)
        assert [getattr(head, f) for f in _HEAD_FIELDS] == [
            getattr(whole, f) for f in _HEAD_FIELDS], path
        assert (head.text, head.html_only, head.attachments) == ("", False, ())
        compared += 1
    assert compared == len(FILES)


def test_parse_head_leaves_what_follows_the_header_block_unread() -> None:
    raw = b"From: siti@warga.example\nSubject: Pengaduan Masyarakat\n\nJalan rusak.\n"
    assert parse_message(raw).text == "Jalan rusak."
    head = parse_head(raw)
    assert head.subject == "Pengaduan Masyarakat" and head.text == ""
