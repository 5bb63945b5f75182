"""A large message on disk while it is taken: fetched in pieces, its big attachments decoded
to files of their own, all of it removed when the message is done (issue 10: a 25 MB photo
must not cost a hundred megabytes of memory).

The files live under the storage directory's `spool/`, 0600 like everything else there,
because they are residents' messages. A process killed mid-message leaves its files
behind; the next spool sweeps those older than a day.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from pathlib import Path
from typing import BinaryIO

from mailflow.core.parse.model import Spilled
from mailflow.core.parse.spill import MIN_RUN, Reduced, reduce_message
from mailflow.store.files import PRIVATE_FILE, private_directories, storage_errors

__all__ = ["MessageSpool", "SpillFile"]

SPOOL = "spool"
_STALE_SECONDS = 24 * 3600
# A line longer than this is read in pieces: a base64 body without line breaks stays bounded.
_LINE_LIMIT = 64 * 1024


def _create(path: Path) -> BinaryIO:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    os.fchmod(descriptor, PRIVATE_FILE)
    return os.fdopen(descriptor, "wb")


class SpillFile:
    """One decoded attachment being written (a core/parse/spill.py Sink), hashed as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = _create(path)
        self._digest = hashlib.sha256()
        self._size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self._size += len(data)

    def finish(self) -> Spilled:
        self._handle.close()
        return Spilled(str(self.path), self._size, self._digest.hexdigest())

    def close(self) -> None:
        self._handle.close()


class MessageSpool:
    """The whole message as fetched (`write`), then made small for the parser (`reduce`)."""

    def __init__(self, storage: Path, uid: int) -> None:
        directory = storage / SPOOL
        self._stem = directory / f"{os.getpid()}-{uid}-{secrets.token_hex(4)}"
        self.raw_path = self._stem.with_suffix(".eml")
        self._spills: list[SpillFile] = []
        self.size = 0
        # A disk that is full or read-only is never the message's fault: StorageUnavailable
        # ends the pass, and the message is taken again by a later one (store/files.py).
        with storage_errors(f"the spool {directory}"):
            private_directories(directory)
            _sweep(directory)
            self._raw = _create(self.raw_path)

    def write(self, piece: bytes) -> None:
        with storage_errors(f"the spooled message {self.raw_path.name}"):
            self._raw.write(piece)
        self.size += len(piece)

    def reduce(self, min_run: int = MIN_RUN) -> Reduced:
        """The message with its long base64 runs in files of their own (spill.reduce_message)."""

        def open_sink() -> SpillFile:
            sink = SpillFile(self._stem.with_suffix(f".{len(self._spills)}.bin"))
            self._spills.append(sink)
            return sink

        with storage_errors(f"the spooled message {self.raw_path.name}"):
            self._raw.close()
            with self.raw_path.open("rb") as handle:
                lines = iter(lambda: handle.readline(_LINE_LIMIT), b"")
                return reduce_message(lines, open_sink, nonce=secrets.token_hex(16),
                                      min_run=min_run)

    def whole(self) -> bytes:
        """All of it in memory: for the rare reader that needs every byte (DKIM, a fallback)."""
        with storage_errors(f"the spooled message {self.raw_path.name}"):
            self._raw.close()
            return self.raw_path.read_bytes()

    def close(self) -> None:
        """Remove whatever of the message is still here (stored attachments were moved); a
        file that cannot be removed is left for the sweep, not raised over the message."""
        self._raw.close()
        for sink in self._spills:
            sink.close()
        for path in (self.raw_path, *(sink.path for sink in self._spills)):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                continue


def _sweep(directory: Path) -> None:
    """Files left by a process killed mid-message; a day old, so never a live one's."""
    limit = time.time() - _STALE_SECONDS
    for entry in os.scandir(directory):
        try:
            if entry.is_file() and entry.stat().st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            continue
