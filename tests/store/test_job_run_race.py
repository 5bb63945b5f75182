"""Clock-driven jobs run once when two processes reach the same moment on one database: the
run's claim (a job_run row under its unique key) is written first in the run's transaction,
so the loser waits for the winner's commit, fails on the key, and writes nothing."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine
from mailflow.store.migrate import prepare
from mailflow.store.models import JobRun, TicketCounter
from tests.harness.postgres import store_url

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
KEYS = ["2026-11-29", "2026-11-30", "2026-12-01"]


class SlowCounter:
    """Due for KEYS once every racer has read the done runs (so each of them tries every
    key); each run bumps a counter slowly, widening the window in which a second one could
    slip in."""

    name = "slow-counter"

    def __init__(self, barrier: Any) -> None:
        self.barrier = barrier

    def due(self, now: datetime) -> Iterable[str]:
        self.barrier.wait(timeout=30)
        return KEYS

    def run(self, session: Session, key: str, now: datetime) -> str:
        counter = session.get(TicketCounter, ("T", 1)) or TicketCounter(scope="T", year=1, last=0)
        counter.last += 1
        session.add(counter)
        session.flush()
        time.sleep(0.2)
        return key


def _racer(url: str, barrier: Any, results: Any) -> None:
    engine = make_engine(url)
    stats = Schedule(engine, [SlowCounter(barrier)]).run_due(NOW)
    results.put((stats.ran, stats.failed))
    engine.dispose()


def test_two_processes_racing_for_the_same_runs_make_each_once(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    prepare(make_engine(url))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    racers = [context.Process(target=_racer, args=(url, barrier, results)) for _ in range(3)]
    for racer in racers:
        racer.start()
    outcomes = [results.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=30)
        assert racer.exitcode == 0

    ran = sorted(label for done, _ in outcomes for label in done)
    assert [failed for _, failed in outcomes] == [[], [], []]
    assert ran == [f"slow-counter:{key}" for key in KEYS]  # each key by exactly one racer
    engine = make_engine(url)
    with Session(engine) as session:
        counter = session.get(TicketCounter, ("T", 1))
        assert counter is not None and counter.last == len(KEYS)  # each run's work once
        assert sorted(r.run_key for r in session.exec(select(JobRun)).all()) == KEYS
