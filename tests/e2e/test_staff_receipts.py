"""A staff member whose reply was applied hears so: one receipt per reply, in its thread."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.service import Service
from mailflow.store.models import OutboxMessage
from tests.e2e.support import (
    INBOX,
    KASI,
    SEKDES,
    SITI,
    SITI_SECRETS,
    complaint,
    config_for,
    tickets,
)
from tests.e2e.support import rows as stored_rows
from tests.e2e.test_workflow_mail import RECEIVED, staff_reply

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")


def _poll(cfg: Any) -> None:
    service = Service(cfg)
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _read(stored: Any) -> Any:
    return message_from_bytes(stored.raw, policy=default)


def _text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def _start(world: Any, tmp_path: Path, **sections: Any) -> tuple[Any, Any]:
    cfg = config_for(world, tmp_path, **sections)
    world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    _poll(cfg)
    [note] = world.messages(SEKDES)
    return cfg, _read(note)


def test_an_applied_reply_gets_a_receipt_in_its_thread(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    reply = staff_reply(SEKDES, note, f"#status diverifikasi\n#petugas {KASI}\n\nSudah kami periksa.")
    reply_id = str(message_from_bytes(reply, policy=default)["Message-ID"])
    mail_world.deliver(INBOX, reply)

    _poll(cfg)

    [_, stored] = mail_world.messages(SEKDES)
    receipt = _read(stored)
    assert str(receipt["To"]) == SEKDES and receipt["Cc"] is None
    assert str(receipt["Subject"]) == "Re: [ADU-2026-00001] Perintah sudah dijalankan"
    assert receipt["In-Reply-To"] == reply_id
    assert str(receipt["References"]).split() == [str(note["Message-ID"]), reply_id]
    assert receipt["Auto-Submitted"] == "auto-replied"
    text = _text(receipt)
    assert "Yth. Sekretaris Desa," in text
    assert "-> Sudah diverifikasi\n" in text
    assert f"- Petugas: {KASI} (pemberitahuan tugas tindak lanjut)" in text
    assert "- Pelapor: ya" in text
    for secret in SITI_SECRETS:
        assert secret not in stored.raw.decode("utf-8", "replace"), secret
    [row] = [r for r in stored_rows(cfg, OutboxMessage) if r.kind == "receipt"]
    assert row.recipient == SEKDES
    assert len(mail_world.messages(KASI)) == 1  # the officer's notification, no receipt


def test_a_robot_answering_the_receipt_gets_no_receipt_back(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#prioritas tinggi"))
    _poll(cfg)
    receipt = _read(mail_world.messages(SEKDES)[-1])
    # A vacation responder without RFC 3834 headers, answering the receipt's Reply-To.
    away = EmailMessage()
    away["From"], away["To"] = SEKDES, str(receipt["Reply-To"])
    away["Subject"] = "Re: " + str(receipt["Subject"])
    away["Message-ID"] = make_msgid(domain="klero.desa.id")
    away["In-Reply-To"] = str(receipt["Message-ID"])
    away.set_content("Terima kasih. Saya sedang cuti sampai Senin dan akan membalas setelah kembali.")
    mail_world.deliver(INBOX, away.as_bytes())

    _poll(cfg)

    kinds = [r.kind for r in stored_rows(cfg, OutboxMessage) if r.recipient == SEKDES]
    assert kinds.count("receipt") == 1

    # A person answering the receipt with a command: applied (its Reply-To is the member's
    # signed address for the ticket) and acknowledged by a receipt of its own.
    mail_world.deliver(INBOX, staff_reply(SEKDES, receipt, "#status diverifikasi\nSudah dicek."))
    _poll(cfg)
    assert tickets(cfg)[0].status == "diverifikasi"
    kinds = [r.kind for r in stored_rows(cfg, OutboxMessage) if r.recipient == SEKDES]
    assert kinds.count("receipt") == 2


def test_receipts_turned_off_send_none(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path, commands={"receipts": False})
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status diverifikasi\nOk."))
    _poll(cfg)
    assert len(mail_world.messages(SEKDES)) == 1  # the notification only
    assert len(mail_world.messages(SITI)) == 2  # the reply was applied all the same


def test_a_forged_reply_gets_no_receipt(mail_world: Any, tmp_path: Path) -> None:
    cfg, note = _start(mail_world, tmp_path)
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status diverifikasi\nOk.", to=INBOX))
    _poll(cfg)
    assert "receipt" not in {r.kind for r in stored_rows(cfg, OutboxMessage)}
