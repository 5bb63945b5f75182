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
from datetime import date, datetime

from mailflow.config import ENV_CONFIG, Config, load_config, load_configs, resolve_path
from mailflow.core.workdays import WorkCalendar, calendar_for, format_tanggal


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's subcommands through mailflow.cli's `add(name, help)`."""
    run = add("run", "run the daemon: check the configuration (exit 78 if it is wrong), then poll "
              "the inbox and send the outbox until SIGTERM; SIGHUP reloads the configuration")
    run.set_defaults(handler=cmd_run)
    poll = add("poll", "one intake pass and one outbox pass, then exit (for cron or a test; "
               "the service is `mailflow run`)")
    # `poll` alone already means one pass; --once stays because scripts and the docs use it.
    poll.add_argument("--once", action="store_true",
                      help="run a single pass and exit (the default; accepted for scripts)")
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
    return load_config(resolve_path(args.config), args.mailbox)


def cmd_check(args: argparse.Namespace) -> int:
    from mailflow.cli.check import check_all, report, run_checks

    if args.mailbox is None:
        return check_all(load_configs(resolve_path(args.config)), offline=args.offline)
    return report(run_checks(_config(args), offline=args.offline))


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon; the offline checks run inside it, before READY and at each SIGHUP, so that a
    bad configuration at start is this process's exit 78 (see mailflow/daemon.py)."""
    from mailflow.cli.check import checked_config, checked_configs
    from mailflow.daemon import Daemon

    path = resolve_path(args.config)
    if args.mailbox is None and len(load_configs(path)) > 1:
        from mailflow.fleet import Fleet

        # Several mailboxes and none named: one process serves them all (a regency).
        Fleet(lambda: checked_configs(path), str(path)).run()
        return os.EX_OK
    Daemon(lambda: checked_config(path, args.mailbox), str(path)).run()
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


def _calendar_of(args: argparse.Namespace) -> tuple[WorkCalendar, str | None]:
    """The village's calendar, and a note when the built-in one stands in for it.

    Without a configuration file the built-in calendar is the answer. A configuration that
    exists but this user may not read (the default /etc/mailflow/config.toml is 0640, and a
    clerk is not in its group) gets the built-in one too, with a note, unless --config named
    it: then the file was meant, and not reading it is a configuration error (78).
    """
    path = resolve_path(args.config)
    try:
        with path.open("rb"):
            found = "readable"
    except FileNotFoundError:
        found = "missing"
    except OSError:  # the file, or its directory (/etc/mailflow is 0750), is not for this user
        found = "unreadable"
    if found == "missing" and not (args.config or os.environ.get(ENV_CONFIG)):
        return WorkCalendar(), None
    if found == "unreadable" and not args.config:
        return WorkCalendar(), (f"note: {path} is not readable by this user; the built-in "
                                "calendar was used (Asia/Jakarta, 7 working days, national "
                                "holidays and cuti bersama, no village holidays)")
    return calendar_for(load_config(path, args.mailbox).calendar), None


def _moment(text: str) -> datetime | str:
    """The receipt time, or why `text` is not one."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    parts = text[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
        try:
            date(*map(int, parts))
        except ValueError:
            return f"DATETIME {text!r}: no such date"
    return (f"DATETIME {text!r} is not ISO 8601; write e.g. 2026-03-17T10:00 "
            "or 2026-03-17T10:00+07:00")


def cmd_deadline(args: argparse.Namespace) -> int:
    when = _moment(args.when)
    if isinstance(when, str):
        print(f"mailflow: {when}", file=sys.stderr)
        return os.EX_DATAERR
    calendar, note = _calendar_of(args)
    if note:
        print(note, file=sys.stderr)
    if when.tzinfo is None:
        when = when.replace(tzinfo=calendar.zone)
        print(f"note: no offset given: read as {when:%Y-%m-%d %H:%M} {_zone_name(when)} "
              f"({calendar.zone.key})", file=sys.stderr)
    due = calendar.due_date(when)
    print(due.isoformat())
    print(format_tanggal(due))
    for day, names in calendar.holidays_between(calendar.local_day(when), due):
        print(f"skipped {day.isoformat()} ({format_tanggal(day).split(',')[0]}): "
              f"{'; '.join(names)}")
    estimated = calendar.estimated_between(calendar.local_day(when), due)
    if estimated:
        days = ", ".join(d.isoformat() for d in estimated)
        print(f"warning: holiday dates in this period are estimates ({days}); "
              "the due date may move when the government fixes them")
    return os.EX_OK


def _zone_name(moment: datetime) -> str:
    return moment.strftime("%Z")
