"""A pass's counts: exact however long the pass, with a bounded list of its ticket numbers."""

from mailflow.runners.intake_stats import NUMBERS_KEPT, IntakeStats
from mailflow.vocabulary import IntakeOutcome


def test_a_long_pass_counts_every_ticket_and_keeps_only_the_first_numbers() -> None:
    stats = IntakeStats()
    for n in range(1, NUMBERS_KEPT + 501):
        stats.count(IntakeOutcome.TICKET, f"ADU-2026-{n:05d}")
    assert stats.tickets == NUMBERS_KEPT + 500
    assert stats.ticket_numbers == [f"ADU-2026-{n:05d}" for n in range(1, NUMBERS_KEPT + 1)]


def test_restore_forgets_what_a_group_taken_again_counted() -> None:
    stats = IntakeStats()
    stats.count(IntakeOutcome.TICKET, "ADU-2026-00001")
    mark = stats.mark()
    stats.count(IntakeOutcome.TICKET, "ADU-2026-00002")
    stats.count(IntakeOutcome.REPLY, None)
    stats.restore(mark)
    assert (stats.tickets, stats.replies, stats.ticket_numbers) == (1, 0, ["ADU-2026-00001"])
