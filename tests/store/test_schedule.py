"""Clock-driven jobs run once per key, across restarts and racing instances (real SQLite)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine
from mailflow.store.migrate import prepare
from mailflow.store.models import JobRun, TicketCounter
from tests.harness.postgres import store_url

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


class DailyCounter:
    """A job due once per day since `start`; each run bumps a counter row as its visible effect."""

    name = "daily-counter"

    def __init__(self, start: datetime, fail_on: str | None = None) -> None:
        self.start = start
        self.fail_on = fail_on
        self.calls: list[str] = []

    def due(self, now: datetime) -> Iterable[str]:
        day = self.start.date()
        while day <= now.date():
            yield day.isoformat()
            day += timedelta(days=1)

    def run(self, session: Session, key: str, now: datetime) -> str:
        self.calls.append(key)
        if key == self.fail_on:
            raise RuntimeError("simulated job bug")
        counter = session.get(TicketCounter, ("T", 1)) or TicketCounter(scope="T", year=1, last=0)
        counter.last += 1
        session.add(counter)
        return f"ran for {key}"


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)  # make_engine creates no tables
    return engine


def _effects(engine: Engine) -> int:
    with Session(engine) as session:
        counter = session.get(TicketCounter, ("T", 1))
        return counter.last if counter else 0


def test_runs_missed_while_down_happen_once_on_return(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    job = DailyCounter(NOW - timedelta(days=2))

    stats = Schedule(engine, [job]).run_due(NOW)

    assert stats.ran == [f"daily-counter:{d}" for d in ("2026-11-29", "2026-11-30", "2026-12-01")]
    assert _effects(engine) == 3


def test_a_restart_does_not_repeat_a_run(tmp_path: Path) -> None:
    job = DailyCounter(NOW)
    Schedule(_engine(tmp_path), [job]).run_due(NOW)

    restarted = _engine(tmp_path)  # a new process: nothing but the database remembers
    again = DailyCounter(NOW)
    stats = Schedule(restarted, [again]).run_due(NOW + timedelta(hours=5))

    assert stats.ran == []
    assert again.calls == []
    assert _effects(restarted) == 1


class RacedCounter(DailyCounter):
    """Another instance claims each run after this one read the done runs, before it claims."""

    def __init__(self, start: datetime, engine: Engine) -> None:
        super().__init__(start)
        self.engine = engine

    def due(self, now: datetime) -> Iterable[str]:
        for key in super().due(now):
            with Session(self.engine) as session:
                session.add(JobRun(job=self.name, run_key=key, done_at=now))
                session.commit()
            yield key


def test_a_run_claimed_by_another_instance_is_skipped(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    job = RacedCounter(NOW, engine)

    stats = Schedule(engine, [job]).run_due(NOW)

    assert stats.ran == [] and stats.failed == []
    assert job.calls == []  # the claim failed before the run wrote anything
    assert _effects(engine) == 0


def test_a_failing_run_leaves_no_trace_and_is_retried(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    failing = DailyCounter(NOW - timedelta(days=1), fail_on="2026-11-30")

    stats = Schedule(engine, [failing]).run_due(NOW)

    assert stats.failed == ["daily-counter:2026-11-30"]
    assert stats.ran == ["daily-counter:2026-12-01"]  # one bad run does not stop the next
    with Session(engine) as session:
        keys = sorted(r.run_key for r in session.exec(select(JobRun)).all())
    assert keys == ["2026-12-01"]
    assert _effects(engine) == 1

    fixed = DailyCounter(NOW - timedelta(days=1))
    assert Schedule(engine, [fixed]).run_due(NOW).ran == ["daily-counter:2026-11-30"]
    assert _effects(engine) == 2
