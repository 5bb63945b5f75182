"""The simulated month (tests/e2e/test_simulated_month.py) with more residents: how long it takes.

The test's script of August 2026 is played `--copies` times over (each copy by residents
of its own, with its own subjects and texts; the suggestion box is opened once), against
a private Dovecot and a loopback SMTP server, four polls a day by the real Service with a
fixed clock. Then the same checks as the test run against the tally scaled with it
(reminders, escalations, digests and their contents, `read_report`, `mailflow report
--json`, the monthly mail, the public page, no identity anywhere). Prints the tickets,
the mail staff received, the time of the month's polls (per poll: median, p90, max) and
of the checks.

Run: `.venv/bin/python bench/simulated_month.py --copies 4` (needs Dovecot).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import ClassVar

# Run as a script, so the checkout's root is not on the path; it holds the tests it reuses.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.service import Service
from tests.e2e import month_plan as plan
from tests.e2e import test_simulated_month as month
from tests.e2e.conftest import USERS, MailWorld, server_workdir, start_imap, stop_imap
from tests.harness.servers import dovecot_available
from tests.harness.village import KADES, KASI, SEKDES, config_for


def _scale(copies: int) -> None:
    """Copies of the script's complaints, each by residents of its own (the box stays one)."""
    base = plan.RESIDENTS
    residents = list(base)
    cases = list(plan.CASES)
    for copy in range(1, copies):
        residents += [dataclasses.replace(r, name=f"{r.name} {_alias(copy)}",
                                          nik=f"{int(r.nik) + copy * 1000:016d}",
                                          email=f"warga{copy}-{n}@warga.example",
                                          address=f"{r.address} blok {copy}",
                                          phone=f"{r.phone}-{copy}")
                      for n, r in enumerate(base)]
        cases += [dataclasses.replace(c, topic=f"{c.topic} ({copy})", text=f"{c.text} Laporan "
                                      f"ke-{copy + 1}.", resident=c.resident + copy * len(base))
                  for c in plan.CASES if c.resident is not None]
    plan.RESIDENTS = tuple(residents)
    plan.CASES[:] = sorted(cases, key=lambda c: (c.day, c.resident is None))
    month.SECRETS = (*(s for r in plan.RESIDENTS for s in r.secrets), plan.BOX_NAME)


def _alias(copy: int) -> str:
    return ("Wibowo", "Santosa", "Kurniawan", "Hidayat", "Saputra", "Permana")[(copy - 1) % 6]


class _Timed(Service):
    polls: ClassVar[list[float]] = []
    by_hour: ClassVar[dict[str, list[float]]] = {}

    def poll_once(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().poll_once()
        finally:
            took = time.perf_counter() - started
            _Timed.polls.append(took)
            _Timed.by_hour.setdefault(f"{self.clock().astimezone(month.WIB):%H.%M}", []).append(took)


def run(copies: int) -> None:
    _scale(copies)
    workdir = server_workdir()
    imap = start_imap("dovecot", workdir, dict(USERS))
    world = MailWorld(imap, "dovecot")
    world.smtp.start()
    try:
        for who in plan.RESIDENTS:
            if who.email not in world.users:
                world.add_user(who.email, "warga-secret")
        cfg = config_for(world, workdir / "state-root", reminders={"enabled": True},
                         digest={"enabled": True}, report={"enabled": True},
                         promise={"targets": {}}, limits={"staff_per_hour": 500,
                                                         "staff_per_day": 5000},
                         suggestion_box={"enabled": True, "team": ["verifikator"]})
        month.Service = _Timed  # type: ignore[misc]
        started = time.perf_counter()
        month._live_month(world, cfg)
        lived = time.perf_counter() - started
        started = time.perf_counter()
        figures = plan.tally()
        month._check_clock(world)
        month._check_report(world, cfg, figures)
        month._check_page(cfg, figures, workdir / "site")
        checked = time.perf_counter() - started
        staff_mail = sum(len(world.messages(u)) for u in (SEKDES, KASI, KADES))
    finally:
        world.smtp.stop()
        stop_imap(imap)
        shutil.rmtree(workdir, ignore_errors=True)
    polls = sorted(_Timed.polls)
    print(f"copies {copies}: {figures.received} tickets ({figures.in_time} in time, {figures.late} "
          f"late, {figures.pending} pending), {staff_mail} mails to staff; all checks passed")
    print(f"  month: {lived:6.1f} s, of which {sum(polls):5.1f} s in {len(polls)} polls | poll median "
          f"{statistics.median(polls) * 1000:6.1f} ms, p90 {polls[int(0.9 * len(polls))] * 1000:6.1f}"
          f" ms, max {polls[-1] * 1000:6.1f} ms | checks {checked:5.1f} s")
    print("  poll median by local time: " + ", ".join(
        f"{hour} {statistics.median(times) * 1000:.0f} ms" for hour, times in sorted(_Timed.by_hour.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    if not dovecot_available():
        print("bench: Dovecot is not installed (run scripts/install-test-deps.sh as root)",
              file=sys.stderr)
        return 69
    run(args.copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
