"""The outbox pass: send what is due, with retries, and record each outcome.

Every message was stored in the same transaction as the change that caused it, so an SMTP
outage only delays mail. A message is marked sent right after the server accepts it; a
crash in between can resend it once (same Message-ID, which mail clients fold together) but
never loses it. A message that keeps failing, or that the server refuses for good, is
parked with its error for the administrator (`mailflow outbox --retry` puts it back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailflow.adapters.smtp import Letter, Outcome, Sender
from mailflow.config import OutboxConfig
from mailflow.errors import SmtpUnavailable
from mailflow.store import outbox_queries
from mailflow.store.db import Engine, Session, storage_failure, transaction
from mailflow.store.instance import dead_here, instance_id
from mailflow.store.outbox_queries import Claimed, OutboxStore, next_outbox_due
from mailflow.vocabulary import OutboxState

log = logging.getLogger(__name__)

# Due rows are claimed this many at a time while the pass goes on (memory stays bounded).
PAGE = 200
# A claim outlives the pass that took it by this much: the last message of a pass may still
# be in flight when the pass's time is up (SMTP timeouts, a reconnect). A claim left behind
# by an instance that died runs out after at most pass_seconds + this.
CLAIM_MARGIN_SECONDS = 300.0


def retry_delay(attempts: int, first: float, ceiling: float) -> timedelta:
    """Exponential backoff: first, 2x, 4x, ... capped at `ceiling` seconds."""
    return timedelta(seconds=min(ceiling, first * 2 ** max(0, attempts - 1)))


@dataclass
class OutboxStats:
    sent: int = 0
    deferred: int = 0
    parked: int = 0
    smtp_unavailable: bool = False
    out_of_time: bool = False  # the pass used its time; more may be due


class _Stopped(Exception):
    """Raised out of the sender's loop when a stop is requested between two messages, or the
    pass has used its time."""


class _Claims:
    """The due letters of one pass, claimed a page at a time for this instance, oldest first,
    each at most once (a row deferred during the pass is due later, so it is not read again).
    What was claimed and not attempted is given back by `release`."""

    def __init__(self, outbox: Outbox, store: OutboxStore, now: datetime) -> None:
        self._outbox, self._store, self._now = outbox, store, now
        self._started = time.monotonic()  # the lease is real time, whatever the pass budget
        self.rows: dict[int, Claimed] = {}
        self.first = self._page(0)
        self.taken = 0

    def _page(self, after_id: int) -> list[Claimed]:
        outbox = self._outbox
        at = self._now + timedelta(seconds=time.monotonic() - self._started)
        until = at + timedelta(seconds=outbox.policy.pass_seconds + CLAIM_MARGIN_SECONDS)
        page = self._store.claim(owner=outbox.owner, now=at, until=until,
                                  limit=PAGE, after_id=after_id)
        self.rows = {row.id: row for row in page}
        return page

    def __iter__(self) -> Iterator[Letter]:
        page = self.first
        while page:
            for row in page:
                self.taken += 1
                yield Letter(row.id, row.recipient, row.raw)
            page = self._page(page[-1].id) if len(page) == PAGE else []

    def release(self) -> None:
        """Give back this page's rows not attempted; best effort (a claim runs out anyway)."""
        try:
            self._store.release(self._outbox.owner, list(self.rows))
        except Exception as exc:  # noqa: BLE001 - the database failing here is logged, no more
            log.warning("outbox claims not released (they run out by themselves): %s", exc)


