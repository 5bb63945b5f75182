"""Waiting for new mail with IMAP IDLE (RFC 2177) on a connection of its own.

The daemon keeps one more logged-in connection to the folder, in IDLE between its passes:
the server then says `* N EXISTS` as soon as a message arrives, and a pass runs at once
instead of at the next poll. The connection stays in IDLE during a pass too, so a message
that arrives meanwhile is still announced (and read) afterwards. IDLE is re-issued every
`renew_seconds` (servers may drop an IDLE after 30 minutes). The wait also watches a file
descriptor of the caller's (the daemon's self-pipe), so a signal ends it at once.

What to do with it (when to wait, for how long, what to do when it fails) is the daemon's.
"""

from __future__ import annotations

import logging
import select
import ssl
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from mailflow.adapters.imap import NETWORK_ERRORS, ImapSession, ImapSource
from mailflow.errors import ImapUnavailable

log = logging.getLogger(__name__)


class ImapWaiter:
    """One connection in IDLE on the configured folder. Use: open(), then wait() as often as
    needed, close() at the end; any IMAP failure is `ImapUnavailable` (or `LoginRefused`)."""

    def __init__(self, source: ImapSource, renew_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._renew = renew_seconds
        self._clock = clock
        self._stack = ExitStack()
        self._session: ImapSession | None = None
        self._idle_since = 0.0
        self._silent_reads = 0

    def open(self) -> bool:
        """Log in, select the folder and start IDLE; False (and closed) when the server does
        not offer IDLE."""
        self._session = self._stack.enter_context(self._source.session())
        try:
            client = self._session.client  # SELECTs the folder
            typ, data = client.capability()
            capabilities = set(data[-1].decode("ascii", "replace").upper().split())
            if typ != "OK" or "IDLE" not in capabilities:
                self.close()
                return False
            self._start()
        except NETWORK_ERRORS as exc:
            self.close()
            raise ImapUnavailable(f"IMAP IDLE: {exc}") from exc
        return True

    def wait(self, seconds: float, wake_fd: int) -> bool:
        """Up to `seconds` in IDLE; True when the server announced new mail, False when the
        time passed or `wake_fd` became readable (the caller reads it)."""
        try:
            fresh = self._renew_if_due()
            if fresh:
                return True
            sock = self._box.client.sock
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not pending:
                # No longer than until the IDLE is to be renewed.
                renew_in = self._idle_since + self._renew - self._clock()
                ready, _, _ = select.select([sock, wake_fd], [], [],
                                            max(0.0, min(seconds, renew_in)))
                if sock not in ready:
                    return False
            return self._read()
        except NETWORK_ERRORS as exc:
            raise ImapUnavailable(f"IMAP IDLE: {exc}") from exc

    def close(self) -> None:
        """End IDLE and log out, quietly: the connection may be gone already."""
        session, self._session = self._session, None
        if session is not None:
            box: Any = session._box  # the session's MailBox, within the adapter
            try:
                box.idle.stop()
            except Exception:
                log.debug("imap IDLE end failed", exc_info=True)
        try:
            self._stack.close()  # logs out
        except Exception:
            log.debug("imap IDLE logout failed", exc_info=True)

    # -- inside -----------------------------------------------------------------------------

    @property
    def _box(self) -> Any:
        if self._session is None:
            raise ImapUnavailable("IMAP IDLE: the connection is closed")
        return self._session._box

    def _start(self) -> None:
        self._box.idle.start()
        self._idle_since = self._clock()
        self._silent_reads = 0

    def _renew_if_due(self) -> bool:
        """Re-issue IDLE when it is `renew_seconds` old; True when the server announced new
        mail in between (untagged responses before the end of the old IDLE)."""
        if self._clock() - self._idle_since < self._renew:
            return False
        _result, responses = self._box.idle.stop()
        self._start()
        log.debug("imap IDLE renewed")
        return any(_announces_mail(line) for line in responses)

    def _read(self) -> bool:
        lines: list[bytes] = self._box.idle.poll(timeout=0)
        if any(line.startswith(b"* BYE") for line in lines):
            raise ImapUnavailable("IMAP IDLE: the server closed the connection (BYE)")
        if not lines:
            # Readable with nothing to read, twice: the server closed the connection.
            self._silent_reads += 1
            if self._silent_reads >= 2:
                raise ImapUnavailable("IMAP IDLE: the connection was closed")
            return False
        self._silent_reads = 0
        return any(_announces_mail(line) for line in lines)


def _announces_mail(line: bytes) -> bool:
    """`* 12 EXISTS`: the folder has grown (or been re-counted), so a pass is due."""
    parts = line.split()
    return len(parts) >= 3 and parts[0] == b"*" and parts[2].upper() == b"EXISTS"
