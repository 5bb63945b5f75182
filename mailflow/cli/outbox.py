"""`mailflow outbox`: the mail waiting to go out or parked, and sending parked mail again.

    mailflow outbox                 pending and parked mail, oldest first, one line each
    mailflow outbox --parked        parked mail only
    mailflow outbox --json          the same rows for scripts
    mailflow outbox --retry [ID..]  put parked mail (all, or the IDs given) back in the queue
    mailflow retry-parked           the older name of `outbox --retry` (all parked mail)

A resident's address is identity: mail to a reporter names the recipient "pelapor", mail to
anyone else outside the office "(alamat dirahasiakan)", and addresses quoted in an SMTP error
are replaced the same way; staff and administrator addresses are printed as they are.

Exit statuses: 0 listed (also when nothing waits) or put back; 65 an ID given to --retry is
not a parked message (then nothing is put back); 74 the database could not be read or
written; 78 bad configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from mailflow import views
from mailflow.config import Config, load_config, resolve_path
from mailflow.store.db import Session
from mailflow.store.migrate import open_database
from mailflow.store.outbox_queries import parked_outbox
from mailflow.store.queries import IN_LIMIT, outbox_listing
from mailflow.vocabulary import OutboxState

#: At most this many rows are listed: a backlog larger than this is one problem, not a list.
SHOWN = 1000


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `outbox` and its older alias `retry-parked` through mailflow.cli's `add`."""
    outbox = add("outbox", "mail waiting to be sent or parked (refused or failed too often), "
                 "and sending parked mail again with --retry")
    outbox.epilog = ("Exit 0 when listed or put back, 65 when an ID given to --retry is not a "
                     "parked message (nothing is put back then), 74 storage, 78 configuration.")
    outbox.add_argument("--parked", action="store_true", help="list parked mail only")
    outbox.add_argument("--json", action="store_true", help="a JSON array for scripts")
    outbox.add_argument("--retry", nargs="*", type=int, metavar="ID",
                        help="put parked mail back in the queue once the cause is fixed: the IDs "
                             "given, or all parked mail; the next outbox pass sends it")
    outbox.set_defaults(handler=cmd_outbox)
    retry = add("retry-parked", "put parked outbox messages back in the queue, once the "
                "cause is fixed (the same as `mailflow outbox --retry`)")
    retry.set_defaults(handler=cmd_retry_parked, retry=[])


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config), args.mailbox)


def cmd_outbox(args: argparse.Namespace) -> int:
    if args.retry is not None:
        return cmd_retry_parked(args)
    cfg = _config(args)
    states = [OutboxState.PARKED] if args.parked else [OutboxState.PENDING, OutboxState.PARKED]
    engine = open_database(cfg.database_url)
    known = views.known_addresses(cfg)
    try:
        with Session(engine) as session:
            rows = [views.outbox_row(item, number, cfg.zone, known)
                    for item, number in outbox_listing(session, scope=cfg.scope, states=states,
                                                         limit=SHOWN)]
    finally:
        engine.dispose()
    if args.json:
        json.dump([{k: v for k, v in row.items() if not k.endswith(("_text", "_short"))}
                   for row in rows], sys.stdout, ensure_ascii=False, indent=2)
        print()
        return os.EX_OK
    for line in views.outbox_table(rows):
        print(line)
    if len(rows) == SHOWN:
        print(f"(only the oldest {SHOWN} are listed)", file=sys.stderr)
    return os.EX_OK


def cmd_retry_parked(args: argparse.Namespace) -> int:
    """Requeue parked mail: the administrator's answer once the cause has been fixed.

    Parked messages are never retried on their own (the server refused them for good,
    or they failed too often), so without this they would wait in the database forever.
    """
    from mailflow.runners.outbox import retry_parked

    ids: Sequence[int] | None = args.retry or None
    if ids is not None and len(ids) > IN_LIMIT:
        print(f"mailflow: at most {IN_LIMIT} IDs at once; give none to put back all parked mail",
              file=sys.stderr)
        return 2  # a usage error, as argparse says it
    cfg = _config(args)
    engine = open_database(cfg.database_url)
    try:
        if ids is not None:
            with Session(engine) as session:
                found = {item.id for item in parked_outbox(session, ids, cfg.scope)}
            wrong = sorted(set(ids) - found)
            if wrong:
                print(f"mailflow: not parked (see `mailflow outbox`): "
                      f"{', '.join(map(str, wrong))}; nothing was put back", file=sys.stderr)
                return os.EX_DATAERR
        count = retry_parked(engine, datetime.now(UTC), cfg.scope, ids)
    finally:
        engine.dispose()
    print(f"{count} parked message(s) put back in the queue; the next outbox pass sends them")
    return os.EX_OK
