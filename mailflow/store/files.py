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
from collections.abc import Iterator
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


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` as a 0600 file, whatever the umask and whatever was there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(descriptor, PRIVATE_FILE)
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
        digest = hashlib.sha256(data).hexdigest()
        relative = Path("attachments") / digest[:2] / digest
        target = self.directory / relative
        if not target.exists():
            with storage_errors(f"attachment {relative}"):
                private_directories(target.parent)
                temporary = target.with_suffix(".part")
                write_private(temporary, data)
                temporary.replace(target)
        return StoredFile(digest, str(relative), len(data))

    def save(self, attachment: Attachment) -> StoredFile:
        """An attachment in memory is written; one decoded to a spool file is moved in."""
        spilled = attachment.spilled
        if spilled is None:
            return self.save_attachment(attachment.data)
        relative = Path("attachments") / spilled.sha256[:2] / spilled.sha256
        target = self.directory / relative
        if not target.exists():
            with storage_errors(f"attachment {relative}"):
                private_directories(target.parent)
                shutil.move(spilled.path, target)  # a copy if attachments/ is another disk
        return StoredFile(spilled.sha256, str(relative), spilled.size)

    def save_quarantined_file(self, name: str, source: Path) -> str:
        """A quarantined message that is on disk already (a spooled one), copied in pieces."""
        relative = Path("quarantine") / f"{name}.eml"
        with storage_errors(f"quarantined message {relative}"):
            target = self.directory / relative
            private_directories(target.parent)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                                 PRIVATE_FILE)
            with os.fdopen(descriptor, "wb") as out, source.open("rb") as handle:
                os.fchmod(descriptor, PRIVATE_FILE)
                shutil.copyfileobj(handle, out)
        return str(relative)

    def save_quarantined(self, name: str, raw: bytes) -> str:
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

