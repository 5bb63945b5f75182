"""Hostile and third-party mail through the real intake path: nothing lost, nothing stops it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailflow.store.models import Quarantine
from tests.corpus_files import corpus_messages, with_phrase
from tests.e2e.support import (
    INBOX,
    complaint,
    config_for,
    fail_on_marker,
    intake_only,
    intake_records,
    rows,
    tickets,
)

pytestmark = pytest.mark.e2e




def test_every_corpus_message_gets_a_ticket_or_a_recorded_decision(mail_world: Any,
                                                                    tmp_path: Path) -> None:
    files = corpus_messages()
    for path in files:
        mail_world.deliver(INBOX, with_phrase(path.read_bytes()))
    cfg = config_for(mail_world, tmp_path, storage={"max_message_bytes": 400_000})

    stats = intake_only(cfg)

    records = intake_records(cfg)
    assert stats.examined == len(files)
    assert len(records) == len(files)
    assert len({(r.uidvalidity, r.uid) for r in records}) == len(files)
    decisions = {r.decision for r in records}
    assert decisions <= {"ticket", "ignored", "duplicate", "quarantined", "reply"}
    assert stats.tickets == len(tickets(cfg)) > 100
    assert stats.ignored > 30  # the bounces and auto-replies


def test_a_failing_message_is_quarantined_and_the_rest_go_on(mail_world: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fail_on_marker(monkeypatch)
    mail_world.deliver(INBOX, complaint(body="MEMICU-GALAT jalan rusak parah sekali di dusun"))
    mail_world.deliver(INBOX, complaint())
    cfg = config_for(mail_world, tmp_path)

    stats = intake_only(cfg)

    assert stats.quarantined == 1
    assert stats.tickets == 1
    [entry] = rows(cfg, Quarantine)
    assert "simulated bug" in entry.reason
    assert (cfg.storage_dir / entry.raw_path).read_bytes().count(b"MEMICU-GALAT") == 1
    # Quarantined mail is not retried on every pass, and the mailbox keeps it untouched.
    assert intake_only(cfg).examined == 0
    assert mail_world.messages(INBOX)[0].flags == ()


def test_a_huge_message_is_quarantined_without_download(mail_world: Any, tmp_path: Path) -> None:
    attachment = b"A" * 300_000
    mail_world.deliver(INBOX, complaint(body="lampiran besar\n" + attachment.decode()))
    mail_world.deliver(INBOX, complaint())
    cfg = config_for(mail_world, tmp_path, storage={"max_message_bytes": 100_000})

    stats = intake_only(cfg)

    assert stats.quarantined == 1
    assert stats.tickets == 1
    [entry] = rows(cfg, Quarantine)
    assert "too large" in entry.reason
    assert entry.raw_path is None
