"""Looking for any fixture complaint's identity in any text: a mail, a CLI page, a log line.

Every complaint's secrets are looked for in every output, not only its own ticket's: a
leak of one resident's name into another ticket's mail is a leak too. Words are matched
case-insensitively on word boundaries ("Tri" is not found in "listrik"); numbers are
matched on the output with the separators between digits removed, so a NIK or phone
number is found in whatever grouping it was printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import cast

from tests.fixtures.identity_complaints import Complaint

_WORD = re.compile(r"[^\W_]+")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ \t.\-/()+]{1,3}(?=\d)")


@dataclass(frozen=True)
class Leak:
    where: str  # which output: "mail to kasi@... #12", "tickets --json", "log record 301"
    complaint: int
    secret: str


class Secrets:
    """All identity strings of a fixture, ready to be looked for quickly in many outputs."""

    def __init__(self, fixture: Sequence[Complaint]) -> None:
        self.owner: dict[str, int] = {}
        for item in fixture:
            for secret in item.secrets:
                self.owner.setdefault(secret.casefold(), item.index)
        self.numbers = {digits: item.index for item in fixture for digits in item.digits}
        # Looked up by their first word, so each output is scanned once, not once per secret.
        self.by_first: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for secret in self.owner:
            first = _WORD.findall(secret)[0]
            pattern = re.compile(rf"(?<![^\W_]){re.escape(secret)}(?![^\W_])")
            self.by_first.setdefault(first, []).append((secret, pattern))

    @property
    def count(self) -> int:
        return len(self.owner) + len(self.numbers)

    def leaks(self, where: str, text: str) -> list[Leak]:
        folded = text.casefold()
        found = [Leak(where, self.owner[secret], secret)
                 for word in set(_WORD.findall(folded)) & self.by_first.keys()
                 for secret, pattern in self.by_first[word] if pattern.search(folded)]
        collapsed = _BETWEEN_DIGITS.sub("", text)
        found += [Leak(where, index, digits) for digits, index in self.numbers.items()
                  if digits in collapsed]
        return found


def mail_text(raw: bytes) -> str:
    """Everything a mail program shows of a message: decoded headers, every text part,
    attachment names."""
    msg = cast(EmailMessage, message_from_bytes(raw, policy=default))
    pieces = [f"{name}: {value}" for name, value in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_filename():
            pieces.append(f"attachment: {part.get_filename()}")
        if part.get_content_maintype() == "text":
            pieces.append(str(cast(EmailMessage, part).get_content()))
    return "\n".join(pieces)


def all_leaks(secrets: Secrets, outputs: Iterable[tuple[str, str]]) -> tuple[int, list[Leak]]:
    """(how many outputs were examined, every leak in them)."""
    count, leaks = 0, []
    for where, text in outputs:
        count += 1
        leaks += secrets.leaks(where, text)
    return count, leaks
