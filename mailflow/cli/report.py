"""`mailflow report` (a month's figures: text, --json, --html FILE) and `mailflow export --csv`
(one row per ticket for spreadsheets). Neither prints identity: only ticket numbers,
counts, words and dates (the export's optional subject is redacted). Exit statuses are
sysexits(3), taken from `os` (see mailflow.cli): a month that is not YYYY-MM is 65, a file
that cannot be written 74.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from mailflow.adapters.clock import utc_now
from mailflow.compose.render import Renderer
from mailflow.config import Config, load_config, resolve_path
from mailflow.core.report import Month, parse_month, previous_month
from mailflow.core.report_export import COLUMNS, SUBJECT_COLUMN
from mailflow.core.report_text import html_context, report_json, report_lines
from mailflow.runners.report import read_export, read_report
from mailflow.store.migrate import open_database


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `report` and `export` through mailflow.cli's `add(name, help)`."""
    report = add("report", "a month's figures: complaints received, first response and "
                 "resolution in working days, the share answered within the promise, overdue "
                 "tickets, 12-month trends (no reporter identity)")
    report.add_argument("--month", metavar="YYYY-MM",
                        help="the month to report (default: the previous month)")
    report.add_argument("--json", action="store_true", help="a JSON object for scripts")
    report.add_argument("--html", metavar="FILE",
                        help="also write the report as an HTML page with its charts to FILE")
    report.set_defaults(handler=cmd_report)
    export = add("export", "one row per ticket (number, channel, priority, status, dates, "
                 "working days, within the promise) for spreadsheets, without identity")
    export.add_argument("--csv", metavar="FILE", required=True,
                        help="write CSV to FILE (- for standard output)")
    export.add_argument("--month", metavar="YYYY-MM",
                        help="only tickets received in this month (default: all)")
    export.add_argument("--with-subject", action="store_true",
                        help="add each ticket's subject, with the reporter's identity hidden")
    export.set_defaults(handler=cmd_export)


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config), args.mailbox)


def _month(text: str | None) -> Month | None:
    """The month asked for; None (and a message on stderr) when it is not YYYY-MM."""
    try:
        return parse_month(text) if text else None
    except ValueError as exc:
        print(f"mailflow: --month: {exc}", file=sys.stderr)
        return None


def cmd_report(args: argparse.Namespace) -> int:
    cfg = _config(args)
    now = utc_now()
    month = _month(args.month) if args.month else previous_month(now.astimezone(cfg.zone).date())
    if month is None:
        return os.EX_DATAERR
    report = read_report(cfg, open_database(cfg.database_url), month, now)
    if args.html:
        renderer = Renderer(own=cfg.templates.directory)
        _, html = renderer.render("report", html_context(report, cfg.calendar.timezone,
                                                   cfg.village.name))
        try:
            Path(args.html).write_text(html, encoding="utf-8")
        except OSError as exc:
            print(f"mailflow: --html {args.html}: cannot write: {exc.strerror}", file=sys.stderr)
            return os.EX_IOERR
    if args.json:
        json.dump(report_json(report), sys.stdout, ensure_ascii=False, indent=2)
        print()
    elif not args.html:
        for line in report_lines(report, cfg.calendar.timezone):
            print(line)
    else:
        print(f"Laporan {report.month.label} ditulis ke {args.html}")
    return os.EX_OK


def cmd_export(args: argparse.Namespace) -> int:
    cfg = _config(args)
    month = _month(args.month)
    if args.month and month is None:
        return os.EX_DATAERR
    rows = read_export(cfg, open_database(cfg.database_url), month, utc_now(), args.with_subject)
    columns = [*COLUMNS, *([SUBJECT_COLUMN] if args.with_subject else [])]
    if args.csv == "-":
        _write_csv(sys.stdout, columns, rows)
        return os.EX_OK
    try:
        with open(args.csv, "w", encoding="utf-8", newline="") as out:
            _write_csv(out, columns, rows)
    except OSError as exc:
        print(f"mailflow: --csv {args.csv}: cannot write: {exc.strerror}", file=sys.stderr)
        return os.EX_IOERR
    print(f"{len(rows)} tiket ditulis ke {args.csv}", file=sys.stderr)
    return os.EX_OK


def _write_csv(out: TextIO, columns: list[str], rows: list[dict[str, str]]) -> None:
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
