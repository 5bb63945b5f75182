"""Files beside the database: attachments by content, and quarantined messages as received.

Attachments are content-addressed, so writing the same one twice (a retried pass, the same
photo in two complaints) is harmless. A write that fails is the disk's fault, never the
message's: it becomes `StorageUnavailable`, which stops the pass instead of quarantining
a good complaint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mailflow.errors import StorageUnavailable


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: str  # relative to the storage directory
    size: int


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
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
            with _storage_errors(f"attachment {relative}"):
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_suffix(".part")
                temporary.write_bytes(data)
                temporary.replace(target)
        return StoredFile(digest, str(relative), len(data))

    def save_quarantined(self, name: str, raw: bytes) -> str:
        relative = Path("quarantine") / f"{name}.eml"
        with _storage_errors(f"quarantined message {relative}"):
            target = self.directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
        return str(relative)
