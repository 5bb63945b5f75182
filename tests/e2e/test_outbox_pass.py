"""One outbox pass sends everything that is due, bounded by time rather than by a row count."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from mailflow.adapters.smtp import SmtpSender
from mailflow.runners.outbox import PAGE, Outbox
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.e2e.support import ADMIN, INBOX, config_for, outbox

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _queue(cfg: Any, how_many: int) -> Any:
    engine = make_engine(cfg.database_url)
    prepare(engine)
    with transaction(engine) as session:
        for n in range(how_many):
            raw = (f"From: {INBOX}\r\nTo: {ADMIN}\r\nSubject: catatan {n}\r\n"
                   f"Message-ID: <n{n}@klero.desa.id>\r\n\r\nisi {n}\r\n").encode()
            session.add(OutboxMessage(kind=OutboxKind.STAFF_NOTE, message_id=f"<n{n}@klero.desa.id>",
                                      recipient=ADMIN, raw=raw, next_attempt_at=NOW,
                                      created_at=NOW))
    return engine


def test_more_than_a_page_goes_out_in_one_pass(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    engine = _queue(cfg, PAGE + 50)  # the old pass stopped at 200 rows
    stats = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox).send_pass(NOW)
    assert stats.sent == PAGE + 50 and not stats.out_of_time
    assert {row.state for row in outbox(cfg)} == {OutboxState.SENT}
    assert len(mail_world.smtp.accepted) == PAGE + 50


def test_a_pass_ends_when_its_time_is_up_and_the_rest_stays_due(mail_world: Any,
                                                               tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, outbox={"pass_seconds": 10.0})
    engine = _queue(cfg, 5)
    runner = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox)
    ticks = count(step=4)  # each message "takes" 4 s of the pass's 10
    runner.monotonic = lambda: float(next(ticks))
    stats = runner.send_pass(NOW)
    assert stats.sent == 3 and stats.out_of_time
    states = [row.state for row in outbox(cfg)]
    assert states.count(OutboxState.SENT) == 3 and states.count(OutboxState.PENDING) == 2
    assert runner.next_due() == NOW  # still due: the daemon runs the next pass at once
    ticks = count(step=0)
    assert runner.send_pass(NOW).sent == 2
