"""What one intake pass did, counted: the daemon's STATUS, `poll --once` and the metrics read it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from mailflow.vocabulary import IntakeOutcome

# Ticket numbers a pass keeps, the first ones, for a person to read (the demo's summary); the
# count is `tickets`. Every number of a pass was 70 bytes a ticket held to its end: 5.6 MB
# over an 80,000-complaint backlog, the one thing in a pass that grew with it (issue 10).
NUMBERS_KEPT = 100


@dataclass
class IntakeStats:
    examined: int = 0
    skipped: int = 0
    tickets: int = 0
    replies: int = 0
    ignored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    already_done: int = 0
    before_start: int = 0  # in the mailbox before the first start: not taken
    before_start_recorded: int = 0  # of those, with a complaint subject: recorded as such
    ticket_numbers: list[str] = field(default_factory=list)  # the first NUMBERS_KEPT

    def count(self, outcome: IntakeOutcome, ticket_number: str | None) -> None:
        """Count one message's outcome (a new ticket counts with its number)."""
        if outcome is IntakeOutcome.TICKET and ticket_number is not None:
            self.tickets += 1
            if len(self.ticket_numbers) < NUMBERS_KEPT:
                self.ticket_numbers.append(ticket_number)
        elif outcome in (IntakeOutcome.STAFF, IntakeOutcome.REPLY):
            self.replies += 1
        elif outcome is IntakeOutcome.DUPLICATE:
            self.duplicates += 1
        else:
            self.ignored += 1

    def mark(self) -> tuple[IntakeStats, int]:
        """What `restore` goes back to: the counts, and how many numbers (the list is cut
        back, not copied)."""
        return replace(self, ticket_numbers=[]), len(self.ticket_numbers)

    def restore(self, mark: tuple[IntakeStats, int]) -> None:
        """Back to `mark`: what a group taken again counted the first time is forgotten."""
        counts, numbers = mark
        for name in fields(self):
            if name.name != "ticket_numbers":
                setattr(self, name.name, getattr(counts, name.name))
        del self.ticket_numbers[numbers:]
