"""`mailflow trace`: what happened to one email, for a clerk who cannot read the logs.

    mailflow trace --from siti@warga.example          every email from this sender
    mailflow trace --date 2026-11-27                  every email received that day (WIB)
    mailflow trace --message-id '<abc@mail.example>'  one email
    mailflow trace --from ADDR --date DAY --json      filters combine; JSON for scripts

For each email intake looked at: when the server received it, what intake decided (new
ticket, reply to a ticket, skipped, ignored, duplicate, quarantined) with the ticket's number,
and why, in plain words. The sender's address is never stored (only a keyed digest of it,
core/intake_trace.py), so `--from` compares digests and nothing prints an address, a name or
a subject. Emails taken before this version (schema revision 0006) have no Message-ID or
sender on record: only `--date` finds them, by when they were recorded.

Exit statuses: 0 something was found; 66 nothing matched; 2 no filter given; 65 a date that
is not YYYY-MM-DD or does not exist; 74 storage; 78 configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.config import Config, load_config, resolve_path
from mailflow.core.intake_trace import (
    SKIPPED,
    decision_words,
    normal_message_id,
    reason_words,
    sender_digest,
)
from mailflow.store.db import Session
from mailflow.store.files import FileStore
from mailflow.store.migrate import open_database
from mailflow.store.models import IntakeRecord, SkippedMessage
from mailflow.store.trace import traced_messages

NOTHING = "Tidak ada email yang cocok."
_OLD_RECORDS = ("Catatan: email yang diterima sebelum versi ini (revisi skema 0006) tidak "
                "menyimpan pengirim dan Message-ID; cari dengan --date saja.")
_LINE = "{:<20}  {:>6}  {:<26}  {:<14}  {}"


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `trace` through mailflow.cli's `add(name, help)`."""
    trace = add("trace", "what happened to an email: taken as a ticket, a reply, skipped, "
                "ignored, a duplicate or quarantined, and why; found by sender, day or "
                "Message-ID, without reading logs")
    trace.epilog = ("Filters combine. Nothing prints the sender's address, name or subject. "
                    "Exit 0 when found, 66 when nothing matched, 2 without a filter, 65 for a "
                    "bad date.")
    trace.add_argument("--from", dest="sender", metavar="ADDRESS",
                       help="the sender's email address (compared as a keyed digest)")
    trace.add_argument("--date", metavar="YYYY-MM-DD",
                       help="the day the mail server received it, in the village's zone")
    trace.add_argument("--message-id", metavar="ID", help="its Message-ID header, with or "
                       "without <>")
    trace.add_argument("--json", action="store_true", help="a JSON array for scripts")
    trace.set_defaults(handler=cmd_trace)


def _day(text: str, zone: ZoneInfo) -> tuple[datetime, datetime] | str:
    """The day's start and end in `zone`, or why `text` is not a day."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
            return f"--date {text!r}: no such date"
        return f"--date {text!r} is not YYYY-MM-DD, e.g. 2026-11-27"
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def cmd_trace(args: argparse.Namespace) -> int:
    if not (args.sender or args.date or args.message_id):
        print("mailflow: give --from, --date or --message-id (see mailflow trace --help)",
              file=sys.stderr)
        return 2  # a usage error, as argparse says it
    cfg = _config(args)
    since = until = None
    if args.date:
        day = _day(args.date, cfg.zone)
        if isinstance(day, str):
            print(f"mailflow: {day}", file=sys.stderr)
            return os.EX_DATAERR
        since, until = day
    digest = None
    if args.sender:
        key = FileStore(cfg.storage_dir).sender_key(create=False)
        # Without a key no record has a digest yet: a digest no record has finds nothing.
        digest = sender_digest(args.sender, key) if key else "-"
    engine = open_database(cfg.database_url)
    try:
        with Session(engine) as session:
            records, skipped = traced_messages(
                session, cfg.mailbox_key, message_id=normal_message_id(args.message_id) if args.message_id
                else None, sender_digest=digest, since=since, until=until)
            rows = trace_rows(records, skipped, cfg.zone)
    finally:
        engine.dispose()
    if args.json:
        json.dump([{k: v for k, v in row.items() if k != "received_at_text"} for row in rows],
                  sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for line in trace_table(rows, searched_by_sender_or_id=bool(digest or args.message_id)):
            print(line)
    return os.EX_OK if rows else os.EX_NOINPUT


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config), args.mailbox)


def trace_rows(records: Sequence[tuple[IntakeRecord, str | None]],
               skipped: Sequence[SkippedMessage], zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per email, by arrival: no address, no name, no subject, no raw reason."""
    rows = [_row(record.received_at or record.created_at, record.uid, str(record.decision),
                 number, record.reason, zone) for record, number in records]
    rows += [_row(item.received_at or item.created_at, item.uid, SKIPPED, None, item.reason, zone)
             for item in skipped]
    return sorted(rows, key=lambda row: (row["received_at"], row["uid"]))


def _row(at: datetime, uid: int, decision: str, number: str | None, reason: str,
         zone: ZoneInfo) -> dict[str, Any]:
    local = at.astimezone(zone)
    return {"received_at": local.isoformat(), "received_at_text": f"{local:%Y-%m-%d %H:%M %Z}",
            "uid": uid, "decision": decision, "decision_label": decision_words(decision),
            "ticket": number, "reason": reason_words(decision, reason)}


def trace_table(rows: Sequence[Mapping[str, Any]], *, searched_by_sender_or_id: bool) -> list[str]:
    """A header and a line per email, or a sentence (and why old emails may be missing)."""
    if not rows:
        return [NOTHING, _OLD_RECORDS] if searched_by_sender_or_id else [NOTHING]
    lines = [_LINE.format("DITERIMA", "UID", "KEPUTUSAN", "TIKET", "ALASAN")]
    lines += [_LINE.format(row["received_at_text"], row["uid"], row["decision_label"],
                           row["ticket"] or "-", row["reason"]).rstrip() for row in rows]
    return lines
