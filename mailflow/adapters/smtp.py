"""The SMTP edge: one connection per outbox pass, each message's outcome reported as a value.

aiosmtplib's exceptions stop here. A refusal of one message is that message's `Outcome`
(temporary or permanent by its reply code); a server that cannot be reached, or drops the
connection, is `SmtpUnavailable`, which concerns no message and counts no attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiosmtplib

from mailflow.adapters.tls import tls_context
from mailflow.config import SmtpConfig
from mailflow.errors import LoginRefused, SmtpUnavailable


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt ended: sent, temporary failure, or permanent failure."""

    sent: bool
    permanent: bool = False
    error: str = ""


@dataclass(frozen=True)
class Letter:
    """What the sender needs of an outbox row."""

    id: int
    recipient: str
    raw: bytes


Report = Callable[[int, Outcome], None]
_T = TypeVar("_T")


class Sender(Protocol):
    """Delivers letters and reports each outcome as soon as it is known."""

    def deliver(self, batch: Sequence[Letter], report: Report) -> None: ...


def classify_smtp_error(exc: Exception) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome(False, permanent=all(c >= 500 for c in codes), error=str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Outcome(False, permanent=exc.code >= 500, error=f"{exc.code} {exc.message}")
    return Outcome(False, permanent=False, error=f"{type(exc).__name__}: {exc}")


class SmtpSender:
    """Opens one SMTP connection per pass and sends the due messages over it."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg

    def deliver(self, batch: Sequence[Letter], report: Report) -> None:
        self._run(self._deliver(batch, report))

    def probe(self) -> str:
        """Greeting, TLS and login, for `mailflow check`; what was found, in one line."""
        return self._run(self._probe())

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        try:
            return asyncio.run(work)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise LoginRefused(f"SMTP {self.cfg.host}:{self.cfg.effective_port} refused the login "
                               f"of {self.cfg.username!r} ({exc.code}); check [smtp] username "
                               "and the password") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpUnavailable(f"SMTP {self.cfg.host}:{self.cfg.effective_port}: {exc}") from exc

    async def _probe(self) -> str:
        client = self._client()
        await client.connect()
        try:
            if self.cfg.username:
                await client.login(self.cfg.username, self.cfg.secret() or "")
            login = f"logged in as {self.cfg.username}" if self.cfg.username else "no login"
            return (f"{self.cfg.host}:{self.cfg.effective_port} ({self.cfg.security}) answered, "
                    f"{login}")
        finally:
            if client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException):
                    await client.quit()

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

    async def _deliver(self, batch: Sequence[Letter], report: Report) -> None:
        client = self._client()
        await client.connect()
        try:
            if self.cfg.username:
                await client.login(self.cfg.username, self.cfg.secret() or "")
            for item in batch:
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
