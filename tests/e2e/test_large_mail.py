"""A message over 8 MB through the real intake: fetched in pieces to a file, its large photo
decoded to a file of its own and stored whole, nothing left behind (issue 10)."""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

import mailflow.store.spool
from mailflow.errors import StorageUnavailable
from mailflow.runners.intake_batch import SPOOL_ABOVE
from mailflow.store.models import Attachment, Quarantine
from mailflow.store.spool import SPOOL
from tests.e2e.support import INBOX, complaint, config_for, fail_on_marker, intake_only, rows, tickets

pytestmark = pytest.mark.e2e




def _with_files(body: str, *files: bytes) -> bytes:
    msg = message_from_bytes(complaint(body=body), policy=default)
    for index, data in enumerate(files):
        msg.add_attachment(data, maintype="image", subtype="jpeg", filename=f"foto{index}.jpg")
    return msg.as_bytes()


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_a_large_photo_is_stored_whole_and_the_spool_left_empty(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    photo, small = os.urandom(7 << 20), os.urandom(100_000)
    raw = _with_files("Jalan di Dusun Krajan berlubang, foto terlampir.\n", photo, small)
    assert len(raw) > SPOOL_ABOVE
    mail_world.deliver(INBOX, raw)
    mail_world.deliver(INBOX, complaint(body="Lampu jalan di Dusun Ngablak mati.\n"))
    cfg = config_for(mail_world, tmp_path)

    with caplog.at_level(logging.INFO):
        stats = intake_only(cfg)

    assert stats.tickets == 2 and stats.quarantined == 0
    stored = sorted(rows(cfg, Attachment), key=lambda a: -a.size)
    assert [(a.size, a.sha256) for a in stored] == [
        (len(photo), hashlib.sha256(photo).hexdigest()), (len(small), hashlib.sha256(small).hexdigest())]
    for row in stored:
        assert hashlib.sha256((cfg.storage_dir / row.path).read_bytes()).hexdigest() == row.sha256
    assert "Dusun Krajan" in tickets(cfg)[0].description
    assert list((cfg.storage_dir / SPOOL).iterdir()) == []
    logged = _messages(caplog)
    assert any(m.startswith("spooled uid=1 ") and m.endswith("spilled=1") for m in logged), logged
    assert not any("read whole" in m for m in logged)


def test_base64_letters_in_a_large_text_are_read_as_text(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Long enough to be spilled, but it is the text a resident sent: the guess is undone.
    letters = ("QUJDRA" * 12 + "\n") * 130_000
    raw = complaint(body="Saluran air di Dusun Gondang tersumbat.\n" + letters)
    assert len(raw) > SPOOL_ABOVE
    mail_world.deliver(INBOX, raw)
    cfg = config_for(mail_world, tmp_path, storage={"max_message_bytes": 20 << 20})

    with caplog.at_level(logging.INFO):
        stats = intake_only(cfg)

    assert stats.tickets == 1
    [ticket] = tickets(cfg)
    assert "Dusun Gondang" in ticket.description and "QUJDRA" in ticket.description
    assert any("read whole" in m for m in _messages(caplog))
    assert list((cfg.storage_dir / SPOOL).iterdir()) == []


def test_a_large_message_that_fails_is_quarantined_as_received(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_marker(monkeypatch)
    photo = os.urandom(7 << 20)
    mail_world.deliver(INBOX, _with_files("MEMICU-GALAT jalan rusak di dusun\n", photo))
    mail_world.deliver(INBOX, complaint())
    cfg = config_for(mail_world, tmp_path)

    stats = intake_only(cfg)

    assert stats.quarantined == 1 and stats.tickets == 1
    [entry] = rows(cfg, Quarantine)
    kept = (cfg.storage_dir / entry.raw_path).read_bytes()
    # The message as the server gave it, not the reduced form the parser read.
    assert len(kept) > SPOOL_ABOVE and b"MAILFLOWSPILL" not in kept
    assert message_from_bytes(kept, policy=default).get_payload()[1].get_content() == photo
    assert list((cfg.storage_dir / SPOOL).iterdir()) == []


def test_a_full_disk_while_spooling_ends_the_pass_and_loses_nothing(
        mail_world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The disk's fault, not the message's: no quarantine, the message is taken once it recovers.
    mail_world.deliver(INBOX, _with_files("Jalan di Dusun Krajan berlubang.\n", os.urandom(7 << 20)))
    cfg = config_for(mail_world, tmp_path)
    real = mailflow.store.spool._create

    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mailflow.store.spool, "_create", lambda path: FullDisk())
    with pytest.raises(StorageUnavailable, match="No space left"):
        intake_only(cfg)
    assert rows(cfg, Quarantine) == [] and tickets(cfg) == []

    monkeypatch.setattr(mailflow.store.spool, "_create", real)
    assert intake_only(cfg).tickets == 1
    assert len(rows(cfg, Attachment)) == 1
    assert list((cfg.storage_dir / SPOOL).iterdir()) == []
