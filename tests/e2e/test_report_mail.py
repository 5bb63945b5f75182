"""The monthly report on a real mailbox: two complaints taken by the real intake in October
2026, nobody answers them, and on Monday 2 November (the 1st is a Sunday) from the digest
hour the village head receives October's report once, through the outbox, SMTP and
Dovecot, as text and HTML with its inline SVG charts, naming tickets by number only."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from mailflow.config import Config
from mailflow.runners.parked_note import daily_jobs
from mailflow.service import Service
from tests.e2e.leaks import mail_text
from tests.e2e.support import BUDI, INBOX, KADES, SITI_SECRETS, FixedClock, complaint, config_for, tickets

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")
BUDI_BODY = ("Nama: Budi Santoso\n\nLampu penerangan jalan di RT 03 RW 01 mati sejak seminggu "
             "yang lalu, mohon segera diperbaiki oleh desa.\n")
SECRETS = (*SITI_SECRETS, "Aminah", "Budi Santoso", BUDI)


def _poll(cfg: Config, when: datetime) -> None:
    """One poll by a new process (a restart each time): only the database remembers."""
    service = Service(cfg, clock=FixedClock(when), jobs=daily_jobs(cfg))
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _reports(world: Any, month: str = "Oktober 2026") -> list[EmailMessage]:
    found = [cast(EmailMessage, message_from_bytes(m.raw, policy=default))
             for m in world.messages(KADES)]
    return [m for m in found
            if " ".join(str(m["Subject"]).split()).startswith(f"Laporan bulanan pengaduan {month}")]


def test_the_head_gets_octobers_report_once(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, report={"enabled": True})
    mail_world.deliver(INBOX, complaint(), internaldate=datetime(2026, 10, 5, 9, tzinfo=WIB))
    mail_world.deliver(INBOX, complaint(f"Budi Santoso <{BUDI}>", body=BUDI_BODY),
                       internaldate=datetime(2026, 10, 6, 9, tzinfo=WIB))
    _poll(cfg, datetime(2026, 10, 6, 10, tzinfo=WIB))
    numbers = [t.number for t in tickets(cfg)]
    assert len(numbers) == 2
    # mailflow first started on 6 October: September, a month it never saw and with nothing
    # in it, gets no report (a report missed while mailflow was down does go out on return).
    assert _reports(mail_world, "September 2026") == []
    _poll(cfg, datetime(2026, 11, 2, 6, tzinfo=WIB))  # before the digest hour (7)
    assert _reports(mail_world) == []
    _poll(cfg, datetime(2026, 11, 2, 7, 30, tzinfo=WIB))
    _poll(cfg, datetime(2026, 11, 3, 9, tzinfo=WIB))  # a restart the next day: nothing again
    [report] = _reports(mail_world)
    # Neither was answered by 1 November: Siti's late, Budi's waiting for data (pending).
    assert " ".join(str(report["Subject"]).split()) == (
        "Laporan bulanan pengaduan Oktober 2026 (2 pengaduan, 0,0 % tepat waktu)")
    text = report.get_body(("plain",))
    html = report.get_body(("html",))
    assert text is not None and html is not None
    assert "Pengaduan diterima: 2" in text.get_content()
    page = html.get_content()
    assert page.count("<svg") == 2 and "<title id=\"grafik-tepat-waktu-title\">" in page
    # Siti's is overdue (listed by number); Budi's waits for his NIK: the clock stands still.
    assert f"<td>{numbers[0]}</td>" in page and f"<td>{numbers[1]}</td>" not in page
    assert "(0 dari 1; 1 terlambat; 1 belum jatuh tempo)" in page
    shown = mail_text(bytes(report)).casefold()
    for secret in SECRETS:
        assert secret.casefold() not in shown, secret
