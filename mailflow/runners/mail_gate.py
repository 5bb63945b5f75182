"""Queuing a plan's mail inside the message's transaction, within the per-address limits.

The core plans mail as if every message should go (core/new_ticket.py, core/replies.py);
this is the one place that asks, for each, whether it may go now (core/mail_limits.py): it
counts the outbox rows already created for the recipient, withholds what is over the
limit (recorded on the ticket, and the verifiers told once per address and day), and
coalesces security alerts and explanations per recipient and window. Everything happens in
the caller's transaction, so the counts include the rows this same message just queued and
a crash keeps all of it or none.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from mailflow.compose.mime import Composer
from mailflow.config import Config
from mailflow.core.mail_limits import (
    DAY,
    HOUR,
    SECURITY_ALERT,
    SECURITY_NOTE,
    Attempt,
    Coalesce,
    Previous,
    Sent,
    alert_digest,
    allowance_for,
    coalesce,
    limit_notice,
    limit_reached,
    limit_topic,
)
from mailflow.core.notices import Outgoing
from mailflow.core.tickets import EventPlan
from mailflow.store import intake_queries, queries
from mailflow.store.db import Session
from mailflow.store.models import OutboxMessage, Ticket
from mailflow.vocabulary import EventKind, OutboxKind, OutboxState, Role

log = logging.getLogger(__name__)


class MailGate:
    def __init__(self, cfg: Config, composer: Composer) -> None:
        self.cfg = cfg
        self.composer = composer
        # Counts per address, kept for one transaction (one intake group): read once, then
        # counted up as rows are queued. Dropped by `forget` when a message's savepoint is
        # rolled back, and whenever a new session comes. The hour's count is the one read
        # at the group's start: a row that leaves the hour during the group still counts,
        # so the limit is kept, if anything, a few seconds early.
        self._counts_of: Session | None = None
        self._counts: dict[str, list[int]] = {}
        # Rows of the `queue` call at hand, written together at its end, and before anything
        # reads the outbox meanwhile (a limit notice's or an alert's previous row).
        self._rows: list[dict[str, Any]] = []

    def prefetch(self, session: Session, addresses: Iterable[str], now: datetime) -> None:
        """Read the counts of `addresses` at once for this transaction (an intake group)."""
        if self._counts_of is not session:
            self._counts_of, self._counts = session, {}
        wanted = {a.lower() for a in addresses} - self._counts.keys()
        if wanted:
            found = intake_queries.mail_counts_many(session, wanted, now - HOUR, now - DAY,
                                                    self.cfg.scope)
            self._counts.update({a: list(c) for a, c in found.items()})

    def forget(self) -> None:
        """Forget the counts read in this transaction (a savepoint was rolled back)."""
        self._counts_of, self._counts = None, {}

    def queue(self, session: Session, ticket: Ticket | None, outgoing: Iterable[Outgoing],
              now: datetime, *, security: bool = False,
              attempt: Attempt | None = None) -> list[EventPlan]:
        """Queue what may go; return one event per message withheld, for the ticket's trail.

        `security`: the plan refused an unproven staff action, so its mail (the alert to the
        administrator, the explanation to the claimed staff member) is coalesced rather than
        counted; `attempt` is that action when no ticket event records it (a refused phone
        recording), so that a merged alert lists it too. When a new ticket's acknowledgement is
        withheld, its notifications to the verifiers are too: the notice about that address
        replaces one mail per ticket.
        """
        try:
            withheld = self._queue(session, ticket, outgoing, now, security, attempt)
            self._write(session)
            return withheld
        finally:
            self._rows = []  # after a failure: the message's savepoint is rolled back anyway

    def _write(self, session: Session) -> None:
        """The rows queued so far, in one statement."""
        rows, self._rows = self._rows, []
        intake_queries.add_outbox_rows(session, rows)

    def _queue(self, session: Session, ticket: Ticket | None, outgoing: Iterable[Outgoing],
               now: datetime, security: bool, attempt: Attempt | None) -> list[EventPlan]:
        withheld: list[EventPlan] = []
        reporter_held = False
        number = ticket.number if ticket is not None else None
        for item in outgoing:
            if security:
                self._coalesce(session, ticket, item, now, attempt)
                continue
            if reporter_held and item.kind is OutboxKind.NOTIFY:
                withheld.append(self._withhold(item, number, "the reporter is over the mail limit"))
                continue
            reached = limit_reached(self._sent(session, item.to, now),
                                    allowance_for(self.cfg, item.to))
            if reached is None:
                self._add(session, ticket, item, now)
                continue
            withheld.append(self._withhold(item, number, f"mail limit of {reached} reached"))
            reporter_held = reporter_held or item.kind is OutboxKind.ACK
            self._tell_verifiers(session, number, item.to, reached, now)
        return withheld

    # -- limits -----------------------------------------------------------------------------

    def _sent(self, session: Session, address: str, now: datetime) -> Sent:
        if self._counts_of is not session:
            self._counts_of, self._counts = session, {}
        counts = self._counts.get(address.lower())
        if counts is None:
            self._write(session)
            counts = list(intake_queries.mail_counts(session, address, now - HOUR, now - DAY,
                                                     self.cfg.scope))
            self._counts[address.lower()] = counts
        return Sent(counts[0], counts[1])

    def _withhold(self, item: Outgoing, number: str | None, reason: str) -> EventPlan:
        staff = self.cfg.staff_member(item.to)
        # A resident's address is identity: the trail and the log say "the reporter".
        who = staff.address if staff is not None else "the reporter"
        log.warning("mail withheld ticket=%s kind=%s to=%s reason=%s", number or "-", item.kind,
                    "staff" if staff is not None else "resident", reason)
        return EventPlan(EventKind.MAIL_WITHHELD, "system",
                         note=f"{item.kind} to {who} not sent: {reason}")

    def _tell_verifiers(self, session: Session, number: str | None, address: str, reached: str,
                        now: datetime) -> None:
        """Each verifier hears once per address and day that it reached its limit."""
        topic = limit_topic(address)
        self._write(session)
        for member in self.cfg.staff_with(Role.VERIFIKATOR):
            action, _ = coalesce(_previous(queries.last_with_topic(session, topic, member.email,
                                                                  self.cfg.scope)),
                                 now, DAY, mergeable=False)
            if action is Coalesce.SEND:
                notice = limit_notice(self.cfg, member, address, reached, number)
                self._add(session, None, notice, now, topic=topic)
                log.warning("mail limit notice ticket=%s to_staff=%s", number or "-",
                            member.address)

    # -- security alerts and explanations ---------------------------------------------------

    def _coalesce(self, session: Session, ticket: Ticket | None, item: Outgoing, now: datetime,
                  attempt: Attempt | None) -> None:
        admin = (self.cfg.commands.admin_address or "").lower()
        topic = SECURITY_ALERT if item.to.lower() == admin else SECURITY_NOTE
        window = timedelta(minutes=self.cfg.limits.alert_window_minutes)
        self._write(session)
        row = queries.last_with_topic(session, topic, item.to, self.cfg.scope)
        action, when = coalesce(_previous(row), now, window, mergeable=topic == SECURITY_ALERT)
        log.info("security mail coalesced ticket=%s topic=%s action=%s",
                 ticket.number if ticket is not None else "-", topic, action)
        if action is Coalesce.MERGE and row is not None:
            self._merge_alert(session, row, now, attempt)
        elif action in (Coalesce.SEND, Coalesce.LATER):
            self._add(session, ticket, item, now, topic=topic, due=when)

    def _merge_alert(self, session: Session, row: OutboxMessage, now: datetime,
                     attempt: Attempt | None) -> None:
        """Rewrite the waiting alert so that it lists every attempt since it was first queued:
        commands from the tickets' security events, recordings from the intake records, and
        the attempt at hand (its intake record is written after this)."""
        since = row.created_at
        attempts = [Attempt(number, event.at, event.message_id, event.note)
                    for number, event in queries.security_events_since(session, since, self.cfg.scope)]
        attempts += [Attempt(None, record.created_at, _message_id(record.message_key), record.reason)
                     for record in queries.refused_since(session, since,
                                                               self.cfg.mailbox_key)]
        attempts = sorted([*attempts, *([attempt] if attempt else [])], key=lambda a: a.at)
        composed = self.composer.compose(alert_digest(self.cfg, row.recipient, attempts), None, now)
        # It covers several tickets now: no ticket, so no reply to it is taken for one of them.
        row.raw, row.message_id, row.ticket_id = composed.raw, composed.message_id, None
        session.add(row)

    # -- rows -------------------------------------------------------------------------------

    def _add(self, session: Session, ticket: Ticket | None, item: Outgoing, now: datetime, *,
             topic: str | None = None, due: datetime | None = None) -> None:
        composed = self.composer.compose(item, ticket.number if ticket is not None else None, now)
        counts = self._counts.get(item.to.lower()) if self._counts_of is session else None
        if counts is not None and item.kind is not OutboxKind.RECEIPT:
            counts[0] += 1
            counts[1] += 1
        self._rows.append(intake_queries.outbox_row(
            ticket_id=ticket.id if ticket is not None else None, kind=item.kind,
            message_id=composed.message_id,
            recipient=composed.recipient, raw=composed.raw, next_attempt_at=due or now,
            created_at=now, topic=topic, scope=self.cfg.scope))


def _message_id(key: str) -> str | None:
    """The Message-ID an intake record's key was made from, if it was (intake_rules.message_key)."""
    return key[len("mid:"):] if key.startswith("mid:") else None


def _previous(row: OutboxMessage | None) -> Previous | None:
    """The last coalesced row as the core's decision reads it: waiting, or when it went."""
    if row is None:
        return None
    if row.state == OutboxState.PENDING:
        return Previous(waiting=True, at=row.next_attempt_at)
    return Previous(waiting=False, at=row.sent_at or row.created_at)
