"""How long one poll takes over a mailbox full of old mail (Dovecot and SMTP on loopback).

Prints, for each mailbox size: the time to append the old mail, the first pass (every
header examined once, the complaints among them taken and acknowledged), a pass with
nothing new, and a pass with one new complaint. The last two are what the daemon pays
every `poll_seconds`; they should not grow with the mailbox.

Run with `make bench` (needs Dovecot; `scripts/install-test-deps.sh` installs it as root).
MAILFLOW_PROFILE_OUT=/tmp/poll.prof adds one more pass with one new complaint per size, under
cProfile, written to /tmp/poll.prof.<size>.
"""

from __future__ import annotations

import argparse
import imaplib
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

# Run as a script, so the checkout's root is not on the path; it holds the test harness
# (tests/harness), which the benchmark shares with the end-to-end tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_fill import fill_history, next_working_day

from mailflow.config import Config
from mailflow.demo.smtp import LoopbackSMTP
from mailflow.service import Service
from tests.harness.servers import DovecotServer, dovecot_available
from tests.harness.village import INBOX, complaint, config_for

COMPLAINT_EVERY = 100  # one old message in a hundred is a complaint
FAST_FILL_ABOVE = 20_000  # larger mailboxes are written into the Maildir directly
IDLE_RATIO_TARGET = 1.5  # issue 10: an idle pass over 100,000 costs at most 1.5 x over 100


class _World:
    """Just what `config_for` reads."""

    def __init__(self, imap: DovecotServer, smtp: LoopbackSMTP, users: dict[str, str]) -> None:
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp_host, self.smtp_port = smtp.host, smtp.port
        self.users = users


def _fill(imap: DovecotServer, password: str, count: int) -> float:
    started = time.perf_counter()
    client = imaplib.IMAP4(imap.host, imap.port)
    client.login(INBOX, password)
    for n in range(count):
        if n % COMPLAINT_EVERY == 0:
            raw = complaint(sender=f"warga{n}@warga.example")
        else:
            raw = complaint(sender=f"warga{n}@warga.example", subject=f"Info kegiatan {n}")
        client.append("INBOX", None, None, raw)
    client.logout()
    return time.perf_counter() - started


def _fill_maildir(imap: DovecotServer, user: str, count: int) -> float:
    """Old mail written straight into the user's Maildir, as a delivery agent does: 100,000
    APPENDs would take minutes, and Dovecot indexes the files on its first look all the same."""
    started = time.perf_counter()
    maildir = imap.workdir / "mail" / user.lower() / "Maildir"
    paths = [maildir / sub for sub in ("cur", "new", "tmp")]
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)
    base = int(time.time()) - count
    # Two messages built once, varied by their sender: building each costs milliseconds.
    shapes = {True: complaint(sender="warga0@warga.example", message_id="<warga0@bench>"),
              False: complaint(sender="warga0@warga.example", subject="Info kegiatan",
                               message_id="<warga0@bench>")}
    for n in range(count):
        raw = shapes[n % COMPLAINT_EVERY == 0].replace(b"warga0@", f"warga{n}@".encode())
        (paths[0] / f"{base + n}.M{n}P1.bench:2,").write_bytes(raw)
    if os.geteuid() == 0:
        owner = imap.owner
        for path in (maildir, *paths):
            os.chown(path, owner.uid, owner.gid)
        for item in paths[0].iterdir():
            os.chown(item, owner.uid, owner.gid)
    return time.perf_counter() - started


def _timed(service: Service) -> float:
    started = time.perf_counter()
    service.poll_once()
    return time.perf_counter() - started


def _empty_database(url: str) -> None:
    """A PostgreSQL database given by --database-url made empty for the next size."""
    from sqlalchemy import text

    from mailflow.store.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _history_service(cfg: Config, tickets: int) -> Service:
    """A Service over a database holding `tickets` tickets of last year (bench/history_fill.py)
    with the daemon's jobs, on a clock set to a working day after the jobs' hours, so that
    every idle pass asks the clock what is due, as the daemon's do from morning to night."""
    from mailflow.core.workdays import calendar_for
    from mailflow.runners.parked_note import daily_jobs
    from mailflow.store.migrate import open_database

    calendar = calendar_for(cfg.calendar)
    local_today = datetime.now(cfg.zone).date()
    day = next_working_day(calendar.is_workday, local_today)
    moment = datetime.combine(day, dtime(11, 0), tzinfo=cfg.zone).astimezone(UTC)
    started = time.monotonic()

    def clock() -> datetime:
        return moment + timedelta(seconds=time.monotonic() - started)

    engine = open_database(cfg.database_url)
    fill_history(engine, cfg.tickets.prefix, cfg.mailbox_key, tickets, moment)
    engine.dispose()
    return Service(cfg, clock=clock, jobs=daily_jobs(cfg))


