"""Clock-driven work (reminders, escalation, digests, suggestion-box rounds), run exactly once.

A job says which runs are due at a moment (`due`, a pure function of "now", usually over the
working-day calendar) and what one run writes (`run`, in the open transaction). The runner
records each run in `job_run` in that same transaction, under a unique (job, run key): a run
that fell due while mailflow was down happens when it returns, and never twice, whether the
process crashed, restarted or a second instance raced it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mailflow.config import Config
from mailflow.store import queries
from mailflow.store.db import Engine, IntegrityError, Session, transaction, unavailable
from mailflow.store.models import JobRun

log = logging.getLogger(__name__)


def job_name(job: str, cfg: Config) -> str:
    """A job's name in `job_run` for the village of `cfg`: the job alone for a single-mailbox
    file (the names existing databases hold, so nothing runs again), "clock@klero" for the
    village "klero" of a regency's file, so that one village's run (its digest of the day,
    keyed by a staff address two villages may share) never counts as another's."""
    return f"{job}@{cfg.name}" if cfg.name else job


class NothingDue(Exception):
    """Raised by a job's `run` when there is nothing to do this time: the run is not recorded
    (its claim is rolled back) and is tried again at the next pass."""


class _DoneElsewhere(Exception):
    """The run's claim hit its unique key: another instance made (or is making) the run."""


class Job(Protocol):
    name: str

    def due(self, now: datetime) -> Iterable[str]:
        """The run keys due at `now` (past ones included: the runner skips those done)."""
        ...

    def run(self, session: Session, key: str, now: datetime) -> str:
        """Do one run inside `session`; returns a short note for the record (no identity)."""
        ...


@dataclass
class ScheduleStats:
    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Schedule:
    def __init__(self, engine: Engine, jobs: Sequence[Job],
                 stop_requested: Callable[[], bool] = lambda: False) -> None:
        """`stop_requested` is asked between runs (the daemon's SIGTERM, its watchdog ping):
        a pass with hundreds of runs stops there, and the rest are done at the next start."""
        self.engine = engine
        self.jobs = jobs
        self.stop_requested = stop_requested
        for job in jobs:
            # A job that reads the store to know what is due (runners/clock.py) takes the
            # service's engine; others have no `bind`.
            bind = getattr(job, "bind", None)
            if callable(bind):
                bind(engine)

    def run_due(self, now: datetime) -> ScheduleStats:
        stats = ScheduleStats()
        for job in self.jobs:
            due = list(job.due(now))
            if not due:
                continue  # most polls: the job's record is not read at all
            with Session(self.engine) as session:
                done = queries.job_run_keys(session, job.name, due)
            for key in due:
                if key in done:
                    continue
                if self.stop_requested():
                    return stats
                self._one(job, key, now, stats)
        return stats

    def _one(self, job: Job, key: str, now: datetime, stats: ScheduleStats) -> None:
        label = f"{job.name}:{key}"
        try:
            with transaction(self.engine) as session:
                record = JobRun(job=job.name, run_key=key, done_at=now)
                session.add(record)
                try:
                    # The claim comes first, in the run's own transaction: an instance racing
                    # for the same key waits here for this one's commit, then fails, and its
                    # run writes nothing; a rolled-back run leaves no claim.
                    session.flush()
                except IntegrityError as exc:
                    raise _DoneElsewhere from exc
                record.note = job.run(session, key, now)[:500]
        except _DoneElsewhere:
            log.info("job run already done elsewhere job=%s key=%s", job.name, key)
            return
        except NothingDue:
            return
        except Exception as exc:
            outage = unavailable(exc)
            if outage is not None:
                # The database going away (a restart, a full disk) is no job's bug: the pass
                # says so in one line and every job waits for the next one (service.py).
                raise outage from exc
            # One job's bug must not stop the others; it is tried again on the next pass.
            log.exception("job run failed job=%s key=%s", job.name, key)
            stats.failed.append(label)
            return
        stats.ran.append(label)
        log.info("job run done job=%s key=%s", job.name, key)
