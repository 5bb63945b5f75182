"""The demo's next morning: the daily digest staff find in their mailbox on the next working day.

The real clock job (runners/clock.py, as `mailflow run` schedules it) runs at one poll with
a fixed clock set to the next working day, half an hour after `[digest] hour`; its digests go
through the outbox and the demo's SMTP server into the staff mailboxes, and one is printed
as its reader sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from mailflow.adapters.clock import FixedClock, utc_now
from mailflow.config import Config
from mailflow.core.parse import parse_message
from mailflow.core.workdays import calendar_for, format_tanggal
from mailflow.runners.clock import ClockJob
from mailflow.service import Service

#: (subject, flags, raw) of each message in a user's mailbox (scenario.py `_mailbox`).
Mailbox = Callable[[str], list[tuple[str, str, str]]]
DIGEST_SUBJECT = "Daftar pengaduan terbuka"
MAX_LINES = 24


def digest_moment(cfg: Config, now: datetime) -> datetime:
    """The next working day after `now`, half an hour after the digest hour (local time)."""
    calendar = calendar_for(cfg.calendar)
    day = calendar.add_workdays(calendar.local_day(now), 1)
    return datetime.combine(day, time(cfg.digest.hour, 30), calendar.zone)


def show_digest(cfg: Config, mailbox: Mailbox, staff: tuple[str, ...], reader: str) -> None:
    """Poll once on the next working day with the clock job, list the digests staff got and
    print `reader`'s."""
    moment = digest_moment(cfg, utc_now())
    print(f"\n== The next working day, {format_tanggal(moment.date())} "
          f"{moment:%H.%M}: one poll with the clock job (as `mailflow run` does)")
    service = Service(cfg, clock=FixedClock(moment), jobs=[ClockJob(cfg)])
    try:
        service.poll_once()
    finally:
        service.engine.dispose()
    digests = {user: [(s, raw) for s, _f, raw in mailbox(user) if s.startswith(DIGEST_SUBJECT)]
               for user in staff}
    for user, found in digests.items():
        for subject, _raw in found:
            print(f"   {user}: {subject}")
    if not digests.get(reader):
        print("   (no digest: nobody has an open ticket)")
        return
    subject, raw = digests[reader][-1]
    print(f"\n--- the verifier's digest, {reader}: {subject}")
    lines = parse_message(raw.encode()).text.strip().splitlines()
    for line in lines[:MAX_LINES]:
        print(f"    {line}" if line else "")
    if len(lines) > MAX_LINES:
        print("    ...")
