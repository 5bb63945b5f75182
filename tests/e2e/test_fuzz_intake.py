"""Thirty fuzzed messages through the real intake (Dovecot, SMTP, SQLite), then a good complaint.

The pure properties are in tests/fuzz; this checks the promise they serve on the real path:
whatever the fuzzer makes (tests/fuzz/strategies.py, a fixed derandomized sample, so every
run sends the same messages), one intake pass ends normally, every message the server took
has a trace (an intake record, a skipped-message row or a quarantine entry: never silence),
and the good complaint behind them gets its ticket and its acknowledgement.
"""

from __future__ import annotations

import imaplib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import strategies as st

from mailflow.service import Service
from mailflow.store.models import Quarantine, SkippedMessage
from tests.corpus_files import with_phrase
from tests.e2e.support import BUDI, INBOX, FixedClock, complaint, config_for, intake_records, rows, tickets
from tests.fuzz.strategies import built_messages, complaint_subjects, fixed_sample, messages

pytestmark = pytest.mark.e2e

RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
GOOD_ID = "<keluhan-baik@warga.example>"
COUNT = 30


@cache
def _fuzzed() -> tuple[bytes, ...]:
    # Most carry the complaint phrase, so that they go the whole way through the intake.
    strategy = st.one_of(built_messages(subject=complaint_subjects().map(lambda pair: pair[1])),
                         messages.map(with_phrase), messages)
    return tuple(fixed_sample(strategy, COUNT))


def _uids(world: Any) -> set[int]:
    return {m.uid for m in world.messages(INBOX)}


def test_fuzzed_messages_each_leave_a_trace_and_never_hold_back_a_complaint(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    refused = 0
    for raw in _fuzzed():
        try:
            mail_world.deliver(INBOX, raw, RECEIVED)
        except (imaplib.IMAP4.error, RuntimeError, OSError):
            refused += 1  # the server itself would not store it (a NUL byte, say)
    fuzzed = _uids(mail_world)
    assert len(fuzzed) >= COUNT - 10, f"Dovecot refused {refused} of {COUNT}"
    mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>", message_id=GOOD_ID,
                                        body="Nama: Budi\n\nSaluran air di gang Mawar tersumbat "
                                             "sejak Senin, mohon dibersihkan.\n"), RECEIVED)
    good_uid = max(_uids(mail_world))

    service = Service(cfg, clock=FixedClock(NOW), dkim=lambda raw: ())
    try:
        result = service.poll_once()
    finally:
        service.engine.dispose()

    assert result.intake is not None and result.imap_error is None and result.storage_error is None
    traced = ({r.uid for r in intake_records(cfg)} | {r.uid for r in rows(cfg, SkippedMessage)}
              | {r.uid for r in rows(cfg, Quarantine)})
    assert fuzzed <= traced, f"no trace of uids {sorted(fuzzed - traced)}"
    [good] = [t for t in tickets(cfg) if t.source_message_id == GOOD_ID]
    assert {r.uid: r.ticket_id for r in intake_records(cfg)}[good_uid] == good.id
    assert len(mail_world.messages(BUDI)) == 1  # the acknowledgement
