"""Several instances share one outbox: each row is claimed by one of them and sent once.

Two real processes run outbox passes at the same moment over the same SQLite database and
the same SMTP server; what the server accepted is the proof. A claim left by an instance
that died runs out, and another instance sends the row then.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import signal
import subprocess
import time
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
from mailflow.store.outbox_queries import OutboxStore
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
    # A server that takes its time (20 ms a message): one instance cannot send everything
    # before the other has started, however the machine schedules them.
    deliver = mail_world.smtp.deliver

    def slowly(rcpt: str, raw: bytes) -> None:
        time.sleep(0.02)
        deliver(rcpt, raw)

    mail_world.smtp.deliver = slowly
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


def test_claims_of_a_dead_process_of_this_host_are_taken_back_at_once(
        mail_world: Any, tmp_path: Path) -> None:
    """A restart after a crash: the claims of the killed process (same host, its pid gone)
    need not run out; a live process's claims stay (the pytest runner's parent is alive)."""
    cfg = config_for(mail_world, tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid no longer runs
    host, until = platform.node(), NOW + timedelta(hours=1)
    _queue(cfg, 1, claimed_by=f"{host}:{dead.pid}:killed", claimed_until=until)
    engine = make_engine(cfg.database_url)
    with transaction(engine) as session:
        raw = b"From: x\r\nMessage-ID: <alive@klero.desa.id>\r\n\r\nisi\r\n"
        session.add(OutboxMessage(kind=OutboxKind.STAFF_NOTE, message_id="<alive@klero.desa.id>",
                                  recipient=ADMIN, raw=raw, next_attempt_at=NOW, created_at=NOW,
                                  claimed_by=f"{host}:{os.getppid()}:alive", claimed_until=until))
    stats = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox).send_pass(NOW)
    assert stats.sent == 1
    assert [raw.count(b"<i0@klero.desa.id>") for _f, _t, raw in mail_world.smtp.accepted] == [1]
    states = {row.message_id: row.state for row in outbox(cfg)}
    assert states == {"<i0@klero.desa.id>": OutboxState.SENT,
                      "<alive@klero.desa.id>": OutboxState.PENDING}


def _killed_in_flight(cfg: Config, after: int) -> None:
    """An instance killed (SIGKILL) right after the server accepted message number `after`,
    before the outcome is recorded: the worst moment (in a new process)."""
    recorded = 0
    real_record = Outbox._record

    def record(self: Outbox, *args: Any) -> None:
        nonlocal recorded
        recorded += 1
        if recorded == after:
            os.kill(os.getpid(), signal.SIGKILL)
        real_record(self, *args)

    Outbox._record = record  # type: ignore[method-assign]
    runner = Outbox(make_engine(cfg.database_url), SmtpSender(cfg.smtp), cfg.outbox)
    runner.send_pass(NOW)


def test_a_kill_in_flight_resends_that_one_message_and_loses_none(mail_world: Any,
                                                                   tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    _queue(cfg, 30)
    killed = multiprocessing.get_context("spawn").Process(target=_killed_in_flight,
                                                          args=(cfg, 12))
    killed.start()
    killed.join(timeout=60)
    assert killed.exitcode == -signal.SIGKILL
    assert len(mail_world.smtp.accepted) == 12
    # The restarted instance takes the dead one's claims back at once and sends the rest.
    stats = Outbox(make_engine(cfg.database_url), SmtpSender(cfg.smtp), cfg.outbox).send_pass(NOW)
    assert stats.sent == 30 - 11
    sent = Counter(raw.split(b"Message-ID: ")[1].split(b"\r\n")[0]
                   for _from, _to, raw in mail_world.smtp.accepted)
    assert len(sent) == 30  # none lost
    assert [mid for mid, n in sent.items() if n > 1] == [b"<i11@klero.desa.id>"]  # the one in flight
    assert {row.state for row in outbox(cfg)} == {OutboxState.SENT}


def test_a_pass_whose_claims_are_taken_back_stops_sending_them(mail_world: Any,
                                                                tmp_path: Path) -> None:
    """Another instance takes this pass's claims back while it sends (it judged this one
    gone, or the claims ran out during a long stall): the pass ends at the message in flight,
    which the other sends again, instead of sending every row the other now sends too."""
    cfg = config_for(mail_world, tmp_path)
    _queue(cfg, 5)
    engine = make_engine(cfg.database_url)
    runner = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox, owner="box-a:1:aa")
    deliver, accepted = mail_world.smtp.deliver, 0

    def taken_back_at_the_second(rcpt: str, raw: bytes) -> None:
        nonlocal accepted
        accepted += 1
        if accepted == 2:  # the peer takes the rows back and claims them as its own
            with OutboxStore.connect(engine) as peer:
                peer.release_all("box-a:1:aa")
                peer.claim(owner="box-b:2:bb", now=NOW, until=NOW + timedelta(minutes=5),
                           limit=10)
        deliver(rcpt, raw)

    mail_world.smtp.deliver = taken_back_at_the_second
    stats = runner.send_pass(NOW)
    assert len(mail_world.smtp.accepted) == 2 and stats.sent == 2
    rows = outbox(cfg)
    assert [(row.state, row.claimed_by) for row in rows] == [
        (OutboxState.SENT, None), *[(OutboxState.PENDING, "box-b:2:bb")] * 4]
    engine.dispose()
