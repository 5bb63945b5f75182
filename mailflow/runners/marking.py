"""Marking taken messages in the mailbox: best effort, last in a pass, bounded, with a backoff.

The database is the record of what was taken (IntakeRecord, `marked` says whether the
mailbox shows it yet); the mark in the mailbox (a keyword, or a move to a folder) is only
for staff reading webmail. So marking never stands in intake's way:

- Order: a pass fetches and takes new mail first and marks last, after every message of
  the pass is committed. A pass whose marking fails has taken its mail already, and the
  next pass again takes new mail before it tries the marks again.
- Bounded: the UIDs go as ranges, at most 8 kB and 2,000 messages a command
  (`ImapSession.mark_sets`), whatever the backlog. Issue 10: one `UID STORE` with 80,000
  UIDs got `BAD ... Too long argument`, the pass ended as "imap unavailable", and since the
  marks were tried first, every later pass failed the same way before it fetched anything.
- A refusal (BAD or NO, a folder that cannot be made, no MOVE nor UIDPLUS, a dropped
  connection) ends marking for this pass. What was marked before it is recorded as marked;
  the rest keeps `marked = False` and is tried again after 2, 4, 8 ... up to 60 minutes (by
  the injected clock), so a server that refuses for good costs one command an hour, not
  one a pass. It is logged once at WARNING when marking starts failing (not per message,
  not per pass) and once at INFO when it works again.

The backoff lives in the `Marker` of the Intake (one per Service: the daemon's for its whole
life, until a reload); a `poll --once` run starts afresh and tries once, at its end.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mailflow.adapters.clock import Clock
from mailflow.adapters.imap import ImapSession
from mailflow.errors import ImapUnavailable
from mailflow.store import queries
from mailflow.store.db import Engine, Session

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=2)
LONGEST_RETRY = timedelta(minutes=60)


def retry_after(failures: int) -> timedelta:
    """How long marking rests after `failures` failed tries in a row (1 -> 2 min, doubling)."""
    if failures < 1:
        return timedelta(0)
    return min(FIRST_RETRY * (1 << min(failures - 1, 16)), LONGEST_RETRY)


class Marker:
    """Marks the taken messages of one mailbox; remembers failures to space the retries."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.failures = 0
        self.next_try: datetime | None = None

    def mark_pending(self, imap: ImapSession) -> int:
        """Mark what was taken and is not marked yet, unless resting after a failure; the
        number of messages marked. Never raises for the server's sake (see the module)."""
        now = self.clock()
        if self.next_try is not None and now < self.next_try:
            return 0
        marked = pending = 0
        after = 0
        try:
            while True:
                # A page of (uid, id) at a time: memory bounded by the page, not the backlog.
                with Session(self.engine) as session:
                    page = queries.unmarked_intake(session, imap.mailbox_key, imap.uidvalidity,
                                                   after)
                if not page:
                    break
                ids = dict(page)
                pending += len(page)
                after = page[-1][0]
                for uid_set in imap.mark_sets(sorted(ids)):
                    imap.mark_set(uid_set)
                    queries.set_marked(self.engine, [ids[uid] for uid in uid_set.uids])
                    marked += len(uid_set.uids)
        except ImapUnavailable as exc:
            self._failed(now, pending - marked, exc)
        else:
            if pending:
                self._worked()
        if marked:
            log.info("imap marked taken messages count=%d", marked)
        return marked

    def _failed(self, now: datetime, left: int, exc: ImapUnavailable) -> None:
        self.failures += 1
        wait = retry_after(self.failures)
        self.next_try = now + wait
        level = logging.WARNING if self.failures == 1 else logging.DEBUG
        log.log(level, "imap marking failed, %d taken message(s) stay unmarked in the mailbox "
                "(intake goes on; marking is tried again in %d min, then less often): %s",
                left, wait.total_seconds() // 60, exc)

    def _worked(self) -> None:
        if self.failures:
            log.info("imap marking works again after %d failed tr%s", self.failures,
                     "y" if self.failures == 1 else "ies")
        self.failures = 0
        self.next_try = None
