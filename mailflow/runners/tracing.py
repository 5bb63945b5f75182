"""What `mailflow trace` finds a message by, gathered while intake reads it.

Each intake record carries the message's Message-ID, its arrival (INTERNALDATE) and a keyed
digest of its sender (never the address: core/intake_trace.py); skipped messages are kept in
a queue and written in one insert with the chunk's last UID, because a first pass over a big
mailbox skips thousands and one row each would cost more than the pass itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailflow.adapters.imap import FetchedHeader
from mailflow.core.intake_trace import sender_digest
from mailflow.core.parse import ParsedMessage, parse_head
from mailflow.store.files import FileStore


class Tracer:
    def __init__(self, files: FileStore) -> None:
        self._files = files
        self._sender_key: bytes | None = None  # read from the storage directory when first needed
        self._skipped: list[dict[str, Any]] = []

    def fields(self, header: FetchedHeader, msg: ParsedMessage | None) -> dict[str, Any]:
        """The trace columns of one message's intake record."""
        if msg is None:
            try:
                msg = parse_head(header.header)
            except Exception:  # noqa: BLE001 - a hostile header block: its arrival is still known
                return {"message_id": None, "received_at": header.internaldate,
                        "sender_digest": None}
        if self._sender_key is None and msg.from_addr:
            self._sender_key = self._files.sender_key()
        return {"message_id": msg.message_id, "received_at": header.internaldate,
                "sender_digest": sender_digest(msg.from_addr, self._sender_key or b"")}

    def skip(self, mailbox: str, uidvalidity: int, header: FetchedHeader, reason: str,
             head: ParsedMessage | None, now: datetime) -> None:
        self._skipped.append(dict(mailbox=mailbox, uidvalidity=uidvalidity, uid=header.uid,
                                  reason=reason, created_at=now, **self.fields(header, head)))

    def take_skipped(self) -> list[dict[str, Any]]:
        """The queued skipped messages, emptying the queue (written with the last UID)."""
        skipped, self._skipped = self._skipped, []
        return skipped
