"""`mailflow backlog`: the dry run of taking old mail (README "First start and old mail").

On its first start mailflow takes nothing that was already in the mailbox. This lists those
old messages with what `[intake] take_since = DATE` would do with each (a new ticket, a reply,
skipped and why) and how many would become tickets, without taking, recording, mailing or
marking anything. It prints no sender and no subject: only UIDs, dates and outcomes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from mailflow.adapters.imap import ImapSource
from mailflow.config import load_config, resolve_path
from mailflow.errors import LoginRefused
from mailflow.runners.backlog import as_table, preview_backlog
from mailflow.store.db import Engine
from mailflow.store.migrate import open_database


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's subcommand through mailflow.cli's `add(name, help)`."""
    backlog = add("backlog", "dry run: list the mail that was in the mailbox before the first "
                             "start and what [intake] take_since would take (changes nothing)")
    backlog.add_argument("--since", metavar="DATE",
                         help="the day to take old mail from, e.g. 2026-11-01 (default: "
                              "[intake] take_since, if set)")
    backlog.set_defaults(handler=cmd_backlog)


def cmd_backlog(args: argparse.Namespace) -> int:
    cfg = load_config(resolve_path(args.config), args.mailbox)
    since: date | None = cfg.intake.take_since
    if args.since:
        try:
            since = date.fromisoformat(args.since.strip().strip('"'))
        except ValueError:
            print(f"mailflow: --since {args.since!r} is not a date; write e.g. 2026-11-01",
                  file=sys.stderr)
            return os.EX_DATAERR
    engine = _existing_database(cfg.database_url)
    try:
        report = preview_backlog(cfg, ImapSource(cfg.imap), engine, since, datetime.now(UTC))
    except LoginRefused as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return os.EX_CONFIG  # as `poll`: the user name or password must be fixed
    finally:
        if engine is not None:
            engine.dispose()
    for line in as_table(report, cfg.calendar.timezone):
        print(line)
    if report.candidates and since is not None and since != cfg.intake.take_since:
        print(f"to take them: set [intake] take_since = {since.isoformat()} in the configuration "
              "and restart mailflow (or run `mailflow poll --once`)")
    return os.EX_OK


def _existing_database(url: str) -> Engine | None:
    """The database if there is one; a dry run never creates it (None: nothing taken yet)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not Path(url[len(prefix):]).exists():
        return None
    return open_database(url)
