"""What `mailflow report` and the monthly mail cost as a village's year of tickets grows.

For each size: that many tickets in SQLite, spread over the 12 months Dec 2025 to Nov 2026
(each with its CREATED event; two in three answered by a STATUS event some working days
later, one in three of those closed; a tenth never answered, so overdue), then, median of 5:
- `read_report` for November 2026 (two queries, every ticket's verdict, the trend),
- the text, the JSON and the HTML page with its two SVG charts.

Run: `.venv/bin/python bench/report_bench.py --sizes 600 6000` (no mail servers needed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.compose.render import Renderer
from mailflow.config import Config
from mailflow.core.report import Month
from mailflow.core.report_text import html_context, report_json, report_lines
from mailflow.runners.report import read_report
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import Ticket, TicketEvent
from mailflow.vocabulary import EventKind, Status
from tests.unit.plan_support import KASI, config

WIB = ZoneInfo("Asia/Jakarta")
FIRST = datetime(2025, 12, 1, 9, tzinfo=WIB)
NOW = datetime(2026, 12, 3, 9, tzinfo=WIB)


def _fill(url: str, size: int) -> None:
    engine = make_engine(url)
    prepare(engine)
    with transaction(engine) as session:
        for n in range(size):
            received = FIRST + timedelta(hours=(364 * 24) * n // size)
            answered = n % 3 != 0 or n % 10 == 0
            closed = n % 3 == 1
            status = Status.SELESAI if closed else Status.DIPROSES if answered else Status.DITERIMA
            ticket = Ticket(number=f"ADU-2026-{n + 1:05d}", status=status, received_at=received,
                            due_date=date(2026, 12, 10), subject="-", description="-",
                            message_key=f"k{n}", created_at=received)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                    kind=EventKind.CREATED, to_status=Status.DITERIMA))
            if answered:
                session.add(TicketEvent(ticket_id=ticket.id, at=received + timedelta(days=n % 12),
                                        actor=KASI, kind=EventKind.STATUS,
                                        to_status=Status.DIPROSES))
            if closed:
                session.add(TicketEvent(ticket_id=ticket.id, at=received + timedelta(days=20),
                                        actor=KASI, kind=EventKind.STATUS,
                                        to_status=Status.SELESAI))
    engine.dispose()


def _median_seconds(action: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 6000])
    args = parser.parse_args()
    cfg = config()
    renderer = Renderer()
    print(f"{'tickets':>8} {'read_report':>12} {'text+json+html':>15}")
    for size in args.sizes:
        read, shown = _measure(size, cfg, renderer)
        print(f"{size:>8} {read * 1000:>10.0f}ms {shown * 1000:>13.0f}ms")


def _measure(size: int, cfg: Config, renderer: Renderer) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'db.sqlite3'}"
        _fill(url, size)
        engine = make_engine(url)
        month = Month(2026, 11)
        read = _median_seconds(lambda: read_report(cfg, engine, month, NOW))
        report = read_report(cfg, engine, month, NOW)

        def show() -> None:
            report_lines(report, "Asia/Jakarta")
            report_json(report)
            renderer.render("report", html_context(report, "Asia/Jakarta", "Desa Klero"))

        shown = _median_seconds(show)
        engine.dispose()
    return read, shown

if __name__ == "__main__":
    main()
