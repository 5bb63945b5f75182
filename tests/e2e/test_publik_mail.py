"""#publik by mail on Dovecot, then `mailflow publish`: the verifier's public text is on the
page, scrubbed, and her message to the resident is not; a resident's #publik marks nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailflow.runners.publish import publish
from mailflow.store.migrate import open_database
from mailflow.store.models import TicketEvent
from tests.e2e.support import INBOX, SEKDES, SITI, SITI_SECRETS, complaint, rows
from tests.e2e.test_workflow_mail import RECEIVED, _poll, _read, _start, staff_reply

pytestmark = pytest.mark.e2e

PUBLIC = "Pengaduan sudah kami periksa; petugas dijadwalkan ke lokasi hari Senin."


def test_publik_by_mail_reaches_the_page_and_nothing_else_does(mail_world: Any,
                                                                tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(
        SEKDES, note, f"#status diverifikasi\n#publik {PUBLIC} Terima kasih Ibu Siti Aminah.\n\n"
        "Ibu Siti Aminah, mohon siapkan fotokopi KTP."))
    [ack] = [_read(m) for m in mail_world.messages(SITI)]
    mail_world.deliver(INBOX, complaint(
        subject="Re: " + str(ack["Subject"]), In_Reply_To=str(ack["Message-ID"]),
        body="#publik\nSaya Siti Aminah, tolong umumkan bahwa jalan ini berbahaya."))
    _poll(cfg)
    _poll(cfg)
    public = [e for e in rows(cfg, TicketEvent) if e.kind == "public"]
    assert [(e.actor, e.auth) for e in public] == [(SEKDES, "signed_reply")]
    assert public[0].note.startswith(PUBLIC)
    [reply] = [e for e in rows(cfg, TicketEvent) if e.kind == "reply"]
    assert reply.note.startswith("#publik")  # taken as the resident's reply, nothing more

    engine = open_database(cfg.database_url)
    try:
        publish(cfg, engine, tmp_path / "site", RECEIVED)
    finally:
        engine.dispose()
    site = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*")
                     if p.is_file())
    entry = json.loads((tmp_path / "site" / "tickets.json").read_text())["tickets"][
        "ADU-2026-00001"]
    assert entry["status"] == "diverifikasi" and entry["texts"][0].startswith(PUBLIC)
    assert PUBLIC in site
    assert "fotokopi KTP" not in site and "berbahaya" not in site
    for secret in SITI_SECRETS:
        assert secret not in site, secret
