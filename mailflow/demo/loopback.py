"""An IMAP server on loopback for `mailflow demo` and for tests on machines without Dovecot.

`EmbeddedIMAP` runs pymap (in-memory) in a thread of its own; `LoopbackIMAP` is what
the demo and the tests need of it, which the tests' private Dovecot offers too. The
SMTP side (`LoopbackSMTP`, delivering into these mailboxes) is in mailflow.demo.smtp.

Both servers refuse any address outside 127.0.0.0/8: the demo and the tests must never
listen on, or talk to, anything but this machine. pymap differs from real servers
in ways mailflow copes with: UIDs start at 101, custom keywords are dropped
silently (PERMANENTFLAGS lacks ``\\*``, so a client can tell), INTERNALDATE keeps
the offset it was given, and unsolicited FETCH (FLAGS) responses are mixed into
other commands' answers.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import imaplib
import ipaddress
import logging
import socket
import threading
from collections.abc import Mapping
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

# How often a server's start() picks another free port when the one it picked was taken meanwhile.
PORT_ATTEMPTS = 5
# The name both servers greet with; a fixed one avoids socket.getfqdn(), which can ask DNS.
GREETING_NAME = "localhost"
# Dovecot replaces an APPEND date further ahead than this with the arrival time, silently.
MAX_FUTURE_INTERNALDATE = timedelta(hours=2)


def require_loopback(host: str) -> str:
    """Refuse any listening or connecting address outside 127.0.0.0/8.

    The demo and the tests run servers with throwaway passwords; binding them to a
    real interface, or pointing them at one, would expose or disturb other machines.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r}: give a 127.x.y.z address, not a name") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"{host!r} is outside 127.0.0.0/8; the loopback servers never use it")
    return host


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now (the kernel's choice for port 0).

    Servers that cannot report the port they bound (Dovecot) or must keep one port
    across restarts (the SMTP outage tests) need a concrete number up front; the
    callers retry with another if someone takes it before they bind.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((require_loopback(host), 0))
        return int(sock.getsockname()[1])


def port_in_use(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE


def imap_append(host: str, port: int, user: str, password: str, raw: bytes,
                internaldate: datetime | None = None, folder: str = "INBOX") -> None:
    """Deliver one message by IMAP APPEND, as that user.

    APPEND keeps the server's own indexes right (nothing writes into its storage
    behind its back) and works the same on every server. `internaldate` must be
    timezone-aware; None lets the server stamp its own arrival time, as real
    delivery does. A date more than 2 h ahead of the clock is refused: Dovecot
    would silently store the arrival time instead, and pymap would not, so a test
    would pass or fail by backend and clock. A missing folder is created (on
    `[TRYCREATE]`), so tests can fill folders other than INBOX. imaplib sends bare
    LF line ends as CRLF, the only line end IMAP knows.
    """
    if internaldate is not None and internaldate > datetime.now(UTC) + MAX_FUTURE_INTERNALDATE:
        raise ValueError(f"INTERNALDATE {internaldate.isoformat()} is in the future; Dovecot "
                         f"would store the arrival time instead")
    client = imaplib.IMAP4(require_loopback(host), port, timeout=30)
    # imaplib writes a literal and its closing CRLF separately; with Nagle on, the CRLF
    # waits for the server's delayed ACK, 40 ms per APPEND against pymap.
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        client.login(user, password)
        when = imaplib.Time2Internaldate(internaldate) if internaldate is not None else None
        typ, data = client.append(folder, None, when, raw)
        if typ == "NO" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)):
            client.create(folder)
            typ, data = client.append(folder, None, when, raw)
        if typ != "OK":
            raise RuntimeError(f"APPEND to {folder} for {user} refused: {data!r}")
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


class LoopbackIMAP(Protocol):
    """What the demo and the tests need of an IMAP server on loopback.

    EmbeddedIMAP and the tests' private Dovecot (tests/harness/servers.py) both offer
    it, so an end-to-end test runs unchanged against either.
    """

    host: str
    port: int
    users: dict[str, str]

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def add_user(self, user: str, password: str) -> None: ...
    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None,
                folder: str = "INBOX") -> None: ...


class AppendDelivery:
    """`deliver` for a server with `host`, `port` and `users`: IMAP APPEND as the user.

    Shared by EmbeddedIMAP and the tests' Dovecot so that both fill mailboxes the same
    way, through the server's front door (see `imap_append`).
    """

    host: str
    port: int
    users: dict[str, str]

    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None,
                folder: str = "INBOX") -> None:
        """IMAP APPEND as that user; a user the server lacks is a KeyError, not a login failure."""
        if user not in self.users:
            raise KeyError(f"{user} has no mailbox on this server")
        imap_append(self.host, self.port, user, self.users[user], raw, internaldate, folder)


