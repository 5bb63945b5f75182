"""Sending what the outbox holds, with retries; the SMTP edge lives here.

Every message was stored in the same transaction as the change that caused it,
so an SMTP outage only delays mail. A message is marked sent right after the
server accepts it; a crash in between can resend it once (same Message-ID, which
mail clients fold together) but never loses it. A message that keeps failing, or
that the server refuses for good, is parked with its error for the administrator.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailflow.config import OutboxConfig, SmtpConfig, tls_context
from mailflow.store.db import transaction
from mailflow.store.models import OutboxMessage

log = logging.getLogger(__name__)

PENDING, SENT, PARKED = "pending", "sent", "parked"


def retry_delay(attempts: int, first: float, ceiling: float) -> timedelta:
    """Exponential backoff: first, 2x, 4x, ... capped at `ceiling` seconds."""
    return timedelta(seconds=min(ceiling, first * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt ended: sent, temporary failure, or permanent failure."""

    sent: bool
    permanent: bool = False
    error: str = ""


def classify_smtp_error(exc: Exception) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome(False, permanent=all(c >= 500 for c in codes), error=str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Outcome(False, permanent=exc.code >= 500, error=f"{exc.code} {exc.message}")
    return Outcome(False, permanent=False, error=f"{type(exc).__name__}: {exc}")


@dataclass
class OutboxStats:
    sent: int = 0
    deferred: int = 0
    parked: int = 0
    smtp_unavailable: bool = False


class SmtpSender:
    """Opens one SMTP connection per pass and sends the due messages over it."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg

    def _client(self) -> aiosmtplib.SMTP:
        cfg = self.cfg
        return aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.effective_port,
            use_tls=cfg.security == "ssl",
            start_tls=cfg.security == "starttls",
            timeout=cfg.timeout_seconds,
            tls_context=None if cfg.security == "plain" else tls_context(
                cfg.tls_ca_file, "[smtp] tls_ca_file"),
        )

    async def deliver(self, batch: Sequence[OutboxMessage], report: Callable[[int, Outcome], None]) -> None:
        """Send each message; `report(id, outcome)` is called as soon as each one ends."""
        client = self._client()
        await client.connect()
        try:
            if self.cfg.username:
                await client.login(self.cfg.username, self.cfg.secret() or "")
            for item in batch:
                assert item.id is not None
                try:
                    await client.sendmail(self.cfg.from_address, [item.recipient], item.raw)
                except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                    report(item.id, classify_smtp_error(exc))
                    if not client.is_connected:
                        return
                    await client.rset()
                    continue
                report(item.id, Outcome(True))
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()


class Outbox:
    def __init__(self, engine: Engine, sender: SmtpSender, policy: OutboxConfig) -> None:
        self.engine = engine
        self.sender = sender
        self.policy = policy

    def due(self, now: datetime, limit: int = 200) -> list[OutboxMessage]:
        with Session(self.engine, expire_on_commit=False) as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.state == PENDING, col(OutboxMessage.next_attempt_at) <= now)
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            )
            return list(session.exec(query).all())

    def send_pass(self, now: datetime) -> OutboxStats:
        stats = OutboxStats()
        batch = self.due(now)
        if not batch:
            return stats

        def report(message_id: int, outcome: Outcome) -> None:
            self._record(message_id, outcome, now, stats)

        try:
            asyncio.run(self.sender.deliver(batch, report))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The server is unreachable: nothing is the message's fault, so no attempt is
            # counted and nothing is parked; the next pass tries again.
            stats.smtp_unavailable = True
            waiting = len(batch) - stats.sent - stats.deferred - stats.parked
            log.warning("smtp unavailable, %d message(s) wait: %s", waiting, exc)
        return stats

    def _record(self, message_id: int, outcome: Outcome, now: datetime, stats: OutboxStats) -> None:
        with transaction(self.engine) as session:
            item = session.get(OutboxMessage, message_id)
            assert item is not None
            item.attempts += 1
            if outcome.sent:
                item.state, item.sent_at, item.last_error = SENT, now, ""
                stats.sent += 1
                log.info("mail sent outbox=%d kind=%s ticket_id=%s attempt=%d",
                         item.id, item.kind, item.ticket_id, item.attempts)
            elif outcome.permanent or item.attempts >= self.policy.max_attempts:
                item.state, item.last_error = PARKED, outcome.error[:1000]
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
        parked = session.exec(select(OutboxMessage).where(OutboxMessage.state == PARKED)).all()
        for item in parked:
            item.state, item.attempts, item.next_attempt_at = PENDING, 0, now
        return len(parked)
