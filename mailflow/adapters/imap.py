"""The IMAP edge: which messages are new, their headers and bodies, and marking taken ones.

imap-tools handles login, security and folders; the fetches go through its imaplib
client because mailflow needs INTERNALDATE (the time of receipt) and BODY.PEEK
(so that nothing mailflow does not take ever changes, not even \\Seen).
"""

from __future__ import annotations

import functools
import imaplib
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError

from mailflow.adapters.oauth import TokenSource, xoauth2_string
from mailflow.adapters.tls import tls_context
from mailflow.config import ImapConfig
from mailflow.core.uid_sets import UidSet, uid_sets
from mailflow.errors import ImapUnavailable, LoginRefused

log = logging.getLogger(__name__)

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')

# Errors that mean "the server or the network failed": retry on the next pass. They are
# caught only around IMAP calls, so a disk error elsewhere is never taken for an IMAP outage.
NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, imaplib.IMAP4.error,
                  UnexpectedCommandStatusError, EOFError)

# Every command that carries UIDs carries them as ranges (core/uid_sets.py), split into sets
# of at most UID_SET_BYTES: Dovecot refuses a command line over 64 kB, other servers less.
UID_SET_BYTES = 8192
# Messages per STORE or MOVE, so that the server's work per command stays far within
# [imap] timeout_seconds even when a set is one long range.
_MARK_CHUNK = 2000

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _imap_call(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turns the IMAP library's failures inside `method` into `ImapUnavailable`."""
    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except NETWORK_ERRORS as exc:
            raise ImapUnavailable(f"IMAP {method.__name__}: {exc}") from exc
    return wrapper


@dataclass(frozen=True)
class FetchedHeader:
    uid: int
    internaldate: datetime
    size: int
    flags: tuple[str, ...]
    header: bytes


def parse_internaldate(text: str) -> datetime:
    """'28-Nov-2026 09:00:00 +0700' -> an aware datetime (RFC 3501 date-time)."""
    return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z")


def parse_fetch_response(data: Sequence[object]) -> list[FetchedHeader]:
    """Read one UID FETCH response as imaplib returns it.

    Items are (meta, literal) tuples, each usually followed by the bytes that close
    it; servers may put UID or FLAGS after the literal, and some (pymap) interleave
    unsolicited FETCH (FLAGS) lines, which carry no literal and are skipped.
    """
    found: list[FetchedHeader] = []
    for index, item in enumerate(data):
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        meta, literal = item
        trailer = data[index + 1] if index + 1 < len(data) else b""
        if isinstance(trailer, bytes):
            meta = meta + b" " + trailer
        uid, date = _UID.search(meta), _INTERNALDATE.search(meta)
        if uid is None or not isinstance(literal, bytes):
            continue
        size, flags = _SIZE.search(meta), _FLAGS.search(meta)
        found.append(
            FetchedHeader(
                uid=int(uid.group(1)),
                internaldate=_internaldate(date.group(1) if date else None),
                size=int(size.group(1)) if size else len(literal),
                flags=tuple(flags.group(1).decode(errors="replace").split()) if flags else (),
                header=literal,
            )
        )
    return found


_NO_DATE = datetime.fromtimestamp(0).astimezone()


def _internaldate(text: bytes | None) -> datetime:
    """The server's date for one message; one it garbled must not stop the whole chunk."""
    if text is None:
        return _NO_DATE
    try:
        return parse_internaldate(text.decode("ascii"))
    except ValueError:
        log.warning("imap INTERNALDATE unreadable: %r", text[:40])
        return _NO_DATE


class ImapSession:
    """A logged-in connection to one folder. Created by `ImapSource.session()`.

    The folder is SELECTed only when something needs it: SELECT costs the server time
    in proportion to the mailbox (12 ms for 10,000 messages on Dovecot), while STATUS
    answers from its index, so a poll with nothing new costs the same for any size.
    """

    def __init__(self, box: MailBox | MailBoxStartTls | MailBoxUnencrypted, cfg: ImapConfig) -> None:
        self._box = box
        self._cfg = cfg
        self._selected = False
        self._caps: set[str] | None = None
        self.mailbox_key = f"{cfg.username}@{cfg.host}/{cfg.folder}"
        status = box.folder.status(cfg.folder, ["UIDVALIDITY", "UIDNEXT"])
        self.uidvalidity = int(status["UIDVALIDITY"])
        self.uidnext: int | None = int(status["UIDNEXT"]) if "UIDNEXT" in status else None

    @property
    def client(self) -> Any:
        if not self._selected:
            self._box.folder.set(self._cfg.folder)
            self._selected = True
        return self._box.client

    @_imap_call
    def nothing_new(self, last_uid: int) -> bool:
        """True when UIDNEXT shows no message arrived after `last_uid` (no SELECT needed)."""
        return self.uidnext is not None and self.uidnext - 1 <= last_uid

    @_imap_call
    def new_uids(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, cheap whatever the mailbox size.

        `UID SEARCH UID n:*` returns the highest UID even when it is below n (RFC 3501
        reads the range backwards), so UIDs at or below the last one are dropped here.
        """
        typ, data = self.client.uid("SEARCH", f"UID {last_uid + 1}:*")
        _check(typ, data, "UID SEARCH")
        uids = (int(u) for u in (data[0] or b"").split())
        return sorted(u for u in uids if u > last_uid)

    @_imap_call
    def fetch_headers(self, uids: Sequence[int]) -> list[FetchedHeader]:
        found: list[FetchedHeader] = []
        for uid_set in uid_sets(uids, UID_SET_BYTES):
            typ, data = self.client.uid(
                "FETCH", uid_set.text, "(UID INTERNALDATE RFC822.SIZE FLAGS BODY.PEEK[HEADER])")
            _check(typ, data, "UID FETCH headers")
            found.extend(parse_fetch_response(data))
        return sorted(found, key=lambda h: h.uid)

    @_imap_call
    def fetch_raw(self, uid: int) -> bytes | None:
        typ, data = self.client.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        _check(typ, data, "UID FETCH body")
        for item in data:
            if isinstance(item, tuple) and _UID.search(item[0]) and isinstance(item[1], bytes):
                return item[1]
        return None

    @_imap_call
    def fetch_to(self, uid: int, write: Callable[[bytes], object], chunk: int = 1 << 20,
                 size: int = 0) -> int | None:
        """The whole message of `uid` handed to `write` in pieces of `chunk` bytes (partial
        FETCH, RFC 3501 6.4.5), so a 30 MB message is never in memory at once; its size,
        or None when it vanished before its first piece. A short piece ends it only once
        `size` (RFC822.SIZE) bytes came: a server that gives less than it was asked for
        must not cut a complaint short."""
        offset = 0
        while True:
            typ, data = self.client.uid("FETCH", str(uid), f"(UID BODY.PEEK[]<{offset}.{chunk}>)")
            _check(typ, data, "UID FETCH partial body")
            piece = next((item[1] for item in data if isinstance(item, tuple) and len(item) == 2
                          and isinstance(item[1], bytes)), None)
            del data
            if piece is None:
                return offset or None
            write(piece)
            offset += len(piece)
            if not piece or (len(piece) < chunk and offset >= size):
                return offset

    @_imap_call
    def fetch_bodies(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The whole messages of `uids` by UID, in as few UID FETCH commands as the bounded
        sets allow (the caller bounds how many bytes that is); a vanished one is missing."""
        found: dict[int, bytes] = {}
        for uid_set in uid_sets(uids, UID_SET_BYTES):
            typ, data = self.client.uid("FETCH", uid_set.text, "(UID BODY.PEEK[])")
            _check(typ, data, "UID FETCH bodies")
            for index, item in enumerate(data):
                if not isinstance(item, tuple) or len(item) != 2:
                    continue
                meta, literal = item
                trailer = data[index + 1] if index + 1 < len(data) else b""
                uid = _UID.search(meta + b" " + trailer if isinstance(trailer, bytes) else meta)
                if uid is not None and isinstance(literal, bytes):
                    found[int(uid.group(1))] = literal
            del data
        return found

    @staticmethod
    def mark_sets(uids: Sequence[int]) -> list[UidSet]:
        """The taken UIDs as the bounded sets `mark_set` sends, one command each."""
        return uid_sets(uids, UID_SET_BYTES, _MARK_CHUNK)

    @_imap_call
    def mark_set(self, uid_set: UidSet) -> None:
        """Mark taken messages so staff can see it in webmail (a keyword, or a move).

        Any refusal (BAD, NO, a server without MOVE or UIDPLUS, a dropped connection) is
        `ImapUnavailable`; the caller treats marking as best effort (runners/marking.py).
        """
        if self._cfg.mark == "keyword":
            typ, data = self.client.uid("STORE", uid_set.text, "+FLAGS.SILENT",
                                        f"({self._cfg.keyword})")
            _check(typ, data, f"UID STORE of the keyword {self._cfg.keyword}")
        elif self._cfg.mark == "move":
            self._move(uid_set.text)

    def _move(self, uid_set: str) -> None:
        """UID MOVE, or COPY then UID EXPUNGE of exactly these messages.

        A plain EXPUNGE would also remove messages staff flagged \\Deleted in webmail, so
        without MOVE or UIDPLUS nothing is moved and the database alone keeps the record.
        """
        folder = self._cfg.move_to_folder or ""  # the configuration requires one for "move"
        caps = self._move_capabilities(folder)
        quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if "MOVE" in caps:
            typ, data = self.client.uid("MOVE", uid_set, quoted)
            _check(typ, data, "UID MOVE")
            return
        if "UIDPLUS" not in caps:
            raise ImapUnavailable("IMAP server has neither MOVE nor UIDPLUS; taken mail stays "
                                  "in place")
        for command in (("COPY", uid_set, quoted), ("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"),
                        ("EXPUNGE", uid_set)):
            typ, data = self.client.uid(*command)
            _check(typ, data, f"UID {command[0]}")

    def _move_capabilities(self, folder: str) -> set[str]:
        """The server's capabilities, once the folder for taken mail exists (once a session)."""
        if self._caps is None:
            if not self._box.folder.exists(folder):
                self._box.folder.create(folder)
                log.info("imap folder created for taken mail")
            # The greeting's capabilities predate login; servers announce MOVE only after it.
            typ, data = self.client.capability()
            _check(typ, data, "CAPABILITY")
            self._caps = set(data[-1].decode("ascii", "replace").upper().split())
        return self._caps


def _check(typ: str, data: object, what: str) -> None:
    if typ != "OK":
        raise ImapUnavailable(f"IMAP {what} failed: {typ} {data!r}")


class ImapSource:
    """One configured mailbox folder; an explicit object so several can exist later."""

    def __init__(self, cfg: ImapConfig) -> None:
        self.cfg = cfg

    def _connect(self) -> MailBox | MailBoxStartTls | MailBoxUnencrypted:
        cfg = self.cfg
        port, timeout = cfg.effective_port, cfg.timeout_seconds
        if cfg.security == "plain":
            return MailBoxUnencrypted(cfg.host, port, timeout=timeout)
        context = tls_context(cfg.tls_ca_file, "[imap] tls_ca_file")
        if cfg.security == "ssl":
            return MailBox(cfg.host, port, timeout=timeout, ssl_context=context)
        return MailBoxStartTls(cfg.host, port, timeout=timeout, ssl_context=context)

    @contextmanager
    def session(self) -> Iterator[ImapSession]:
        """A logged-in session; only IMAP failures become `ImapUnavailable`, nothing else."""
        try:
            box = self._connect()
            self._login(box)
            imap = ImapSession(box, self.cfg)
        except MailboxLoginError as exc:
            raise LoginRefused(f"IMAP {self.cfg.host}:{self.cfg.effective_port} refused the login "
                               f"of {self.cfg.username!r}; check [imap] username and the "
                               "password") from exc
        except NETWORK_ERRORS as exc:
            raise ImapUnavailable(f"IMAP {self.cfg.host}:{self.cfg.effective_port}: {exc}") from exc
        try:
            yield imap
        finally:
            try:
                box.logout()
            except Exception:
                log.debug("imap logout failed", exc_info=True)

    def _login(self, box: MailBox | MailBoxStartTls | MailBoxUnencrypted) -> None:
        """LOGIN with the password, or AUTHENTICATE XOAUTH2 with an access token.

        A refused token is answered with a challenge (an error in JSON), to which the
        client answers with an empty line before the server's NO (RFC 7628's way).
        """
        cfg = self.cfg
        if cfg.auth != "xoauth2":
            box.login(cfg.username, cfg.secret(), initial_folder=None)
            return
        tokens = TokenSource(cfg, "imap", ImapUnavailable)
        answers = iter([xoauth2_string(cfg.username, tokens.token()).encode()])
        try:
            box.client.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            tokens.forget()
            raise LoginRefused(f"IMAP {cfg.host}:{cfg.effective_port} refused the XOAUTH2 login "
                               f"of {cfg.username!r} ({exc}); {tokens.refused_hint()}") from exc

    def probe(self) -> str:
        """Log in and look at the folder, for `mailflow check`; what was found, in one line."""
        with self.session() as imap:
            unseen = "" if imap.uidnext is None else f", next UID {imap.uidnext}"
            return (f"logged in to {self.cfg.host}:{self.cfg.effective_port} ({self.cfg.security}) "
                    f"as {self.cfg.username}, folder {self.cfg.folder!r} (UIDVALIDITY "
                    f"{imap.uidvalidity}{unseen})")
