"""The administrator's mail about a refused login (core/login_notice.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mailflow.core.login_notice import login_refused_notice
from mailflow.vocabulary import OutboxKind
from tests.unit.plan_support import ADMIN, INBOX, config

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _text(notice: object) -> str:
    return "\n".join(notice.context["paragraphs"])  # type: ignore[attr-defined]


def test_it_names_the_server_the_account_and_the_key_to_fix_never_the_password() -> None:
    cfg = config(imap={"password": "sandi-rahasia-imap"}, retry={"login_attempts_per_hour": 4})
    notice = login_refused_notice(cfg, "imap", NOW)
    assert notice is not None and notice.to == ADMIN and notice.kind is OutboxKind.STAFF_NOTE
    text = _text(notice)
    assert "Login IMAP ditolak" in notice.subject
    assert f"server IMAP imap.invalid:143 menolak login akun {INBOX}" in text
    assert "kunci [imap] password di berkas konfigurasi" in text
    assert "sandi-rahasia-imap" not in text + notice.subject
    assert "Minggu, 29 November 2026 pukul 10.00 WIB" in text
    assert "paling banyak 4 kali per jam" in text and "systemctl reload mailflow" in text
    assert notice.reply_to is None  # nothing to answer: no command address


def test_an_smtp_refusal_says_the_mail_waits_and_names_the_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("sandi-rahasia-smtp\n")
    cfg = config(smtp={"username": INBOX, "password_file": str(secret)})
    notice = login_refused_notice(cfg, "smtp", NOW)
    assert notice is not None
    text = _text(notice)
    assert "Login SMTP ditolak" in notice.subject and "tertahan di antrean keluar" in text
    assert f"berkas {secret} (kunci [smtp] password_file)" in text
    assert "sandi-rahasia-smtp" not in text


def test_without_an_admin_address_nobody_is_mailed() -> None:
    cfg = config(commands={"admin_address": None})
    assert login_refused_notice(cfg, "imap", NOW) is None
