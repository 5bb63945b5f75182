"""The outbox pass: send what is due, with retries, and record each outcome.

Every message was stored in the same transaction as the change that caused it, so an SMTP
outage only delays mail. A message is marked sent right after the server accepts it; a
crash in between can resend it once (same Message-ID, which mail clients fold together) but
never loses it. A message that keeps failing, or that the server refuses for good, is
parked with its error for the administrator (`mailflow retry-parked` puts it back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailflow.adapters.smtp import Letter, Outcome, Sender
from mailflow.config import OutboxConfig
from mailflow.errors import SmtpUnavailable
from mailflow.store import queries
from mailflow.store.db import Engine, Session, transaction
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxState

log = logging.getLogger(__name__)

# At most this many messages per pass, so one pass has a bounded length.
PASS_LIMIT = 200


def retry_delay(attempts: int, first: float, ceiling: float) -> timedelta:
    """Exponential backoff: first, 2x, 4x, ... capped at `ceiling` seconds."""
    return timedelta(seconds=min(ceiling, first * 2 ** max(0, attempts - 1)))


@dataclass
class OutboxStats:
    sent: int = 0
    deferred: int = 0
    parked: int = 0
    smtp_unavailable: bool = False


class _Stopped(Exception):
    """Raised out of the sender's loop when a stop is requested between two messages."""


class Outbox:
    def __init__(self, engine: Engine, sender: Sender, policy: OutboxConfig,
                 stop_requested: Callable[[], bool] = lambda: False) -> None:
        """`stop_requested` is asked after each message: True ends the pass there (SIGTERM)."""
        self.stop_requested = stop_requested
        self.engine = engine
        self.sender = sender
        self.policy = policy

    def due(self, now: datetime, limit: int = PASS_LIMIT) -> list[OutboxMessage]:
        with Session(self.engine, expire_on_commit=False) as session:
            return queries.due_outbox(session, now, limit)

    def next_due(self) -> datetime | None:
        """When the earliest pending message falls due (the daemon wakes for it)."""
        with Session(self.engine) as session:
            return queries.next_outbox_due(session)

    def send_pass(self, now: datetime) -> OutboxStats:
        stats = OutboxStats()
        batch = [Letter(item.id, item.recipient, item.raw) for item in self.due(now)
                 if item.id is not None]
        if not batch:
            return stats

        def report(message_id: int, outcome: Outcome) -> None:
            self._record(message_id, outcome, now, stats)
            if self.stop_requested():
                raise _Stopped

        try:
            self.sender.deliver(batch, report)
        except _Stopped:
            log.info("outbox pass stopped, %d message(s) wait for the next start",
                     len(batch) - stats.sent - stats.deferred - stats.parked)
        except SmtpUnavailable as exc:
            # The server is unreachable: nothing is the message's fault, so no attempt is
            # counted and nothing is parked; the next pass tries again.
            stats.smtp_unavailable = True
            waiting = len(batch) - stats.sent - stats.deferred - stats.parked
            log.warning("smtp unavailable, %d message(s) wait: %s", waiting, exc)
        return stats

    def _record(self, message_id: int, outcome: Outcome, now: datetime, stats: OutboxStats) -> None:
        with transaction(self.engine) as session:
            item = session.get(OutboxMessage, message_id)
            if item is None:
                log.error("outbox row vanished while sending outbox=%d", message_id)
                return
            item.attempts += 1
            if outcome.sent:
                item.state, item.sent_at, item.last_error = OutboxState.SENT, now, ""
                stats.sent += 1
                log.info("mail sent outbox=%d kind=%s ticket_id=%s attempt=%d",
                         item.id, item.kind, item.ticket_id, item.attempts)
            elif outcome.permanent or item.attempts >= self.policy.max_attempts:
                item.state, item.last_error = OutboxState.PARKED, outcome.error[:1000]
                stats.parked += 1
                log.error("mail parked outbox=%d kind=%s attempts=%d error=%s",
                          item.id, item.kind, item.attempts, _redact(outcome.error, item.recipient))
            else:
                delay = retry_delay(item.attempts, self.policy.first_retry_seconds,
                                    self.policy.max_retry_seconds)
                item.next_attempt_at, item.last_error = now + delay, outcome.error[:1000]
                stats.deferred += 1
                log.warning("mail deferred outbox=%d attempt=%d retry_in=%ds error=%s",
                            item.id, item.attempts, delay.total_seconds(),
                            _redact(outcome.error, item.recipient))


def _redact(text: str, address: str) -> str:
    """SMTP errors quote the recipient; the recipient is a resident, so the log must not."""
    return text.replace(address, "<recipient>") if address else text


def retry_parked(engine: Engine, now: datetime) -> int:
    """Put parked messages back in the queue (after the administrator fixed the cause)."""
    with transaction(engine) as session:
        parked = queries.parked_outbox(session)
        for item in parked:
            item.state, item.attempts, item.next_attempt_at = OutboxState.PENDING, 0, now
        return len(parked)
