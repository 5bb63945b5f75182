"""How long `mailflow publish` takes for a village's year (or a town's): read, build, write.

Fills a fresh SQLite database with N tickets over the last 360 days (each with its
CREATED event, most answered, a quarter closed with a #publik note, a reporter row), then
times `runners.publish.publish` into a new directory and again over the site it wrote (a
cron run replaces every file). Prints the times, the files and the site's size.

    .venv/bin/python bench/publish_bench.py [--tickets 3000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, so the checkout's root is not on the path; it holds the test harness.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.runners.publish import publish
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind, Status
from tests.unit.plan_support import config

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 15, 10, tzinfo=WIB)


def _fill(url: str, count: int) -> None:
    engine = make_engine(url)
    prepare(engine)
    with transaction(engine) as session:
        for n in range(count):
            received = NOW - timedelta(days=n * 360 / count, hours=n % 7)
            ticket = Ticket(number=f"ADU-2026-{n + 1:05d}", status=Status.DITERIMA,
                            received_at=received, due_date=date(2027, 1, 4),
                            subject=f"Pengaduan Masyarakat {n}", description="jalan rusak",
                            message_key=f"<bench-{n}@warga.example>", created_at=received)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            session.add(Reporter(ticket_id=ticket.id, name=f"Warga {n}", email=f"w{n}@warga.example"))
            events = [TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                  kind=EventKind.CREATED, to_status=Status.DITERIMA)]
            answered = received + timedelta(days=1 + n % 12)
            if n % 5 and answered < NOW:
                events.append(TicketEvent(ticket_id=ticket.id, at=answered, actor="kasi@klero.desa.id",
                                          kind=EventKind.STATUS, to_status=Status.DIPROSES))
                if n % 4 == 0:
                    events.append(TicketEvent(ticket_id=ticket.id, at=answered, actor="kasi@klero.desa.id",
                                              kind=EventKind.PUBLIC, note="Sudah ditangani."))
            session.add_all(events)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        _fill(url, args.tickets)
        engine = make_engine(url)
        site = Path(tmp) / "site"
        for run in ("new directory", "over the last site"):
            start = time.perf_counter()
            publish(config(), engine, site, NOW)
            print(f"{args.tickets} tickets, {run}: {time.perf_counter() - start:.2f} s")
        files = [p for p in site.rglob("*") if p.is_file()]
        print(f"{len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
        engine.dispose()


if __name__ == "__main__":
    main()
