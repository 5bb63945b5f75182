"""The staff's subcommands: `tickets` lists them, `show` prints one with its audit trail.

Reading goes through mailflow.store.queries and formatting through mailflow.views,
which the demo uses too. Both see only the tickets of the configuration's village
(store/village_reads.py, queries.py `ticket_by_number`): another village's ticket is
"no ticket", as a missing one.
Both commands read the reporter's row to know what to hide
(subjects, descriptions, file names, notes) and print none of it; the identity itself is
printed only for `show --with-identity`, and that view is first recorded as an event on
the ticket (who, when, how), committed before anything is printed, and logged. If it
cannot be recorded, nothing is shown. Exit statuses are sysexits(3), taken from `os`
(see mailflow.cli).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from enum import StrEnum

from mailflow import views
from mailflow.adapters.clock import utc_now
from mailflow.config import Config, load_config, resolve_path
from mailflow.core.commands import priority_from_word, status_from_word, words_for
from mailflow.core.privacy import identity_view
from mailflow.store.db import Engine, Session, transaction
from mailflow.store.migrate import open_database
from mailflow.store.models import Ticket
from mailflow.store.queries import (
    add_events,
    attachments_of,
    events_of,
    outbox_listing,
    reporter_of,
    ticket_by_number,
)
from mailflow.store.village_reads import count_in, listing
from mailflow.vocabulary import Priority, Status

# The audit line keeps the logger name it has always had ("mailflow"), so that searches
# of the journal for who viewed an identity keep finding it.
log = logging.getLogger("mailflow")


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add this module's subcommands through mailflow.cli's `add(name, help)`."""
    tickets = add("tickets", "list tickets, most urgent first (by priority, then due date), "
                  "without reporter identity; TERLAMBAT marks an open ticket past its due date")
    tickets.add_argument(
        "--status", type=_word(status_from_word, "status"), metavar="STATUS",
        help="only tickets in this status: " + "; ".join(
            ", ".join(words_for(s)) for s in Status) + " (the words staff write after #status)")
    tickets.add_argument(
        "--priority", type=_word(priority_from_word, "priority"), metavar="P",
        help="only tickets of this priority: " + "; ".join(
            ", ".join(words_for(p)) for p in Priority))
    tickets.add_argument("--assignee", metavar="ADDRESS",
                         help="only tickets assigned to this staff address (- for unassigned)")
    tickets.add_argument("--overdue", action="store_true",
                         help="only open tickets whose due date has passed (in the village's zone)")
    tickets.add_argument("--json", action="store_true", help="a JSON array for scripts")
    tickets.set_defaults(handler=cmd_tickets)
    show = add("show", "one ticket with its timeline")
    show.add_argument("id", metavar="ID", help="ticket number, e.g. ADU-2026-00042")
    show.add_argument("--with-identity", action="store_true",
                      help="also print the reporter's identity (recorded on the ticket and logged)")
    show.add_argument("--as", dest="as_staff", metavar="ADDRESS",
                      help="with --with-identity: the staff member (with identity rights) you view "
                           "it for, recorded with your OS user")
    show.set_defaults(handler=cmd_show)


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config), args.mailbox)


def _word(read: Callable[[str], StrEnum | None], what: str) -> Callable[[str], StrEnum]:
    """An argparse type: a word staff would write, or a usage error (exit 2) naming it."""
    def parse(word: str) -> StrEnum:
        value = read(word)
        if value is None:
            raise argparse.ArgumentTypeError(f"unknown {what} {word!r} (see --help)")
        return value
    return parse


def cmd_tickets(args: argparse.Namespace) -> int:
    cfg = _config(args)
    engine = open_database(cfg.database_url)
    today = utc_now().astimezone(cfg.zone).date()
    filtered = bool(args.status or args.priority or args.assignee or args.overdue)
    with Session(engine) as session:
        found = listing(session, cfg.scope, args.status, priority=args.priority,
                        assignee=args.assignee, due_before=today if args.overdue else None)
        rows = views.by_urgency([
            views.ticket_row(ticket, cfg.zone, views.redactor(cfg, reporter), today)
            for ticket, reporter in found])
        filtered = filtered and not rows and count_in(session, cfg.scope) > 0
    if args.json:
        json.dump([{k: v for k, v in row.items() if not k.endswith("_text")} for row in rows],
                  sys.stdout, ensure_ascii=False, indent=2)
        print()
        return os.EX_OK
    for line in views.ticket_table(rows, filtered=filtered):
        print(line)
    return os.EX_OK


def cmd_show(args: argparse.Namespace) -> int:
    cfg = _config(args)
    engine = open_database(cfg.database_url)
    if args.with_identity:
        refused = _record_identity_view(cfg, engine, args)
        if refused is not None:
            return refused
    with Session(engine) as session:
        ticket = ticket_by_number(session, args.id, cfg.scope)
        if ticket is None:
            print(f"mailflow: no ticket {args.id!r} (see `mailflow tickets`)", file=sys.stderr)
            return os.EX_NOINPUT
        reporter = reporter_of(session, ticket.id)
        identity = views.identity_lines(reporter) if args.with_identity else None
        known = views.known_addresses(cfg)
        mail = [views.outbox_row(item, ticket.number, cfg.zone, known)
                for item, _ in outbox_listing(session, scope=cfg.scope,
                                                      ticket_id=ticket.id)]
        lines = views.show_lines(ticket, cfg.zone, attachments=attachments_of(session, ticket.id),
                                 events=events_of(session, ticket.id), identity=identity,
                                 hide=views.redactor(cfg, reporter), mail=mail)
    for line in lines:
        print(line)
    return os.EX_OK


def _record_identity_view(cfg: Config, engine: Engine, args: argparse.Namespace) -> int | None:
    """Record the view on the ticket, committed, before any identity is read for printing.

    Returns an exit status when the view is refused or there is no such ticket, else None.
    """
    os_user = getpass.getuser()
    event = identity_view(cfg, os_user, args.as_staff, "mailflow show --with-identity")
    if isinstance(event, str):
        print(f"mailflow: identity not shown: {event}", file=sys.stderr)
        return os.EX_NOPERM
    with transaction(engine) as session:
        ticket: Ticket | None = ticket_by_number(session, args.id, cfg.scope)
        if ticket is None or ticket.id is None:
            print(f"mailflow: no ticket {args.id!r} (see `mailflow tickets`)", file=sys.stderr)
            return os.EX_NOINPUT
        add_events(session, ticket.id, [event], utc_now())
    log.warning("identity viewed ticket=%s by os_user=%s as=%s", ticket.number, os_user,
                args.as_staff or "-")
    return None
