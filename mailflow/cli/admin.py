"""The administrator's subcommands: check, run, poll and deadline.

These start or drive the service, or answer questions about its configuration and
calendar; the staff's views of tickets are in tickets.py. Exit statuses are
sysexits(3), taken from `os` (see mailflow.cli).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from mailflow.config import ENV_CONFIG, Config, load_config, resolve_path
from mailflow.core.workdays import WorkCalendar, calendar_for, format_tanggal


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's subcommands through mailflow.cli's `add(name, help)`."""
    run = add("run", "run the daemon: check the configuration (exit 78 if it is wrong), then poll "
              "the inbox and send the outbox until SIGTERM; SIGHUP reloads the configuration")
    run.set_defaults(handler=cmd_run)
    poll = add("poll", "one intake pass and one outbox pass")
    poll.add_argument("--once", action="store_true", required=True,
                      help="required: run a single pass and exit")
    poll.set_defaults(handler=cmd_poll)
    check = add("check", "try everything the service needs (configuration, secrets, storage, "
                "database schema, IMAP and SMTP logins), one line per check")
    check.add_argument("--offline", action="store_true",
                       help="leave out the IMAP and SMTP connections: what `mailflow run` checks "
                            "itself before it starts, and again on SIGHUP")
    check.set_defaults(handler=cmd_check)
    deadline = add("deadline", "due date for a complaint received at DATETIME")
    deadline.add_argument("when", metavar="DATETIME",
                          help="ISO 8601, e.g. 2026-03-17T10:00 (no offset: the village's zone)")
    deadline.set_defaults(handler=cmd_deadline)


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config))


def cmd_check(args: argparse.Namespace) -> int:
    from mailflow.cli.check import report, run_checks

    return report(run_checks(_config(args), offline=args.offline))


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon; the offline checks run inside it, before READY and at each SIGHUP, so that a
    bad configuration at start is this process's exit 78 (see mailflow/daemon.py)."""
    from mailflow.cli.check import checked_config
    from mailflow.daemon import Daemon

    path = resolve_path(args.config)
    Daemon(lambda: checked_config(path), str(path)).run()
    return os.EX_OK


def cmd_poll(args: argparse.Namespace) -> int:
    from mailflow.service import Service

    service = Service(_config(args))
    result = service.poll_once()
    service.engine.dispose()
    if result.login_error:
        return os.EX_CONFIG  # a refused login: the password or user must be fixed
    if result.storage_error:
        return os.EX_IOERR  # the disk or the database could not be written
    if result.imap_error or result.outbox.smtp_unavailable:
        return os.EX_UNAVAILABLE
    return os.EX_OK


def _zone_of(args: argparse.Namespace) -> tuple[ZoneInfo, WorkCalendar]:
    path = resolve_path(args.config)
    if args.config or os.environ.get(ENV_CONFIG) or path.exists():
        cfg = load_config(path)
        return cfg.zone, calendar_for(cfg.calendar)
    calendar = WorkCalendar()
    return calendar.zone, calendar


def cmd_deadline(args: argparse.Namespace) -> int:
    try:
        when = datetime.fromisoformat(args.when)
    except ValueError:
        print(f"mailflow: DATETIME {args.when!r} is not ISO 8601; write e.g. 2026-03-17T10:00 "
              "or 2026-03-17T10:00+07:00", file=sys.stderr)
        return os.EX_DATAERR
    zone, calendar = _zone_of(args)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    due = calendar.due_date(when)
    print(due.isoformat())
    print(format_tanggal(due))
    estimated = calendar.estimated_between(calendar.local_day(when), due)
    if estimated:
        days = ", ".join(d.isoformat() for d in estimated)
        print(f"warning: holiday dates in this period are estimates ({days}); "
              "the due date may move when the government fixes them")
    return os.EX_OK
