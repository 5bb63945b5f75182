"""What the parser hands to the intake, and the bounds every stage of it keeps to.

The result types sit apart from the stages that fill them so that charsets, headers
and body can share the problem notes and the limits without importing one another.
Problem notes are logged by the intake, which is why they are capped here once for
all stages and why no stage may put an address, a subject or a file name in one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

__all__ = [
    "HEADER_CONTROL",
    "MAX_ADDRESS_CHARS",
    "MAX_DEPTH",
    "MAX_FILENAME",
    "MAX_HEADERS",
    "MAX_HEADER_CHARS",
    "MAX_HTML_CHARS",
    "MAX_PARTS",
    "MAX_PROBLEMS",
    "MAX_RECIPIENTS",
    "MAX_REFERENCES",
    "Attachment",
    "ParsedMessage",
    "Problems",
    "Spilled",
]

# Bounds against mail built to exhaust time, memory or the stack.
MAX_PARTS = 100
MAX_DEPTH = 20
MAX_HEADERS = 1000
MAX_HEADER_CHARS = 20_000
MAX_HTML_CHARS = 2_000_000
MAX_PROBLEMS = 50
MAX_FILENAME = 120
# What is read of a header whose length the sender chooses: message ids of References and
# In-Reply-To (a real thread cites a few dozen), addresses of To and the characters they
# are read from. Everything downstream (lookups, the acknowledgement's own References)
# then has a bound it can rely on.
MAX_REFERENCES = 50
MAX_RECIPIENTS = 50
MAX_ADDRESS_CHARS = 20_000

# Characters that never stay in a one-line value or in a note: controls and lone surrogates.
HEADER_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Spilled:
    """An attachment decoded straight to a file while the message was read (core/parse/spill.py),
    so a 25 MB photo is never held in memory. `path` is where it waits until it is stored."""

    path: str
    size: int
    sha256: str
    # Decoded exactly as the email package decodes the part (well-formed base64, padding at
    # most missing); False: a part made of it is read from the whole message instead.
    exact: bool = True


@dataclass(frozen=True)
class Attachment:
    """One file of a message: its bytes in `data`, or, for a large one, in `spilled`'s file."""

    filename: str
    content_type: str
    data: bytes
    inline: bool
    spilled: Spilled | None = None

    @property
    def size(self) -> int:
        return self.spilled.size if self.spilled is not None else len(self.data)

    def sha256(self) -> bytes:
        if self.spilled is not None:
            return bytes.fromhex(self.spilled.sha256)
        return hashlib.sha256(self.data).digest()


@dataclass(frozen=True)
class ParsedMessage:
    subject: str
    from_addr: str | None
    from_name: str | None
    reply_to: str | None
    to_addrs: tuple[str, ...]
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date_header: str | None
    headers: tuple[tuple[str, str], ...]
    content_type: str
    text: str
    html_only: bool
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...]
    # What the intake derives from the message and asks for several times a message (its
    # content key, core/intake_rules.py), kept with it: not part of what it says, so neither
    # compared nor hashed, and gone with the message. Not an argument (init=False): a copy
    # made with dataclasses.replace, which may say something else, starts with its own.
    derived: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False,
                                           repr=False, init=False)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


class Problems(list[str]):
    """Notes without repeats and with a cap, so a hostile message cannot flood the log."""

    def add(self, note: str) -> None:
        if note in self:
            return
        if len(self) < MAX_PROBLEMS:
            self.append(note)
        elif len(self) == MAX_PROBLEMS:
            self.append("further problems omitted")
