"""What the clock job costs a poll (runners/clock.py) as the number of open tickets grows.

For each size: that many open tickets in SQLite (each with its CREATED event, half of
them answered by a STATUS event, a quarter waiting for data), then
- `due` with nothing to send yet (before the day's first hour: no query at all),
- `due` on a working morning (two queries, the plan over every ticket), median of 7,
- the first pass at that moment: every reminder, escalation and digest composed and queued.

Run: `.venv/bin/python bench/clock_bench.py --sizes 100 1000 5000` (no mail servers needed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.runners.clock import ClockJob
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind, Status
from tests.unit.plan_support import KASI, config

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 12, 1, 9, tzinfo=WIB)
EARLY = datetime(2026, 12, 14, 5, tzinfo=WIB)
MORNING = datetime(2026, 12, 14, 9, tzinfo=WIB)


def _fill(url: str, size: int) -> None:
    engine = make_engine(url)
    prepare(engine)
    with transaction(engine) as session:
        for n in range(size):
            status = Status.PERLU_DATA if n % 4 == 3 else Status.DITERIMA
            ticket = Ticket(number=f"ADU-2026-{n + 1:05d}", status=status, received_at=RECEIVED,
                            due_date=date(2026, 12, 10), subject=f"Pengaduan Masyarakat {n}",
                            description="-", message_key=f"k{n}", created_at=RECEIVED,
                            assignee=KASI if n % 2 else None)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            session.add(Reporter(ticket_id=ticket.id, name=f"Warga {n}", email=f"w{n}@x.example"))
            session.add(TicketEvent(ticket_id=ticket.id, at=RECEIVED, actor="system",
                                    kind=EventKind.CREATED, to_status=status))
            if n % 2 and status is Status.DITERIMA:
                session.add(TicketEvent(ticket_id=ticket.id, at=RECEIVED, actor=KASI,
                                        kind=EventKind.MESSAGE))
    engine.dispose()


def measure(size: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        _fill(url, size)
        engine = make_engine(url)
        job = ClockJob(config(), engine=engine)
        started = time.perf_counter()
        assert list(job.due(EARLY)) == []
        early = time.perf_counter() - started
        timings, keys = [], 0
        for _ in range(7):
            started = time.perf_counter()
            keys = len(list(job.due(MORNING)))
            timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        ran = Schedule(engine, [ClockJob(config())]).run_due(MORNING).ran
        first = time.perf_counter() - started
        engine.dispose()
    print(f"{size:>6} open tickets: due before the hour {early * 1000:7.2f} ms | due on a "
          f"working morning {statistics.median(timings) * 1000:8.1f} ms ({keys} keys) | first "
          f"pass {first:6.2f} s ({len(ran)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    for size in parser.parse_args().sizes:
        measure(size)


if __name__ == "__main__":
    main()
