"""Retry timing and how SMTP errors are judged temporary or permanent."""

from datetime import timedelta

import aiosmtplib

from mailflow.adapters.smtp import classify_smtp_error
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
