"""An SMTP server on loopback that delivers into the loopback IMAP server's mailboxes.

`LoopbackSMTP` runs aiosmtpd and hands each accepted message to a `deliver`
function (EmbeddedIMAP.deliver in the demo, the test world's in the tests), so a
resident's acknowledgement can be read back exactly as a mail client would. Like the
IMAP side (mailflow.demo.loopback) it refuses any address outside 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mailflow.demo.loopback import GREETING_NAME, PORT_ATTEMPTS, free_port, port_in_use, require_loopback

log = logging.getLogger(__name__)

TEMPFAIL_REPLY = "451 4.3.0 Temporary failure, try again later"


class _Handler:
    """aiosmtpd hooks: refuse unknown recipients, honour `tempfail`, deliver in DATA."""

    def __init__(self, owner: LoopbackSMTP) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.owner.tempfail:
            return TEMPFAIL_REPLY
        if address.lower() in self.owner.rcpt_replies:
            return self.owner.rcpt_replies[address.lower()]
        if not self.owner.knows(address.lower()):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.owner.tempfail:
            return TEMPFAIL_REPLY
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        rcpts = tuple(address.lower() for address in envelope.rcpt_tos)
        try:
            for rcpt in rcpts:
                await self.owner._deliver_in_thread(rcpt, bytes(raw))
        except Exception:
            log.exception("loopback SMTP could not deliver to %s", ", ".join(rcpts))
            return "451 4.3.0 Delivery failed, try again later"
        self.owner.accepted.append((envelope.mail_from, rcpts, bytes(raw)))
        return "250 2.0.0 OK delivered"


class LoopbackSMTP:
    """aiosmtpd on loopback that delivers each accepted message into the recipients' mailboxes.

    Delivery happens while the client waits for the answer to DATA, so a 250 means
    the message is already in the mailbox (no queue to wait for in tests); if
    delivery fails the answer is 451 and the client keeps the message, as with a
    real MTA. Addresses are lowercased before `knows` and `deliver`, since mail
    systems treat them case-insensitively. `stop()` closes the listener and every
    open session (an outage); `start()` listens on the same port again. With
    `tls_context` the server offers STARTTLS, as a submission server does. With
    `smtputf8` (read at each start()) it offers SMTPUTF8 (RFC 6531), as Postfix does by
    default; without it, as aiosmtpd's default and many older servers, it does not.
    """

    def __init__(self, deliver: Callable[[str, bytes], None], knows: Callable[[str], bool],
                 host: str = "127.0.0.1", port: int = 0, *,
                 tls_context: ssl.SSLContext | None = None, smtputf8: bool = False) -> None:
        self.deliver = deliver
        self.knows = knows
        self.host = require_loopback(host)
        self._auto_port = port == 0
        self.port = port or free_port(host)
        self.tls_context = tls_context
        #: Whether the next start() offers SMTPUTF8 (international addresses and headers).
        self.smtputf8 = smtputf8
        #: When True, RCPT and DATA are answered 451 4.3.0 (a temporary outage while listening).
        self.tempfail = False
        #: Lowercased address -> the reply to RCPT TO for it, e.g. a 450 that quotes the
        #: address as real servers do ("450 4.2.2 <x@y>: Mailbox full"); others are accepted.
        self.rcpt_replies: dict[str, str] = {}
        #: (mail_from, rcpt_tos, raw) of every message accepted (and delivered), oldest first.
        self.accepted: list[tuple[str, tuple[str, ...], bytes]] = []
        self._controller: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._started_once = False

    @property
    def running(self) -> bool:
        return self._controller is not None

    async def _deliver_in_thread(self, rcpt: str, raw: bytes) -> None:
        """Run `deliver` off the SMTP loop, so a slow IMAP server never blocks it."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.deliver, rcpt, raw)

    def start(self) -> None:
        """Listen on `host`:`port` (the same port after every stop())."""
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            raise RuntimeError("loopback SMTP server is already running")
        smtp_log = logging.getLogger("mail.log")  # aiosmtpd logs every command at INFO
        if smtp_log.level == logging.NOTSET:
            smtp_log.setLevel(logging.WARNING)
        # One delivery at a time, in a thread of our own that stop() can wait for.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loopback-smtp")
        for attempt in range(PORT_ATTEMPTS):
            controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                    ready_timeout=30, server_hostname=GREETING_NAME,
                                    tls_context=self.tls_context,
                                    enable_SMTPUTF8=self.smtputf8)
            try:
                controller.start()
            except OSError as exc:
                # Only the very first start may move: restarts must keep the port.
                retry = self._auto_port and not self._started_once and port_in_use(exc)
                if not retry or attempt == PORT_ATTEMPTS - 1:
                    self._executor.shutdown(wait=False)
                    self._executor = None
                    raise
                self.port = free_port(self.host)
                continue
            self._controller = controller
            self._started_once = True
            return

    def stop(self) -> None:
        """Close the listener and all sessions: connecting is refused until start()."""
        controller, executor = self._controller, self._executor
        self._controller = self._executor = None
        if controller is not None:
            controller.stop()
        if executor is not None:
            executor.shutdown(wait=True)
