"""The first start's boundary in the store: recorded at first sight, read at every pass.

The rules are core/first_start.py; this module keeps their state in `mailbox_state` and
writes the intake records of the messages the boundary leaves alone. Such a message is only
recorded: never fetched whole, never answered, never marked in the mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from mailflow.adapters.imap import FetchedHeader, ImapSession
from mailflow.core.first_start import BEFORE_START, Boundary, before_start, chosen, day_start
from mailflow.core.intake_rules import Decision, Kind
from mailflow.core.parse import ParsedMessage, parse_head
from mailflow.store import queries
from mailflow.store.db import Session
from mailflow.store.models import IntakeRecord, MailboxState
from mailflow.vocabulary import IntakeOutcome

log = logging.getLogger(__name__)


def open_state(session: Session, imap: ImapSession, take_since: date | None,
               now: datetime) -> MailboxState:
    """The mailbox's state for this pass: made at first sight; after a new UIDVALIDITY read
    again from UID 1, with the UID boundary dropped (its date stays)."""
    state = queries.mailbox_state(session, imap.mailbox_key)
    if state is None:
        return first_sight(session, imap.mailbox_key, imap.uidvalidity, imap.uidnext,
                           take_since, now)
    if state.uidvalidity != imap.uidvalidity:
        log.warning("mailbox uidvalidity changed old=%d new=%d; rescanning (duplicates are "
                    "recognised by Message-ID; the first start's boundary is its date from now "
                    "on)", state.uidvalidity, imap.uidvalidity)
        state.uidvalidity, state.last_uid, state.first_uid = imap.uidvalidity, 0, None
    return state


_SAME_START = timedelta(hours=1)


def first_sight(session: Session, mailbox: str, uidvalidity: int, uidnext: int | None,
                take_since: date | None, now: datetime) -> MailboxState:
    """The state of a mailbox key never seen before, with its boundary, added to `session`.

    A second key (the folder or host renamed in the configuration) is not mailflow's first
    start: its boundary is the installation's first start, by date, since the new key's UIDs
    say nothing about when mailflow began.
    """
    others, earliest = queries.other_mailboxes_started(session, mailbox)
    now = now.replace(microsecond=0)  # INTERNALDATE has whole seconds: mail after it is not older
    if not others:
        state = MailboxState(mailbox=mailbox, uidvalidity=uidvalidity, first_uid=uidnext,
                             first_seen_at=now, backlog_since=take_since)
        log.info("mailbox first seen mailbox=%s uidvalidity=%d: mail already in it (uid < %s) is "
                 "taken only since [intake] take_since=%s", mailbox, uidvalidity,
                 uidnext if uidnext else "now", take_since or "(not set)")
    else:
        state = MailboxState(mailbox=mailbox, uidvalidity=uidvalidity, first_uid=None,
                             first_seen_at=earliest or now, backlog_since=take_since)
        since = state.first_seen_at or now
        # The villages of a regency's new file are first seen one after the other: a key
        # whose neighbours began within the hour is part of the same first start.
        together = now - since < _SAME_START
        log.log(logging.INFO if together else logging.WARNING,
                "%s %s: mail in it from before %s is taken only since [intake] take_since=%s",
                "mailbox first seen, with the others of mailflow's first start," if together
                else "a new mailbox key beside the ones served before", mailbox,
                since.isoformat(timespec="minutes"), take_since or "(not set)")
    session.add(state)
    return state


def boundary_of(state: MailboxState, take_since: date | None, zone: tzinfo) -> Boundary:
    return Boundary(first_uid=state.first_uid, started=state.first_seen_at,
                    take_since=day_start(take_since, zone))


def backlog_due(state: MailboxState, take_since: date | None) -> bool:
    """Whether old mail must be looked at again: a take_since earlier than the last one used."""
    if take_since is None or (state.first_uid is None and state.first_seen_at is None):
        return False
    return state.backlog_since is None or take_since < state.backlog_since


def backlog_uids(imap: ImapSession, boundary: Boundary, last_uid: int, chunk: int) -> list[int]:
    """The UIDs of old messages (at or below `last_uid`) that `take_since` now chooses. The
    mailbox, not the records, says which: a crash after a record was dropped loses nothing."""
    uids = [u for u in imap.new_uids(0) if u <= last_uid
            and (boundary.first_uid is None or u < boundary.first_uid)]
    return [h.uid for start in range(0, len(uids), chunk)
            for h in imap.fetch_headers(uids[start:start + chunk])
            if before_start(boundary, h.uid, h.internaldate) and chosen(boundary, h.internaldate)]


@dataclass(frozen=True)
class OldMessage:
    """An old message worth a record: its subject matches (or its header block is unreadable)."""

    uid: int
    message_id: str | None


def old_message(header: FetchedHeader,
                classify: Callable[[ParsedMessage], Decision]) -> OldMessage | None:
    """The record-worthy part of an old message, from its header block alone; None for mail
    that intake would never look at closely (its subject does not match), as for new mail."""
    try:
        head = parse_head(header.header)
    except Exception:  # noqa: BLE001 - unreadable: recorded by UID rather than overlooked
        return OldMessage(header.uid, None)
    if classify(head).kind is Kind.SKIP:
        return None
    return OldMessage(header.uid, head.message_id)


def record_before_start(session: Session, mailbox: str, uidvalidity: int,
                        old: Sequence[OldMessage], last_uid: int, now: datetime) -> None:
    """One intake record per old message worth one, and the last UID examined. `marked` stays
    False and the outcome is not a taken one, so the mailbox is never touched for them."""
    recorded = queries.intake_uids(session, mailbox, uidvalidity, [m.uid for m in old])
    for item in old:
        if item.uid in recorded:
            continue
        # By Message-ID when there is one, so that a clerk finds the record by it.
        key = "mid:" + item.message_id.strip().lower() if item.message_id else f"uid:{item.uid}"
        session.add(IntakeRecord(mailbox=mailbox, uidvalidity=uidvalidity, uid=item.uid,
                                 message_key=key, decision=IntakeOutcome.BEFORE_START,
                                 reason=BEFORE_START, created_at=now))
    queries.set_last_uid(session, mailbox, last_uid)
