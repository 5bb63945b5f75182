"""The dry run of taking old mail: what `[intake] take_since` would take, changing nothing.

It reads the mailbox (headers only, BODY.PEEK: no flag changes) and the database (no
transaction: no row written), and judges each message that was in the mailbox before the
first start the way intake would from its header block. Nothing it returns names a person:
no sender, no subject, only the UID, the date of receipt and the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from mailflow.adapters.imap import FetchedHeader, ImapSession, ImapSource
from mailflow.config import Config
from mailflow.core.first_start import (
    Boundary,
    before_start,
    chosen,
    day_start,
    predates_ticket,
    promise,
)
from mailflow.core.intake_rules import Kind, classify, message_key
from mailflow.core.parse import ParsedMessage, parse_head
from mailflow.core.workdays import calendar_for
from mailflow.store import queries
from mailflow.store.db import Engine, Session
from mailflow.store.models import MailboxState
from mailflow.vocabulary import IntakeOutcome


@dataclass(frozen=True)
class BacklogLine:
    uid: int
    received: datetime
    subject_match: bool
    outcome: str  # "ticket", "ticket (due date counted from today)", "skipped: ...", ...
    candidate: bool = False  # would become a new ticket


@dataclass
class BacklogReport:
    mailbox: str
    since: date | None
    boundary: str  # how the first start divides this mailbox, in words
    lines: list[BacklogLine] = field(default_factory=list)

    @property
    def candidates(self) -> int:
        return sum(1 for line in self.lines if line.candidate)


def preview_backlog(cfg: Config, source: ImapSource, engine: Engine | None, since: date | None,
                    now: datetime) -> BacklogReport:
    """Every message before the first start (or, for a mailbox never seen, every message now
    in it), with what intake would do with it if `[intake] take_since` were `since`."""
    with source.session() as imap:
        state = _state(engine, imap.mailbox_key)
        boundary, words = _boundary(engine, imap, state, now)
        boundary = Boundary(boundary.first_uid, boundary.started, day_start(since, cfg.zone))
        report = BacklogReport(imap.mailbox_key, since, words)
        if boundary.first_uid is None and boundary.started is None:
            return report
        uids = imap.new_uids(0)
        if boundary.first_uid is not None:
            uids = [u for u in uids if u < boundary.first_uid]
        chunk = cfg.imap.fetch_chunk
        for start in range(0, len(uids), chunk):
            for header in imap.fetch_headers(uids[start:start + chunk]):
                if before_start(boundary, header.uid, header.internaldate):
                    report.lines.append(_judge(cfg, engine, imap, boundary, header, now))
        return report


def _state(engine: Engine | None, mailbox: str) -> MailboxState | None:
    if engine is None:
        return None
    with Session(engine) as session:
        return queries.mailbox_state(session, mailbox)


def _boundary(engine: Engine | None, imap: ImapSession, state: MailboxState | None,
              now: datetime) -> tuple[Boundary, str]:
    """The boundary as intake has it, or as its first start would record it now."""
    if state is None:
        others, earliest = (False, None)
        if engine is not None:
            with Session(engine) as session:
                others, earliest = queries.other_mailboxes_started(session, imap.mailbox_key)
        if others:
            started = earliest or now
            return Boundary(None, started), f"new mailbox key: received before {started:%Y-%m-%d %H:%M %Z}"
        return (Boundary(imap.uidnext, now),
                "never seen: everything in it now would be old mail at the first start")
    if state.first_uid is None and state.first_seen_at is None:
        return Boundary(), "first seen before boundaries were recorded: all of it is taken"
    if state.uidvalidity != imap.uidvalidity or state.first_uid is None:
        started = state.first_seen_at or now
        return Boundary(None, started), f"received before {started:%Y-%m-%d %H:%M %Z}"
    return Boundary(state.first_uid, state.first_seen_at), f"uid below {state.first_uid}"


def _judge(cfg: Config, engine: Engine | None, imap: ImapSession, boundary: Boundary,
           header: FetchedHeader, now: datetime) -> BacklogLine:
    try:
        msg = parse_head(header.header)
    except Exception:  # noqa: BLE001 - intake would quarantine it; the preview says so
        return BacklogLine(header.uid, header.internaldate, False,
                           "quarantined: its header block does not parse")
    own = {cfg.smtp.from_address.lower(), cfg.imap.username.lower()}
    decision = classify(msg, cfg.intake.subject_phrases, cfg.tickets.prefix, own)
    match = decision.kind is not Kind.SKIP
    candidate = False
    done = _recorded(engine, imap, header.uid)
    if done is not None:
        outcome = f"already recorded: {done}"
    elif not chosen(boundary, header.internaldate):
        outcome = "skipped: " + (f"received before {boundary.take_since:%Y-%m-%d}"
                                 if boundary.take_since else
                                 "in the mailbox before mailflow's first start")
    elif decision.kind is Kind.SKIP:
        outcome = f"skipped: {decision.reason}"
    elif decision.kind is Kind.IGNORE:
        outcome = f"ignored: {decision.reason}"
    else:
        outcome, candidate = _taken(cfg, engine, msg, decision.ticket_number, header, now)
    return BacklogLine(header.uid, header.internaldate, match, outcome, candidate)


def _taken(cfg: Config, engine: Engine | None, msg: ParsedMessage, number: str | None,
           header: FetchedHeader, now: datetime) -> tuple[str, bool]:
    """A new complaint or a reply, as intake would route it: (outcome, new ticket?)."""
    if engine is not None:
        with Session(engine) as session:
            key = message_key(msg)
            existing = queries.ticket_by_key(session, key, cfg.scope) if msg.message_id else None
            if existing is not None:
                return f"duplicate of {existing.number}", False
            target = queries.ticket_by_number(session, number, cfg.scope) if number else None
            target = target or queries.ticket_by_reference(
                session, [*msg.in_reply_to, *msg.references], cfg.scope)
        if target is not None:
            who = "staff command" if cfg.staff_member(msg.from_addr) else "reply"
            if predates_ticket(header.internaldate, target.created_at):
                return f"refused: {who} received before {target.number} was created", False
            return f"{who} for {target.number}", False
    late = promise(header.internaldate, now, calendar_for(cfg.calendar)).recorded is not None
    return ("ticket (due date counted from the day it is taken)" if late else "ticket"), True


def _recorded(engine: Engine | None, imap: ImapSession, uid: int) -> str | None:
    """The decision already recorded for this message, unless it is only "before start"."""
    if engine is None:
        return None
    with Session(engine) as session:
        found = queries.intake_decision(session, imap.mailbox_key, imap.uidvalidity, uid)
    return None if found is None or found is IntakeOutcome.BEFORE_START else str(found)


def as_table(report: BacklogReport, zone_name: str) -> Sequence[str]:
    """The report as lines for the administrator: no sender, no subject, no names."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    lines = [f"mailbox {report.mailbox}: old mail is {report.boundary}",
             f"since {report.since.isoformat() if report.since else '(no date given)'}; "
             "dry run: nothing is taken, recorded, mailed or marked",
             f"{'UID':>7}  {'RECEIVED':16}  MATCH  WOULD"]
    for item in report.lines:
        lines.append(f"{item.uid:>7}  {item.received.astimezone(zone):%Y-%m-%d %H:%M}  "
                     f"{'yes' if item.subject_match else 'no':5}  {item.outcome}")
    lines.append(f"{len(report.lines)} old message(s); {report.candidates} would become new "
                 "ticket(s)")
    return lines
