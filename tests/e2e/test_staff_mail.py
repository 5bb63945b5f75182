"""What staff receive: a notification per new ticket, identity only for the roles that need it."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from mailflow.compose.mime import Composer
from mailflow.compose.render import Renderer
from mailflow.core.identity import Identity
from mailflow.core.notices import ticket_notice
from mailflow.core.reply_address import Purpose, signed_address
from mailflow.core.tickets import TicketFacts
from mailflow.service import Service
from mailflow.vocabulary import Status
from tests.e2e.support import (
    COMPLETE_BODY,
    INBOX,
    KASI,
    SECRET,
    SEKDES,
    SITI,
    SITI_SECRETS,
    config_for,
)

pytestmark = pytest.mark.e2e


def _poll(cfg: Any) -> None:
    service = Service(cfg)
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _read(raw: bytes) -> Any:
    return message_from_bytes(raw, policy=default)


def test_verifier_is_notified_with_identity_and_a_signed_reply_address(mail_world: Any,
                                                                       tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Siti Aminah <{SITI}>", INBOX
    msg["Subject"] = "Pengaduan Masyarakat - jalan rusak"
    msg.set_content(COMPLETE_BODY)
    msg.add_attachment(b"\x89PNG foto", maintype="image", subtype="png", filename="jalan.png")
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, msg.as_bytes())

    _poll(cfg)

    [stored] = mail_world.messages(SEKDES)
    note = _read(stored.raw)
    assert note["Subject"] == "[ADU-2026-00001] Pengaduan baru: Pengaduan Masyarakat - jalan rusak"
    assert str(note["To"]) == SEKDES
    assert SITI not in str(note["To"]) + str(note.get("Cc", ""))
    assert str(note["Reply-To"]) == signed_address(INBOX, Purpose.STAFF, SEKDES, SECRET.encode(),
                                                   "ADU-2026-00001")
    text = note.get_body(("plain",)).get_content()
    assert "Siti Aminah" in text and "3322114506890002" in text
    assert "#status diverifikasi" in text
    assert [part.get_filename() for part in note.iter_attachments()] == ["jalan.png"]
    assert mail_world.messages(KASI) == []  # officers act after verification


def test_officer_notification_carries_no_identity(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    identity = Identity(name="Siti Aminah", nik="3322114506890002", phone="+6281234567890",
                        address="Dusun Krajan RT 02/RW 05", email=SITI)
    ticket = TicketFacts(
        number="ADU-2026-00007", status=Status.DIVERIFIKASI, received_at=datetime.now(UTC),
        due_date=datetime.now(UTC).date(), subject="Pengaduan Masyarakat dari Siti Aminah",
        description="Saya Siti Aminah (0812-3456-7890) dari Dusun Krajan RT 02/RW 05: jalan rusak.",
    )
    composer = Composer(Renderer(), cfg.smtp.from_address, "Pemerintah Desa Klero")
    [officer] = cfg.staff_with("petugas")

    row = composer.compose(ticket_notice(cfg, officer, ticket, identity, [], "ditindaklanjuti"),
                           ticket.number, datetime.now(UTC))

    raw = row.raw.decode("utf-8", "replace")
    note = _read(row.raw)
    everything = raw + note.get_body(("plain",)).get_content() + note.get_body(("html",)).get_content()
    assert "Identitas pelapor dirahasiakan" in everything
    for secret in (*SITI_SECRETS, "Dusun Krajan RT 02/RW 05", "+6281234567890"):
        assert secret not in everything, secret
    assert "jalan rusak" in everything
    assert row.recipient == KASI
