"""The SMTP edge: one connection per outbox pass, each message's outcome reported as a value.

aiosmtplib's exceptions stop here. Whatever goes wrong with one message is that message's
`Outcome` and nobody else's: a refusal (temporary or permanent by its reply code), an
address that cannot go on an SMTP command line, a UTF-8 address for a server without
SMTPUTF8, a library's surprise, even a server that hangs up in the middle of it (the rest
of the batch goes out over a new connection). Only a server that cannot be reached at all,
or keeps hanging up, is `SmtpUnavailable`, which concerns no message and counts no attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiosmtplib

from mailflow.adapters.oauth import TokenSource
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

    def deliver(self, batch: Iterable[Letter], report: Report) -> None: ...


def classify_smtp_error(exc: Exception) -> Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        return Outcome(False, permanent=all(c >= 500 for c in codes), error=str(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Outcome(False, permanent=exc.code >= 500, error=f"{exc.code} {exc.message}")
    return Outcome(False, permanent=False, error=f"{type(exc).__name__}: {exc}")


# A server that hangs up on this many messages of one pass is treated as unavailable: the
# rest wait for the next pass instead of each costing a connection and an attempt.
_MAX_RECONNECTS = 3
# The connection, not the message, failed: the row in flight is retried later (it may be
# what made the server hang up, so it counts an attempt and is parked in the end).
_CONNECTION_LOST = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                    ConnectionError, TimeoutError, OSError)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_NOT_IN_MAILBOX = re.compile(r"[\s<>()\[\],;:\"\\\x00-\x1f\x7f]")

NO_SMTPUTF8 = ("the address or the headers are not ASCII and need SMTPUTF8, which the server "
               "does not offer; parked until a server that does is configured")


def unsendable(address: str) -> str | None:
    """Why `address` cannot be an SMTP envelope address as it is, or None.

    aiosmtplib "repairs" what it is given with parseaddr, so `a@x>\\r\\nRCPT TO:<b@y`
    would quietly go to a@x; an outbox row must name exactly one plain mailbox.
    """
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or len(address) > 320:
        return "recipient is not a single mailbox address"
    if _NOT_IN_MAILBOX.search(address):
        return "recipient address holds characters an SMTP command line cannot carry"
    return None


def needs_smtputf8(sender: str, letter: Letter) -> bool:
    """Whether the envelope or the header block carries UTF-8 (RFC 6531), not just ASCII."""
    end = _HEADER_END.search(letter.raw)
    head = letter.raw[:end.start()] if end else letter.raw
    return not (sender.isascii() and letter.recipient.isascii() and head.isascii())


class SmtpSender:
    """Opens one SMTP connection per pass and sends the due messages over it."""

    def __init__(self, cfg: SmtpConfig) -> None:
        self.cfg = cfg
        self._tokens = TokenSource(cfg, "smtp", SmtpUnavailable)

    def deliver(self, batch: Iterable[Letter], report: Report) -> None:
        self._run(self._deliver(batch, report))

    def probe(self) -> str:
        """Greeting, TLS and login, for `mailflow check`; what was found, in one line."""
        return self._run(self._probe())

    def _run(self, work: Coroutine[Any, Any, _T]) -> _T:
        try:
            return asyncio.run(work)
        except aiosmtplib.SMTPAuthenticationError as exc:
            hint = "check [smtp] username and the password"
            if self.cfg.auth == "xoauth2":
                self._tokens.forget()
                hint = self._tokens.refused_hint()
            raise LoginRefused(f"SMTP {self.cfg.host}:{self.cfg.effective_port} refused the login "
                               f"of {self.cfg.username!r} ({exc.code}); {hint}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpUnavailable(f"SMTP {self.cfg.host}:{self.cfg.effective_port}: {exc}") from exc

    async def _probe(self) -> str:
        client = self._client()
        await client.connect()
        try:
            await self._login(client)
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

    async def _open(self) -> aiosmtplib.SMTP:
        client = self._client()
        await client.connect()
        await self._login(client)
        return client

    async def _login(self, client: aiosmtplib.SMTP) -> None:
        """AUTH with the password, or AUTH XOAUTH2 with an access token, or no login."""
        if self.cfg.auth == "xoauth2" and self.cfg.username:
            await client.auth_xoauth2(self.cfg.username, self._tokens.token())
        elif self.cfg.username:
            await client.login(self.cfg.username, self.cfg.secret() or "")

    async def _deliver(self, batch: Iterable[Letter], report: Report) -> None:
        client = await self._open()
        reconnects = 0
        try:
            for item in batch:
                if not client.is_connected:
                    if reconnects >= _MAX_RECONNECTS:
                        raise aiosmtplib.SMTPServerDisconnected(
                            f"the server hung up {reconnects} times in one pass")
                    reconnects += 1
                    client = await self._open()
                outcome = await self._send_one(client, item)
                # Outside the row's guard: what report raises (the database failing, a stop
                # requested between two messages) ends the pass, and is no row's outcome.
                report(item.id, outcome)
                if not outcome.sent and client.is_connected:
                    await _reset(client)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except aiosmtplib.SMTPException:
                    client.close()

    async def _send_one(self, client: aiosmtplib.SMTP, item: Letter) -> Outcome:
        """One message's fate; no exception of its own ever reaches the other messages."""
        try:
            problem = unsendable(item.recipient)
            if problem is not None:
                return Outcome(False, permanent=True, error=problem)
            options: list[str] = []
            if needs_smtputf8(self.cfg.from_address, item):
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                if not client.supports_extension("smtputf8"):
                    return Outcome(False, permanent=True, error=NO_SMTPUTF8)
                options.append("SMTPUTF8")
            await client.sendmail(self.cfg.from_address, [item.recipient], item.raw,
                                  mail_options=options)
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
            return classify_smtp_error(exc)
        except _CONNECTION_LOST as exc:
            client.close()
            return Outcome(False, error=f"connection lost while sending: {type(exc).__name__}: {exc}")
        except (aiosmtplib.SMTPNotSupported, ValueError) as exc:
            # Nothing this server will ever accept (UnicodeError is a ValueError too).
            return Outcome(False, permanent=True, error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a surprise of one row stays that row's
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        return Outcome(True)


async def _reset(client: aiosmtplib.SMTP) -> None:
    """Leave no half-built envelope for the next message; a server that cannot reset is
    closed, and the next message opens a new connection."""
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, *_CONNECTION_LOST):
        client.close()
