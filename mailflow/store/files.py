"""Files beside the database: attachments by content, and quarantined messages as received.

Attachments are content-addressed, so writing the same one twice (a retried pass, the same
photo in two complaints) is harmless. A write that fails is the disk's fault, never the
message's: it becomes `StorageUnavailable`, which stops the pass instead of quarantining
a good complaint.

Everything mailflow stores holds residents' identities (KTP photos, NIKs, the messages
themselves), so every file it creates is 0600 and every directory 0700, set explicitly
rather than left to the umask: outside the systemd unit (UMask=0027) a shell's 022 would
make them world-readable.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mailflow.core.parse.model import Attachment
from mailflow.errors import StorageUnavailable

PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700
#: In the storage directory: the key of the senders' digests that `mailflow trace` searches.
SENDER_KEY_FILE = "sender-digest.key"


def private_directories(path: Path) -> None:
    """Create `path` and its missing parents, each 0700; existing ones are left as they are
    (an administrator may have chosen a group for backups)."""
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIRECTORY)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(directory, PRIVATE_DIRECTORY)  # mkdir's mode passes through the umask


def create_private_file(path: Path) -> None:
    """Create `path` empty and 0600 unless it exists, so that whoever fills it (SQLite, with
    its -wal and -shm files, which take the database's mode) starts from a private file."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    finally:
        os.close(descriptor)


def write_private(path: Path, data: bytes | Path) -> None:
    """Write `data` (bytes, or the file at that path, copied in pieces) to `path` as a 0600
    file, whatever the umask and whatever was there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(descriptor, PRIVATE_FILE)
        if isinstance(data, Path):
            with data.open("rb") as source:
                shutil.copyfileobj(source, handle)
        else:
            handle.write(data)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: str  # relative to the storage directory
    size: int


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable(f"cannot write {what}: {exc.strerror or exc}") from exc


class FileStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save_attachment(self, data: bytes) -> StoredFile:
        def write(target: Path) -> None:
            temporary = target.with_suffix(".part")
            write_private(temporary, data)
            temporary.replace(target)

        return self._stored(hashlib.sha256(data).hexdigest(), len(data), write)

    def save(self, attachment: Attachment) -> StoredFile:
        """An attachment in memory is written; one decoded to a spool file is moved in."""
        spilled = attachment.spilled
        if spilled is None:
            return self.save_attachment(attachment.data)
        # shutil.move copies when attachments/ is on another disk than spool/.
        return self._stored(spilled.sha256, spilled.size,
                            lambda target: shutil.move(spilled.path, target))

    def _stored(self, digest: str, size: int, write: Callable[[Path], object]) -> StoredFile:
        """Content-addressed: `write` puts the file at its place unless it is there already."""
        relative = Path("attachments") / digest[:2] / digest
        target = self.directory / relative
        if not target.exists():
            with storage_errors(f"attachment {relative}"):
                private_directories(target.parent)
                write(target)
        return StoredFile(digest, str(relative), size)

    def save_quarantined(self, name: str, raw: bytes | Path) -> str:
        """The message as received: its bytes, or its spool file (a large one), copied."""
        relative = Path("quarantine") / f"{name}.eml"
        with storage_errors(f"quarantined message {relative}"):
            target = self.directory / relative
            private_directories(target.parent)
            write_private(target, raw)
        return str(relative)

    def sender_key(self, *, create: bool = True) -> bytes | None:
        """The key of the senders' digests (core/intake_trace.py): 32 random bytes in
        `sender-digest.key`, made 0600 on first use. Kept beside the database, not in it, so
        a copy of the database alone cannot test guessed addresses. None when it does not
        exist and `create` is False (a command that only reads must not make it)."""
        path = self.directory / SENDER_KEY_FILE
        try:
            return path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {path}: {exc.strerror or exc}") from exc
        with storage_errors(f"the sender key {SENDER_KEY_FILE}"):
            private_directories(self.directory)
            temporary = path.with_name(f".{SENDER_KEY_FILE}.{os.getpid()}")
            write_private(temporary, os.urandom(32))
            try:
                os.link(temporary, path)  # never replaces a key another process just made
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
            return path.read_bytes()

