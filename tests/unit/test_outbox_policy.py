"""Retry timing, how SMTP errors are judged temporary or permanent, and what needs SMTPUTF8."""

from datetime import timedelta

import aiosmtplib
import pytest

from mailflow.adapters.smtp import Letter, classify_smtp_error, needs_smtputf8, unsendable
from mailflow.runners.outbox import retry_delay


def test_backoff_doubles_then_caps() -> None:
    delays = [retry_delay(n, 60, 3600) for n in range(1, 9)]
    assert delays[:4] == [timedelta(seconds=s) for s in (60, 120, 240, 480)]
    assert delays[-1] == timedelta(seconds=3600)


def test_4xx_is_temporary() -> None:
    outcome = classify_smtp_error(aiosmtplib.SMTPResponseException(451, "try later"))
    assert not outcome.sent
    assert not outcome.permanent
    assert "451" in outcome.error


def test_5xx_is_permanent() -> None:
    assert classify_smtp_error(aiosmtplib.SMTPResponseException(554, "rejected")).permanent


def test_refused_recipient_is_permanent_only_for_5xx() -> None:
    hard = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "x@y")])
    soft = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(452, "full", "x@y")])
    assert classify_smtp_error(hard).permanent
    assert not classify_smtp_error(soft).permanent


def test_connection_errors_are_temporary() -> None:
    assert not classify_smtp_error(aiosmtplib.SMTPServerDisconnected("gone")).permanent


@pytest.mark.parametrize("address", [
    "siti@warga.example>\r\nRCPT TO:<budi@warga.example", "a b@warga.example", "<siti@warga.example>",
    "siti@warga.example NOTIFY=NEVER", "siti", "@warga.example", "siti@", "x\x00@warga.example",
])
def test_an_envelope_address_is_one_plain_mailbox(address: str) -> None:
    assert unsendable(address) is not None


@pytest.mark.parametrize("address", ["siti@warga.example", "büdi@desa.test", "a+b.c@d-e.f"])
def test_plain_mailboxes_are_sendable(address: str) -> None:
    assert unsendable(address) is None


def test_smtputf8_is_needed_for_a_utf8_address_or_header_only() -> None:
    ascii_raw = b"To: budi@desa.test\r\nSubject: x\r\n\r\nbody \xc3\xa9"  # 8-bit body only
    utf8_head = "To: büdi@desa.test\nSubject: x\n\nbody".encode()
    assert not needs_smtputf8("pengaduan@klero.desa.id", Letter(1, "budi@desa.test", ascii_raw))
    assert needs_smtputf8("pengaduan@klero.desa.id", Letter(1, "büdi@desa.test", ascii_raw))
    assert needs_smtputf8("pengaduan@klero.desa.id", Letter(1, "budi@desa.test", utf8_head))
    assert needs_smtputf8("pengadüan@klero.desa.id", Letter(1, "budi@desa.test", ascii_raw))
