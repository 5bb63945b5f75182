"""Mail servers on loopback for `mailflow demo` and for tests on machines without Dovecot.

`EmbeddedIMAP` runs pymap (in-memory) in a thread of its own; `LoopbackSMTP` runs
aiosmtpd and delivers what it accepts into the recipients' IMAP mailboxes, so a
resident's acknowledgement can be read back exactly as a mail client would.
pymap differs from real servers in ways mailflow copes with: UIDs start at 101,
custom keywords are dropped silently, and unsolicited FETCH responses are mixed
into other commands' answers.
"""

from __future__ import annotations

import argparse
import asyncio
import imaplib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def imap_append(host: str, port: int, user: str, password: str, raw: bytes,
                internaldate: datetime | None = None, folder: str = "INBOX") -> None:
    """Deliver by IMAP APPEND, which keeps the server's own indexes right."""
    client = imaplib.IMAP4(host, port, timeout=30)
    try:
        client.login(user, password)
        when = imaplib.Time2Internaldate(internaldate or datetime.now(UTC))
        typ, data = client.append(folder, None, when, raw)
        if typ != "OK":
            raise RuntimeError(f"APPEND for {user} refused: {data!r}")
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


class EmbeddedIMAP:
    """pymap's dict backend with the given users, listening on loopback."""

    def __init__(self, users: Mapping[str, str], host: str = "127.0.0.1", port: int = 0) -> None:
        self.users = dict(users)
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stack: AsyncExitStack | None = None

    async def _start(self) -> AsyncExitStack:
        from pymap.backend import backends
        from pymap.backend.dict import Identity
        from pymap.service import services
        from pymap.user import Passwords, UserMetadata

        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(dest="backend")
        dict_parser = backends["dict"].add_subparser("dict", sub)
        dict_parser.set_defaults(backend_type=backends["dict"])
        services["imap"].add_arguments(parser)
        parser.set_defaults(skip_services=[], passlib_cfg=None, debug=False)
        args = parser.parse_args(["--host", self.host, "--port", str(self.port), "dict"])
        backend, config = await args.backend_type.init(args)
        config.apply_context()
        passwords = Passwords(config)
        for user, password in self.users.items():
            metadata = UserMetadata(config, user, password=await passwords.hash_password(password))
            await Identity(user, backend.login, None, frozenset()).set(metadata)
        stack = AsyncExitStack()
        await backend.start(stack)
        await services["imap"](backend, config).start(stack)
        return stack

    def start(self) -> None:
        logging.getLogger("pymap").setLevel(logging.WARNING)
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._stack = loop.run_until_complete(self._start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="embedded-imap", daemon=True)
        self._thread.start()
        if not started.wait(30) or failure:
            raise RuntimeError(f"embedded IMAP server did not start: {failure[:1]}")

    def stop(self) -> None:
        loop, thread, stack = self._loop, self._thread, self._stack
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(stack), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        self._loop = self._thread = self._stack = None

    @staticmethod
    async def _shutdown(stack: AsyncExitStack | None) -> None:
        """Close the listener, then end open client sessions so none outlives the loop."""
        if stack is not None:
            await stack.aclose()
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None,
                folder: str = "INBOX") -> None:
        imap_append(self.host, self.port, user, self.users[user], raw, internaldate, folder)


class _Handler:
    def __init__(self, owner: LoopbackSMTP) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.owner.tempfail:
            return "451 4.3.0 Temporary failure, try again later"
        if not self.owner.knows(address.lower()):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.owner.tempfail:
            return "451 4.3.0 Temporary failure, try again later"
        raw = envelope.original_content or envelope.content
        rcpts = tuple(a.lower() for a in envelope.rcpt_tos)
        try:
            for rcpt in rcpts:
                await asyncio.get_running_loop().run_in_executor(None, self.owner.deliver, rcpt, raw)
        except Exception:
            log.exception("loopback smtp delivery failed")
            return "451 4.3.0 Delivery failed, try again later"
        self.owner.accepted.append((envelope.mail_from, rcpts, raw))
        return "250 OK delivered"


class LoopbackSMTP:
    """aiosmtpd on loopback; stop() then start() reuses the same port (outage tests)."""

    def __init__(self, deliver: Callable[[str, bytes], None], knows: Callable[[str], bool],
                 host: str = "127.0.0.1", port: int = 0,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.deliver = deliver
        self.tls_context = tls_context
        self.knows = knows
        self.host = host
        self.port = port or free_port(host)
        self.tempfail = False
        self.accepted: list[tuple[str, tuple[str, ...], bytes]] = []
        self._controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        # With a TLS context the server offers STARTTLS (as a submission server does).
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                      ready_timeout=30, tls_context=self.tls_context)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
