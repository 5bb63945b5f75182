"""How long marking rests after failures (mailflow/runners/marking.py): 2 min, doubling, 1 h."""

from __future__ import annotations

from datetime import timedelta

from mailflow.runners.marking import retry_after


def test_the_rest_doubles_from_two_minutes_up_to_an_hour() -> None:
    minutes = [retry_after(n) / timedelta(minutes=1) for n in range(0, 9)]
    assert minutes == [0, 2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_after(10_000) == timedelta(hours=1)  # no overflow after days of refusals
