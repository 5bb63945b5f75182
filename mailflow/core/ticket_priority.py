"""A ticket's priority: suggested from its text by the system, or set by staff, whose word wins.

The suggestion (core/priority.py) reads the subject and the stored description (identity lines
already taken out and numbers hidden by extraction). Its reasons quote only the matched list
words (skipped words as "...", long numbers as "#"), and the reason is then scrubbed by the
ticket's Redactor as well, so no identity enters `priority_reason`. The text itself is not
scrubbed before matching: the prose rules hide generously ("bapak saya sesak napas" reads as
a name), and a hidden "sesak napas" would be a missed `darurat`. A ticket whose priority a staff
member set with `#prioritas` (`priority_set_by` is their address) is never re-suggested; the
suggestion's reason stays on the ticket as the history of what the system proposed.

Pure: the word lists come in compiled.
"""

from __future__ import annotations

from dataclasses import replace

from mailflow.core.priority import suggest
from mailflow.core.priority_lists import WordLists
from mailflow.core.privacy import Redactor
from mailflow.core.tickets import SYSTEM, TicketFacts
from mailflow.vocabulary import Priority


def suggested(ticket: TicketFacts, lists: WordLists | None, hide: Redactor) -> TicketFacts:
    """The ticket with the priority its subject and description suggest, and why (scrubbed by
    `hide`); unchanged when staff set its priority or no lists are given."""
    if lists is None or ticket.priority_set_by != SYSTEM:
        return ticket
    suggestion = suggest(f"{ticket.subject}\n{ticket.description}", lists)
    return replace(ticket, priority=suggestion.priority,
                   priority_reason=hide.text(suggestion.reason_text))


def set_by_staff(ticket: TicketFacts, priority: Priority,
                 staff: str) -> tuple[TicketFacts, str | None]:
    """A staff member's `#prioritas`: the ticket after it, and the audit note (None: nothing
    changed, the same priority again from staff). The system's reason stays on the ticket."""
    if priority == ticket.priority and ticket.priority_set_by != SYSTEM:
        return ticket, None
    if priority == ticket.priority:
        note = f"{priority} (saran sistem dikonfirmasi)"
    else:
        note = f"{ticket.priority} -> {priority}"
    if ticket.priority_set_by == SYSTEM and ticket.priority_reason:
        note += f"; saran sistem: {ticket.priority_reason}"
    return replace(ticket, priority=priority, priority_set_by=staff), note


def describe(priority: Priority, reason: str, set_by: str) -> str:
    """The priority as staff read it, e.g. "Darurat (disarankan sistem: darurat (urgensi
    segera, ...): 'banjir' (banjir) -> urgensi segera; ...)" or "Rendah (ditetapkan oleh
    kasi@desa.id; saran sistem: darurat (...): ...)"; a priority from before suggestions has
    neither."""
    if set_by != SYSTEM:
        earlier = f"; saran sistem: {reason}" if reason else ""
        return f"{priority.label} (ditetapkan oleh {set_by}{earlier})"
    return f"{priority.label} (disarankan sistem: {reason})" if reason else priority.label