class Outbox:
    def __init__(self, engine: Engine, sender: Sender, policy: OutboxConfig,
                 stop_requested: Callable[[], bool] = lambda: False, *,
                 owner: str | None = None, scope: str | None = None) -> None:
        """`stop_requested` is asked after each message: True ends the pass there (SIGTERM).
        `owner` names this instance in its claims (default: host, pid and a random part).
        `scope` is the village whose mail this outbox sends (cfg.scope; None: every row)."""
        self.scope = scope
        self.stop_requested = stop_requested
        self.monotonic = time.monotonic  # the pass's time budget; tests may replace it
        self.engine = engine
        self.owner = owner or instance_id()
        self.sender = sender
        self.policy = policy
        self._swept = False  # the claims of this host's dead instances, at the first pass

    def next_due(self) -> datetime | None:
        """When the earliest pending message falls due (the daemon wakes for it); None while
        the database is unreachable (restarting): the next poll finds and reports that."""
        try:
            with Session(self.engine) as session:
                return next_outbox_due(session, self.scope)
        except Exception as exc:
            if not storage_failure(exc):
                raise
            log.debug("outbox: next due time unknown, the database is unavailable: %s", exc)
            return None

    def send_pass(self, now: datetime) -> OutboxStats:
        """Send what is due, over one connection, for at most [outbox] pass_seconds; what is
        left stays due, and the daemon runs the next pass at once."""
        with OutboxStore.connect(self.engine, self.scope) as store:
            if not self._swept:
                self._sweep(store)
            due = _Claims(self, store, now)
            if not due.first:
                return OutboxStats()
            try:
                return self._send(store, due, now)
            finally:
                due.release()

    def _sweep(self, store: OutboxStore) -> None:
        """Take back the claims of instances of this machine that died (this process's
        predecessor, killed in the middle of a pass): their rows are due at once. The machine
        is MAILFLOW_HOST or the host name, as for the mailbox lease (store/lease.py): judging
        a container's or another machine's instance by a pid of this one took back a live
        peer's claims, and both sent the same mail."""
        for owner in store.owners():
            if owner != self.owner and dead_here(owner):
                count = store.release_all(owner)
                log.info("outbox claims of a stopped instance taken back: %d row(s) of %s",
                         count, owner)
        self._swept = True

    def _send(self, store: OutboxStore, due: _Claims, now: datetime) -> OutboxStats:
        stats = OutboxStats()
        deadline = self.monotonic() + self.policy.pass_seconds

        def report(message_id: int, outcome: Outcome) -> None:
            self._record(store, due.rows[message_id], outcome, now, stats)
            if self.stop_requested():
                raise _Stopped("stop requested")
            if self.monotonic() >= deadline:
                raise _Stopped("time is up")

        try:
            self.sender.deliver(due, report)
        except _Stopped as why:
            stats.out_of_time = str(why) == "time is up"
            log.info("outbox pass ended (%s) after %d message(s); the rest waits for the next "
                     "pass", why, due.taken)
        except SmtpUnavailable as exc:
            # The server is unreachable: nothing is the message's fault, so no attempt is
            # counted and nothing is parked; the next pass tries again.
            stats.smtp_unavailable = True
            log.warning("smtp unavailable, mail waits: %s", exc)
        return stats

    def _record(self, store: OutboxStore, item: Claimed, outcome: Outcome, now: datetime,
                stats: OutboxStats) -> None:
        """The outcome of one attempt, committed at once (one UPDATE by id)."""
        attempts = item.attempts + 1
        if outcome.sent:
            found = store.sent(item.id, self.owner, now)
            stats.sent += 1
            log.info("mail sent outbox=%d kind=%s ticket_id=%s attempt=%d",
                     item.id, item.kind, item.ticket_id, attempts)
        elif outcome.permanent or attempts >= self.policy.max_attempts:
            found = store.parked(item.id, self.owner, outcome.error[:1000])
            stats.parked += 1
            log.error("mail parked outbox=%d kind=%s attempts=%d error=%s",
                      item.id, item.kind, attempts, _redact(outcome.error, item.recipient))
        else:
            delay = retry_delay(attempts, self.policy.first_retry_seconds,
                                self.policy.max_retry_seconds)
            found = store.deferred(item.id, self.owner, outcome.error[:1000], now + delay)
            stats.deferred += 1
            log.warning("mail deferred outbox=%d attempt=%d retry_in=%ds error=%s",
                        item.id, attempts, delay.total_seconds(),
                        _redact(outcome.error, item.recipient))
        if not found:
            # Taken back by another instance (or deleted): the rest of this pass's claims may
            # be too, and sending them would send them twice. The pass ends here.
            log.error("outbox claim lost while sending outbox=%d: another instance took the "
                      "row back; this pass ends", item.id)
            raise _Stopped("claim lost")


def _redact(text: str, address: str) -> str:
    """SMTP errors quote the recipient; the recipient is a resident, so the log must not."""
    return text.replace(address, "<recipient>") if address else text


def retry_parked(engine: Engine, now: datetime, scope: str | None,
                 ids: Sequence[int] | None = None) -> int:
    """Put the village's parked messages (all, or those among `ids`) back in the queue, after
    the administrator fixed the cause."""
    with transaction(engine) as session:
        parked = outbox_queries.parked_outbox(session, ids, scope)
        for item in parked:
            item.state, item.attempts, item.next_attempt_at = OutboxState.PENDING, 0, now
        return len(parked)
