"""The `mailflow` command: the daemon, one-off passes, and views for staff and administrators.

Exit statuses follow sysexits(3) so scripts and systemd can tell failures apart:
0 ok, 2 bad arguments, 65 bad input data, 66 no such ticket, 69 a mail server was
unavailable, 70 internal error, 78 bad configuration.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from mailflow.adapters.tls import tls_context
from mailflow.cli import db as db_cli
from mailflow.config import (
    DEFAULT_CONFIG_PATH,
    ENV_CONFIG,
    Config,
    load_config,
    resolve_path,
)
from mailflow.core.workdays import WorkCalendar, calendar_for, format_tanggal
from mailflow.errors import ConfigError, MailflowError
from mailflow.store.db import make_engine
from mailflow.store.models import Attachment, Ticket, TicketEvent
from mailflow.store.queries import reporter_of, ticket_by_number
from mailflow.vocabulary import Status

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT = 0, 2, 65, 66
EX_UNAVAILABLE, EX_SOFTWARE, EX_CONFIG = 69, 70, 78

log = logging.getLogger("mailflow")


def setup_logging(verbose: bool) -> None:
    # Under systemd, journald stamps each line itself; elsewhere a time helps.
    stamp = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format=stamp + "%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("asyncio", "pymap", "mail.log", "aiosmtpd"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailflow",
        description="Complaint service for a village mailbox (Pengaduan Masyarakat).",
    )
    parser.add_argument("--config", metavar="FILE",
                        help=f"configuration file (default: ${ENV_CONFIG}, else {DEFAULT_CONFIG_PATH})")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the daemon: poll the inbox and send the outbox until SIGTERM")
    poll = sub.add_parser("poll", help="one intake pass and one outbox pass")
    poll.add_argument("--once", action="store_true", required=True,
                      help="required: run a single pass and exit")
    sub.add_parser("check", help="validate the configuration and exit")

    tickets = sub.add_parser("tickets", help="list tickets (no reporter identity)")
    tickets.add_argument("--status", choices=[s.value for s in Status])
    tickets.add_argument("--json", action="store_true", help="a JSON array for scripts")

    show = sub.add_parser("show", help="one ticket with its timeline")
    show.add_argument("id", metavar="ID", help="ticket number, e.g. ADU-2026-00042")
    show.add_argument("--with-identity", action="store_true",
                      help="also print the reporter's identity (this access is logged)")

    deadline = sub.add_parser("deadline", help="due date for a complaint received at DATETIME")
    deadline.add_argument("when", metavar="DATETIME",
                          help="ISO 8601, e.g. 2026-03-17T10:00 (no offset: the village's zone)")

    demo = sub.add_parser("demo", help="run mailflow against embedded mail servers on loopback")
    demo.add_argument("--keep", metavar="DIR", help="keep the demo's state in DIR")
    db_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    handlers = {
        "run": cmd_run, "poll": cmd_poll, "check": cmd_check, "tickets": cmd_tickets,
        "show": cmd_show, "deadline": cmd_deadline, "demo": cmd_demo, "db": db_cli.cmd_db,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"mailflow: configuration error:\n{exc}", file=sys.stderr)
        return EX_CONFIG
    except MailflowError as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return EX_SOFTWARE


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_path(args.config))


def cmd_check(args: argparse.Namespace) -> int:
    cfg = _config(args)
    cfg.imap.secret()
    cfg.smtp.secret()
    if "signed_reply" in cfg.commands.accept:
        cfg.commands.secret_bytes()
    for key, section in (("[imap] tls_ca_file", cfg.imap), ("[smtp] tls_ca_file", cfg.smtp)):
        if section.security != "plain":
            tls_context(section.tls_ca_file, key)
    print(f"configuration OK: village {cfg.village.name!r}, inbox "
          f"{cfg.imap.host}:{cfg.imap.effective_port}/{cfg.imap.folder}, "
          f"database {cfg.database_url.split('://', 1)[0]}, {len(cfg.staff)} staff, "
          f"commands proven by {' / '.join(cfg.commands.accept)}")
    return EX_OK


def cmd_run(args: argparse.Namespace) -> int:
    from mailflow.service import Service

    Service(_config(args)).run()
    return EX_OK


def cmd_poll(args: argparse.Namespace) -> int:
    from mailflow.service import Service

    service = Service(_config(args))
    result = service.poll_once()
    service.engine.dispose()
    if result.imap_error or result.outbox.smtp_unavailable:
        return EX_UNAVAILABLE
    return EX_OK


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
        return EX_DATAERR
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
    return EX_OK


def _ticket_row(ticket: Ticket, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": ticket.number,
        "status": ticket.status,
        "channel": ticket.channel,
        "received_at": ticket.received_at.astimezone(zone).isoformat(),
        "due_date": ticket.due_date.isoformat(),
        "subject": ticket.subject,
        "missing": ticket.missing_items,
    }


def cmd_tickets(args: argparse.Namespace) -> int:
    from mailflow.store.migrate import prepare

    cfg = _config(args)
    engine = make_engine(cfg.database_url)
    prepare(engine)
    with Session(engine) as session:
        query = select(Ticket).order_by(col(Ticket.id))
        if args.status:
            query = query.where(Ticket.status == args.status)
        rows = [_ticket_row(t, cfg.zone) for t in session.exec(query).all()]
    if args.json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return EX_OK
    if not rows:
        print("Belum ada tiket.")
    for row in rows:
        print(f"{row['id']}  {row['status']:<13} {row['channel']:<8} {row['received_at'][:16]}  "
              f"tenggat {row['due_date']}  {row['subject'][:60]}")
    return EX_OK


def cmd_show(args: argparse.Namespace) -> int:
    from mailflow.store.migrate import prepare

    cfg = _config(args)
    engine = make_engine(cfg.database_url)
    prepare(engine)
    with Session(engine) as session:
        ticket = ticket_by_number(session, args.id)
        if ticket is None:
            print(f"mailflow: no ticket {args.id!r} (see `mailflow tickets`)", file=sys.stderr)
            return EX_NOINPUT
        zone = cfg.zone
        print(f"Tiket      : {ticket.number}")
        print(f"Status     : {ticket.status} ({ticket.status.label})")
        print(f"Kanal      : {ticket.channel}")
        print(f"Diterima   : {ticket.received_at.astimezone(zone):%Y-%m-%d %H:%M %Z}")
        print(f"Tenggat    : {ticket.due_date.isoformat()} ({format_tanggal(ticket.due_date)})")
        print(f"Subjek     : {ticket.subject}")
        print(f"Prioritas  : {ticket.priority}")
        print(f"Petugas    : {ticket.assignee or '-'}")
        if ticket.missing:
            print(f"Kurang     : {ticket.missing}")
        if args.with_identity:
            _print_identity(session, ticket)
        else:
            print("Pelapor    : Identitas pelapor dirahasiakan (gunakan --with-identity)")
        print("\nUraian:\n" + ticket.description + "\n")
        attachments = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        for item in attachments:
            print(f"Lampiran   : {item.filename} ({item.content_type}, {item.size} bytes)")
        print("Riwayat:")
        events = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                              .order_by(col(TicketEvent.at), col(TicketEvent.id))).all()
        for ev in events:
            print(_event_line(ev, zone))
    return EX_OK


def _event_line(ev: TicketEvent, zone: ZoneInfo) -> str:
    """One line of the audit trail: when, what, who, proven how, from which message."""
    change = f" {ev.from_status or ''}->{ev.to_status}" if ev.to_status else ""
    proof = f" [{ev.auth}]" if ev.auth else ""
    source = f" pesan {ev.message_id}" if ev.message_id and ev.actor not in ("reporter", "other") else ""
    note = " ".join(ev.note.split())
    # A reporter's reply may repeat their identity; it is shown only with --with-identity.
    note = f"\n      {note[:200]}" if note and ev.kind != "reply" else ""
    when = f"{ev.at.astimezone(zone):%Y-%m-%d %H:%M}"
    return f"  {when}  {ev.kind}{change}  oleh {ev.actor}{proof}{source}{note}"


def _print_identity(session: Session, ticket: Ticket) -> None:
    reporter = reporter_of(session, ticket.id)
    log.warning("identity viewed ticket=%s by os_user=%s", ticket.number, getpass.getuser())
    if reporter is None:
        print("Pelapor    : (tidak ada data)")
        return
    nik_note = f" ({reporter.nik_problem})" if reporter.nik_problem else ""
    print(f"Nama       : {reporter.name or '-'}")
    print(f"NIK        : {reporter.nik or '-'}{nik_note}")
    print(f"Telepon    : {reporter.phone or '-'}")
    print(f"Alamat     : {reporter.address or '-'}")
    print(f"Email      : {reporter.email or '-'}")


def cmd_demo(args: argparse.Namespace) -> int:
    from mailflow.demo.scenario import run_demo

    return run_demo(args.keep)


if __name__ == "__main__":
    sys.exit(main())