class EmbeddedIMAP(AppendDelivery):
    """pymap (dict backend, in memory) running in a background thread with its own event loop.

    A thread of its own lets synchronous callers (the demo, pytest, imaplib) use
    it like any external server. Passwords are kept in clear text: they are
    loopback test accounts, and pymap's default PBKDF2 would cost ~0.1 s of CPU
    per login, which every `deliver` pays. Only pymap's IMAP service is started,
    without STARTTLS (it has no certificate to offer) and without its demo user.
    """

    def __init__(self, users: Mapping[str, str], host: str = "127.0.0.1", port: int = 0) -> None:
        """`port` 0 picks a free port; `users` maps login (e-mail address) to password."""
        self.users: dict[str, str] = dict(users)
        self.host = require_loopback(host)
        self._auto_port = port == 0
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stack: AsyncExitStack | None = None
        self._backend: Any = None
        self._config: Any = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Listen on `host`:`port`; returns once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("embedded IMAP server is already running")
        # pymap logs every command at DEBUG and each connection at INFO; keep the
        # demo's and the tests' output readable unless someone asked for it.
        pymap_log = logging.getLogger("pymap")
        if pymap_log.level == logging.NOTSET:
            pymap_log.setLevel(logging.WARNING)
        for attempt in range(PORT_ATTEMPTS):
            try:
                self._start_thread()
                return
            except OSError as exc:
                if not (self._auto_port and port_in_use(exc)) or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port(self.host)

    def _start_thread(self) -> None:
        """Run a fresh event loop in a thread, then open the server in it from here.

        Opening through run_coroutine_threadsafe hands any failure (a taken port,
        a pymap error) straight back to this thread with its traceback.
        """
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run, args=(loop,),
                                  name=f"embedded-imap-{self.port}", daemon=True)
        thread.start()
        try:
            stack = asyncio.run_coroutine_threadsafe(self._open(), loop).result(timeout=30)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            raise
        self._loop, self._thread, self._stack = loop, thread, stack

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        """The server thread: serve until stop(), then release what the loop holds."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            with suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _open(self) -> AsyncExitStack:
        from pymap.backend.dict import Config, DictBackend, Login
        from pymap.concurrent import Subsystem
        from pymap.service import services
        from pysasl.hashing import Cleartext

        class LoopbackConfig(Config):
            @property
            def greeting(self) -> bytes:
                # pymap's own greeting calls socket.getfqdn() on every connection.
                return b"Server ready " + GREETING_NAME.encode("ascii")

        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(dest="backend")
        DictBackend.add_subparser("dict", sub)
        services["imap"].add_arguments(parser)
        parser.set_defaults(skip_services=[], passlib_cfg=None, debug=False)
        args = parser.parse_args(["--host", self.host, "--port", str(self.port), "--no-tls",
                                  "dict"])
        # Built like DictBackend.init, minus the demo account (demouser/demopass) it adds.
        config = LoopbackConfig.from_args(args, hash_context=Cleartext(),
                                          cpu_subsystem=Subsystem.for_asyncio())
        config.apply_context()
        self._config = config
        self._backend = DictBackend(Login(config), config)
        for user, password in self.users.items():
            await self._set_user(user, password)
        stack = AsyncExitStack()
        try:
            await self._backend.start(stack)
            await services["imap"](self._backend, config).start(stack)
        except BaseException:
            await stack.aclose()
            raise
        return stack

    async def _set_user(self, user: str, password: str) -> None:
        from pymap.backend.dict import Identity
        from pymap.user import Passwords, UserMetadata

        hashed = await Passwords(self._config).hash_password(password)
        metadata = UserMetadata(self._config, user, password=hashed)
        await Identity(user, self._backend.login, None, frozenset()).set(metadata)

    @staticmethod
    async def _close(stack: AsyncExitStack | None) -> None:
        """Close the listener, then end open client sessions so none outlives the loop."""
        if stack is not None:
            await stack.aclose()
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def stop(self) -> None:
        """Stop listening, drop open sessions, and end the thread; the mail is gone."""
        loop, thread, stack = self._loop, self._thread, self._stack
        if loop is None or thread is None:
            return
        self._loop = self._thread = self._stack = None
        try:
            asyncio.run_coroutine_threadsafe(self._close(stack), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
        if thread.is_alive():
            raise RuntimeError("embedded IMAP thread did not end within 30 s")

    def add_user(self, user: str, password: str) -> None:
        """Create (or re-password) an account, also while running."""
        self.users[user] = password
        if self._loop is not None:
            future = asyncio.run_coroutine_threadsafe(self._set_user(user, password), self._loop)
            future.result(timeout=30)
