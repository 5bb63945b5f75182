"""Pure rules about tickets: the facts decisions read, numbers, and what a complaint lacks.

The procedure asks residents for valid identity and a clear description; a
complaint without them is still a ticket, in `perlu_data`, and the
acknowledgement says exactly what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from mailflow.core.identity import Identity
from mailflow.vocabulary import Channel, EventKind, Missing, Priority, Status


@dataclass(frozen=True)
class TicketFacts:
    """What a decision may read of a ticket: plain data, so plans are tested without a database.

    `ack_message_id` is the acknowledgement's Message-ID: every later message to the
    reporter threads under it.
    """

    number: str
    status: Status
    received_at: datetime
    due_date: date
    subject: str
    description: str
    channel: Channel = Channel.EMAIL
    priority: Priority = Priority.SEDANG
    assignee: str | None = None
    missing: tuple[Missing, ...] = ()
    ack_message_id: str | None = None
    # Why the priority was suggested (core/priority.py Suggestion.reason_text; no identity),
    # and who set it: SYSTEM, or the staff address whose `#prioritas` won (never re-suggested).
    priority_reason: str = ""
    priority_set_by: str = "system"


SYSTEM = "system"  # priority_set_by of a suggested priority


@dataclass(frozen=True)
class EventPlan:
    """One line for a ticket's audit trail; the handler stamps it with the time."""

    kind: EventKind
    actor: str
    note: str = ""
    from_status: Status | None = None
    to_status: Status | None = None
    message_id: str | None = None
    auth: str = ""


def parse_missing(stored: str) -> tuple[Missing, ...]:
    """The stored comma-separated list back as values (unknown words are dropped)."""
    known = {m.value for m in Missing}
    return tuple(Missing(m) for m in stored.split(",") if m in known)


MIN_DESCRIPTION_WORDS = 5
MIN_DESCRIPTION_CHARS = 25
_WORD = re.compile(r"\w{2,}")


@dataclass(frozen=True)
class Assessment:
    missing: tuple[Missing, ...]
    nik_problem: str | None = None

    @property
    def status(self) -> Status:
        return Status.PERLU_DATA if self.missing else Status.DITERIMA


def assess(identity: Identity, description: str) -> Assessment:
    missing: list[Missing] = []
    if not identity.name:
        missing.append(Missing.NAME)
    if not identity.nik or not identity.nik_valid:
        missing.append(Missing.NIK)
    if not description_is_clear(description):
        missing.append(Missing.DESCRIPTION)
    return Assessment(tuple(missing), identity.nik_problem if identity.nik else None)


def description_is_clear(description: str) -> bool:
    text = description.strip()
    return len(text) >= MIN_DESCRIPTION_CHARS and len(_WORD.findall(text)) >= MIN_DESCRIPTION_WORDS


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year:04d}-{sequence:05d}"
