"""The clock, injected everywhere "now" matters, so tests and the demo can fix the time.

The core never reads the clock: runners read it here once per unit of work and pass it on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: for tests, the demo and benchmarks."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
