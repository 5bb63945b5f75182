"""`mailflow kotak-saran`: record a suggestion-box opening from a file, and list the openings.

    mailflow kotak-saran --by sekdes@desa.id FILE   record an opening (FILE "-" or none: stdin)
        [--attach SCAN.jpg ...]                     scans of the papers, as in the mail
    mailflow kotak-saran --list [--json]            the openings: date, who, entries, tickets

The file has the mail's format (core/suggestion_box.py): one entry per block, blocks separated
by a line `---`, each may begin with its kind (saran, kritik, keluhan, pengaduan). `--by`
must be a staff member of the box's team ([suggestion_box] team; the verifiers when empty).
Each entry becomes a ticket; the numbers are printed, and the team member also gets the list
by mail (through the outbox, with the next pass of the daemon). No identity is printed: a
name written on a paper is seen only by the verifiers.

Exit statuses: 0 recorded or listed; 65 no entries, or --by is not in the team; 66 FILE or an
attachment cannot be read; 74 storage; 78 configuration.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mailflow.adapters.clock import utc_now
from mailflow.adapters.priority_words import configured_word_lists
from mailflow.compose.mime import composer_for
from mailflow.config import Config, load_config, resolve_path
from mailflow.core.box_opening import may_open, team_of
from mailflow.core.parse import Attachment as Part
from mailflow.core.suggestion_box import parse_entries
from mailflow.core.workdays import calendar_for, format_moment
from mailflow.errors import ConfigError
from mailflow.runners.box_opening import record_opening
from mailflow.runners.handlers import Handlers
from mailflow.store.box_queries import openings
from mailflow.store.db import Session, transaction
from mailflow.store.files import FileStore
from mailflow.store.migrate import open_database


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    box = add("kotak-saran", "record a suggestion-box (kotak saran) opening from a file, "
              "or list the openings with --list")
    box.epilog = ("Exit 0 when recorded or listed, 65 no entries or --by not in the team, "
                  "66 a file cannot be read, 74 storage, 78 configuration.")
    box.add_argument("file", nargs="?", metavar="FILE",
                     help="the entries, one per block separated by a line ---; - or none: stdin")
    box.add_argument("--by", metavar="ADDRESS", help="the staff member who opened the box")
    box.add_argument("--attach", action="append", default=[], metavar="FILE",
                     help="a scan or photo of the papers (repeatable)")
    box.add_argument("--list", action="store_true", help="list the openings")
    box.add_argument("--json", action="store_true", help="with --list: a JSON array")
    box.set_defaults(handler=cmd_suggestion_box)


def cmd_suggestion_box(args: argparse.Namespace) -> int:
    cfg = load_config(resolve_path(args.config), args.mailbox)
    if args.list:
        return _list(cfg, args.json)
    if not args.by:
        print("mailflow kotak-saran: give --by ADDRESS (who opened the box) or --list",
              file=sys.stderr)
        return 2
    member = cfg.staff_member(args.by)
    if member is None or not may_open(cfg, member):
        team = ", ".join(m.address for m in team_of(cfg)) or "-"
        print(f"mailflow kotak-saran: --by {args.by} is not in the suggestion-box team "
              f"([suggestion_box] team: {team})", file=sys.stderr)
        return os.EX_DATAERR
    try:
        text = (sys.stdin.read() if args.file in (None, "-")
                else Path(args.file).read_text(encoding="utf-8"))
        parts = [_part(Path(name)) for name in args.attach]
    except (OSError, UnicodeDecodeError) as exc:
        print(f"mailflow kotak-saran: cannot read {exc.filename if isinstance(exc, OSError) else args.file}: "
              f"{exc}", file=sys.stderr)
        return os.EX_NOINPUT
    if not parse_entries(text):
        print("mailflow kotak-saran: no entries in the file (one per block, blocks separated by "
              "a line ---)", file=sys.stderr)
        return os.EX_DATAERR
    return _record(cfg, member.address, text, parts)


def _part(path: Path) -> Part:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Part(path.name, kind, path.read_bytes(), False)


def _record(cfg: Config, by: str, text: str, parts: list[Part]) -> int:
    member = cfg.staff_member(by)
    if member is None:
        raise ConfigError(f"{by} is not in [[staff]]")
    engine = open_database(cfg.database_url)
    files = FileStore(cfg.storage_dir)
    composer = composer_for(cfg)
    handlers = Handlers(cfg, calendar_for(cfg.calendar), composer, files, utc_now,
                        lambda raw: (), configured_word_lists(cfg.priority.path))
    now = utc_now()
    key = "cli:kotak-saran:" + hashlib.sha256(f"{by}\n{now.isoformat()}\n{text}".encode()).hexdigest()
    with transaction(engine) as session:
        opened = record_opening(handlers, session, member, text, parts, now, key=key)
        made = [(t.number, t.kind.value if t.kind else "-") for t in opened.tickets]
    engine.dispose()
    print(f"Pembukaan kotak saran dicatat: {len(made)} entri.")
    for number, kind in made:
        print(f"{number}  {kind}")
    return os.EX_OK


def _list(cfg: Config, as_json: bool) -> int:
    engine = open_database(cfg.database_url)
    with Session(engine) as session:
        rows: list[dict[str, Any]] = [{"opened_at": format_moment(o.opened_at, cfg.calendar.timezone),
                 "date": o.opened_on.isoformat(), "by": o.opened_by, "entries": o.entries,
                 "tickets": [n for n in o.ticket_numbers.split(",") if n],
                 "by_mail": o.message_id is not None} for o in openings(session, cfg.scope)]
    engine.dispose()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return os.EX_OK
    if not rows:
        print("Belum ada pembukaan kotak saran yang dicatat.")
    for row in rows:
        tickets = row["tickets"]
        span = f"{tickets[0]} .. {tickets[-1]}" if len(tickets) > 1 else "".join(tickets)
        print(f"{row['date']}  {row['by']}  {row['entries']} entri  {span}")
    return os.EX_OK
