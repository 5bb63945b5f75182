"""Several instances share one outbox: each row is claimed by one of them and sent once.

Two real processes run outbox passes at the same moment over the same SQLite database and
the same SMTP server; what the server accepted is the proof. A claim left by an instance
that died runs out, and another instance sends the row then.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mailflow.adapters.smtp import SmtpSender
from mailflow.config import Config
from mailflow.runners import outbox as outbox_runner
from mailflow.runners.outbox import Outbox
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.e2e.support import ADMIN, INBOX, config_for, outbox

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
ROWS = 120


def _queue(cfg: Config, how_many: int, **fields: Any) -> None:
    engine = make_engine(cfg.database_url)
    prepare(engine)
    with transaction(engine) as session:
        for n in range(how_many):
            mid = f"<i{n}@klero.desa.id>"
            raw = (f"From: {INBOX}\r\nTo: {ADMIN}\r\nSubject: catatan {n}\r\n"
                   f"Message-ID: {mid}\r\n\r\nisi {n}\r\n").encode()
            session.add(OutboxMessage(kind=OutboxKind.STAFF_NOTE, message_id=mid, recipient=ADMIN,
                                      raw=raw, next_attempt_at=NOW, created_at=NOW, **fields))
    engine.dispose()


def _instance(cfg: Config, start: Any, results: Any) -> None:
    """One `mailflow run`'s outbox: passes until nothing is due for it (in a new process)."""
    outbox_runner.PAGE = 10  # small pages: the two instances take turns many times
    engine = make_engine(cfg.database_url)
    runner = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox)
    start.wait(timeout=60)
    sent = 0
    while True:
        sent += runner.send_pass(NOW).sent
        due = runner.next_due()
        if due is None or due > NOW:
            break
    engine.dispose()
    results.put(sent)


def test_two_processes_send_every_row_exactly_once(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    _queue(cfg, ROWS)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_instance, args=(cfg, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    message_ids = Counter(raw.split(b"Message-ID: ")[1].split(b"\r\n")[0]
                          for _from, _to, raw in mail_world.smtp.accepted)
    duplicates = {mid: n for mid, n in message_ids.items() if n > 1}
    assert not duplicates, f"sent more than once: {duplicates}"
    assert len(message_ids) == ROWS and sum(counts) == ROWS
    assert all(counts), f"both instances took part: {counts}"
    rows = outbox(cfg)
    assert {row.state for row in rows} == {OutboxState.SENT}
    assert {row.attempts for row in rows} == {1}
    assert {row.claimed_by for row in rows} == {None}  # each claim ended with its attempt


def test_a_claim_holds_until_it_runs_out(mail_world: Any, tmp_path: Path) -> None:
    """A row claimed by another live instance is left alone (and falls due when its claim
    runs out); a claim whose instance died, its lease over, is taken and sent."""
    cfg = config_for(mail_world, tmp_path)
    until = NOW + timedelta(minutes=5)
    _queue(cfg, 2, claimed_by="elsewhere:1:aa", claimed_until=until)
    engine = make_engine(cfg.database_url)
    runner = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox)
    assert runner.send_pass(NOW).sent == 0
    assert mail_world.smtp.accepted == []
    assert runner.next_due() == until  # the daemon wakes when the claim runs out
    assert runner.send_pass(until).sent == 2
    assert len(mail_world.smtp.accepted) == 2
    assert [row.claimed_by for row in outbox(cfg)] == [None, None]
