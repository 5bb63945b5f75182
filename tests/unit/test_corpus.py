"""Every third-party message through the parser and the intake rules: nothing may raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.identity import extract_identity
from mailflow.intake_rules import Kind, classify, message_key
from mailflow.message import parse_message
from tests.corpus_files import CORPUS, corpus_messages, with_phrase

FILES = corpus_messages()


def test_corpus_is_present() -> None:
    assert len(FILES) > 400


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_parse_never_raises_and_gives_clean_output(path: Path) -> None:
    msg = parse_message(path.read_bytes())
    assert isinstance(msg.text, str)
    assert "\x00" not in msg.text
    assert "\x00" not in msg.subject
    for attachment in msg.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.filename and not attachment.filename.startswith(".")
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


def test_html_only_corpus_message_gives_text() -> None:
    msg = parse_message((CORPUS / "nodemailer-mailparser" / "fixtures" / "spam.eml").read_bytes())
    assert msg.html_only or msg.text
    assert "<" not in msg.text[:200]


def test_deeply_nested_html_does_not_crash() -> None:
    path = CORPUS / "nodemailer-mailparser" / "fixtures" / "htmllargecallstack.eml"
    msg = parse_message(path.read_bytes())
    assert isinstance(msg.text, str)
