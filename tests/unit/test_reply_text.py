"""Quoted history and signatures cut from replies written in many mail programs."""

from pathlib import Path

import pytest

from mailflow.core.parse import parse_message
from mailflow.core.reply_text import new_text
from tests.corpus_files import CORPUS

TALON = CORPUS / "mailgun-talon" / "fixtures" / "standard_replies"
GITHUB = CORPUS / "github-email_reply_parser" / "emails"
ZAPIER = CORPUS / "zapier-email-reply-parser" / "emails"


@pytest.mark.parametrize("path", sorted(TALON.glob("*.eml")), ids=lambda p: p.name)
def test_talon_replies_from_twelve_mail_programs(path: Path) -> None:
    # Every one of these replies says "Hello" above (or, in Thunderbird, below) the quote.
    assert new_text(parse_message(path.read_bytes()).text) == "Hello"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email_1_2.txt", "Hi,"),
        ("email_1_3.txt", "Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona"),
        ("email_1_4.txt", "Awesome! I haven't had another problem with it."),
        ("email_1_7.txt", ":+1:"),
        ("email_1_8.txt", "I will reply under this one\n\n\nand under this."),
        ("email_2_1.txt", "Outlook with a reply"),
        ("email_BlackBerry.txt", "Here is another email"),
        ("email_iPhone.txt", "Here is another email"),
        ("email_multi_word_sent_from_my_mobile_device.txt", "Here is another email"),
        ("correct_sig.txt", "this is an email with a correct -- signature."),
    ],
)
def test_github_reply_bodies(name: str, expected: str) -> None:
    assert new_text((GITHUB / name).read_text()) == expected


def test_attribution_wrapped_over_three_lines() -> None:
    text = new_text((GITHUB / "email_1_6.txt").read_text())
    assert text.startswith("I get proper rendering as well.")
    assert "Corey Donohoe" not in text and "wrote" not in text


def test_signature_dashes_inside_a_line_are_kept() -> None:
    text = new_text((GITHUB / "email_sig_delimiter_in_middle_of_line.txt").read_text())
    assert text.endswith("And here is a fix -- this is not a signature.\n\nkthxbai")


def test_pathological_body_completes() -> None:
    assert new_text((GITHUB / "pathological.txt").read_text()).startswith("I think you're onto")


@pytest.mark.parametrize("name", ["email_gmail.txt", "email_headers_no_delimiter.txt"])
def test_zapier_bodies_drop_the_quote(name: str) -> None:
    text = new_text((ZAPIER / name).read_text())
    assert text and ">" not in text and "wrote:" not in text


def test_gmail_in_indonesian() -> None:
    body = ("#status diproses\n\nSedang kami tangani.\n\n"
            "Pada Sen, 30 Nov 2026 pukul 09.15 Layanan Pengaduan Desa Klero <\n"
            "pengaduan@klero.desa.id> menulis:\n\n> Tiket baru ADU-2026-00042\n")
    assert new_text(body) == "#status diproses\n\nSedang kami tangani."


def test_outlook_in_indonesian() -> None:
    body = ("Baik, segera kami cek.\n\n________________________________\n"
            "Dari: Layanan Pengaduan <pengaduan@klero.desa.id>\nDikirim: Senin, 30 November 2026 09.15\n"
            "Kepada: staf1@klero.desa.id\nSubjek: [ADU-2026-00042] Tiket baru\n\nIsi lama")
    assert new_text(body) == "Baik, segera kami cek."


def test_outlook_header_block_without_separator() -> None:
    body = "Sudah selesai.\n\nFrom: Desa <a@b.c>\nSent: Monday\nTo: x\nSubject: y\n\nold"
    assert new_text(body) == "Sudah selesai."


@pytest.mark.parametrize("signature", ["-- \nStaf Desa", "Dikirim dari iPhone saya", "Sent from my Galaxy",
                                       "Get Outlook for Android"])
def test_signatures_are_cut(signature: str) -> None:
    assert new_text("Terima kasih.\n\n" + signature) == "Terima kasih."


def test_a_sentence_ending_in_menulis_is_not_an_attribution() -> None:
    assert new_text("Seperti Pak RT menulis:\nJalan harus diperbaiki.") == (
        "Seperti Pak RT menulis:\nJalan harus diperbaiki.")
