"""A group's answer to "may this message be known already?", read once (store/group_lookups.py).

The answer is only ever used to skip a query whose answer would be "no": a key the group did
not ask about, or one found, or one of a message taken earlier in the same group, still goes
to the database (runners/intake.py `_handle`). It lives for one group's transaction, so what
it read cannot change under it: other processes do not take this mailbox (the lease), and a
write of the same key by one that did would fail on the unique key and end the pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from mailflow.core.intake_rules import content_key, message_key
from mailflow.core.parse import ParsedMessage
from mailflow.store.db import Session
from mailflow.store.group_lookups import known_contents, known_message_keys

__all__ = ["KnownKeys"]


class KnownKeys:
    def __init__(self) -> None:
        self._asked: set[str] = set()
        self._found: set[str] = set()

    def load(self, session: Session, scope: str, messages: Iterable[ParsedMessage],
             repeat_since: datetime) -> None:
        """Ask, for all of `messages` at once, which message and content keys are known."""
        messages = list(messages)
        keys = sorted({message_key(msg) for msg in messages})
        contents = sorted({key for msg in messages if (key := content_key(msg)) is not None})
        self._asked = {*keys, *contents}
        self._found = (known_message_keys(session, scope, keys)
                       | known_contents(session, scope, contents, repeat_since))

    def may_be_known(self, key: str) -> bool:
        """False only when the group asked about `key` and the database does not have it."""
        return key not in self._asked or key in self._found

    def taken(self, *keys: str | None) -> None:
        """A message of the group was acted on: its keys may be in the database now."""
        self._found.update(key for key in keys if key is not None)

    def clear(self) -> None:
        self._asked, self._found = set(), set()