def run(size: int, repeats: int, first_start: bool = False, fast_fill: bool = False,
        database_url: str = "", figures: dict[str, dict[str, float]] | None = None,
        idle_repeats: int = 21, history: int | None = None) -> float:
    """One mailbox size; returns the idle pass's median in seconds. `history`: that many
    tickets of last year in the database, and the daemon's jobs due (`_history_service`)."""
    users = {INBOX: "bench"}
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        Path(tmp).chmod(0o755)  # Dovecot's unprivileged processes must reach the mail
        imap = DovecotServer(Path(tmp) / "dovecot", users)
        imap.start()
        smtp = LoopbackSMTP(deliver=lambda _user, _raw: None, knows=lambda _addr: True)
        smtp.start()
        try:
            fill = (_fill_maildir(imap, INBOX, size) if fast_fill
                    else _fill(imap, users[INBOX], size))
            # --first-start: no [intake] take_since, so the old mail is only recorded.
            extra: dict[str, dict[str, object]] = (
                {"intake": {"take_since": None}} if first_start else {})
            if database_url:
                _empty_database(database_url)
                extra["database"] = {"url": database_url}
            if history is not None:
                extra.update(reminders={"enabled": True}, digest={"enabled": True},
                             report={"enabled": True})
            cfg = config_for(_World(imap, smtp, users), Path(tmp), **extra)
            service = Service(cfg) if history is None else _history_service(cfg, history)
            os.sync()  # the fill's files written out now, not during the passes timed
            first = _timed(service)
            os.sync()  # ... and the first pass's
            idle = [_timed(service) for _ in range(idle_repeats)]
            one_new = []
            for _ in range(repeats):
                imap.deliver(INBOX, complaint())
                one_new.append(_timed(service))
            if os.environ.get("MAILFLOW_PROFILE_OUT"):  # one more such pass, profiled
                import cProfile

                imap.deliver(INBOX, complaint())
                cProfile.runctx("service.poll_once()", globals(), {"service": service},
                                f"{os.environ['MAILFLOW_PROFILE_OUT']}.{size}")
            service.engine.dispose()
        finally:
            smtp.stop()
            imap.stop()
    past = "" if history is None else f", {history:,} tickets of history, jobs due"
    print(f"mailbox {size:>6} old messages ({size // COMPLAINT_EVERY} complaints{past}): "
          f"append {fill:6.2f} s | first pass {first:6.2f} s ({size / first:6.0f} msg/s) | "
          f"idle pass median of {len(idle)} {statistics.median(idle) * 1000:6.1f} ms | "
          f"one new complaint median of {len(one_new)} {statistics.median(one_new) * 1000:6.1f} ms")
    if figures is not None:
        key = str(size) if history is None else f"history:{history}"
        figures[key] = {"append_s": fill, "first_pass_s": first,
                        "idle_median_s": statistics.median(idle),
                        "one_new_median_s": statistics.median(one_new)}
    return statistics.median(idle)


def _say_ratio(idle: dict[int, float], what: str) -> None:
    """The largest size's idle pass over the smallest's, against the target."""
    if len(idle) > 1:
        small, large = min(idle), max(idle)
        ratio = idle[large] / idle[small]
        print(f"{what.format(large=large, small=small)}: {ratio:.2f} x "
              f"(target at most {IDLE_RATIO_TARGET} x): "
              f"{'met' if ratio <= IDLE_RATIO_TARGET else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=7,
                        help="passes with one new complaint per size")
    # An idle pass is some 5 ms, so one reading moves by a third with the machine's other
    # work (1.0 to 1.5 x between runs of the same code with 7): more of them cost little.
    parser.add_argument("--idle-repeats", type=int, default=21,
                        help="idle passes per size (their median is the figure)")
    parser.add_argument("--fast-fill", action="store_true",
                        help="write the old mail into the Maildir instead of APPENDing it "
                             f"(always above {FAST_FILL_ABOVE:,} messages)")
    parser.add_argument("--first-start", action="store_true",
                        help="a real first start: the old mail is recorded, not taken")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL database (emptied before each size: DROP SCHEMA "
                             "public); default a fresh SQLite file per size")
    parser.add_argument("--history", type=int, nargs="+", default=[],
                        help="also time the idle pass over the first --sizes mailbox with "
                             "this many tickets of last year in the database and the daemon's "
                             "jobs due (e.g. 100 100000)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    if not dovecot_available():
        print("bench: Dovecot is not installed (run scripts/install-test-deps.sh as root)",
              file=sys.stderr)
        return 69
    figures: dict[str, dict[str, float]] = {}
    idle = {size: run(size, args.repeats, args.first_start,
                      args.fast_fill or size > FAST_FILL_ABOVE, args.database_url, figures,
                      args.idle_repeats)
            for size in args.sizes}
    _say_ratio(idle, "idle pass {large:,} / {small:,} old messages")
    past = {tickets: run(args.sizes[0], args.repeats, args.first_start, args.fast_fill,
                         args.database_url, figures, args.idle_repeats, history=tickets)
            for tickets in args.history}
    _say_ratio(past, "idle pass with the jobs due over {large:,} / {small:,} tickets of history")
    if args.json:  # for bench/issue10.py
        Path(args.json).write_text(json.dumps({"sizes": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
