"""When the daemon may try a mail server again: after a refused login, or an unreachable server.

A refused login is not an outage: the password is wrong, and trying it every poll can make
the provider lock the account. So the waits grow along a configured list (1, 5, 15, 60
minutes, then hourly), and never more than a configured number of attempts falls in any
hour. An unreachable server is an outage: capped exponential backoff with jitter, so that
a fleet of daemons does not reconnect in step.

`Link` is one server's state as the daemon sees it. It is told what each attempt gave, with
"now" (monotonic seconds) passed in, and reports whether the state changed, so the daemon
logs one line per change (up -> refused, up -> down, back up), never one per retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

HOUR = 3600.0


class State(StrEnum):
    UP = "up"
    REFUSED = "login refused"
    DOWN = "unreachable"


@dataclass(frozen=True)
class RetryPolicy:
    login_waits: Sequence[float] = (60.0, 300.0, 900.0, 3600.0)
    login_per_hour: int = 4
    reconnect_first: float = 5.0
    reconnect_max: float = 300.0


def login_wait(refusals: int, waits: Sequence[float]) -> float:
    """The wait after the `refusals`-th refusal in a row (1-based); the last wait repeats."""
    return waits[min(max(refusals, 1), len(waits)) - 1]


def hourly_cap(attempts: Sequence[float], now: float, per_hour: int) -> float:
    """The earliest moment another attempt keeps at most `per_hour` in any hour."""
    recent = sorted(at for at in attempts if at > now - HOUR)
    if len(recent) < per_hour:
        return now
    return recent[-per_hour] + HOUR


def reconnect_wait(failures: int, first: float, ceiling: float, draw: float) -> float:
    """Capped exponential backoff with "equal jitter": between half and all of
    min(ceiling, first * 2^(failures-1)); `draw` is a random number in [0, 1)."""
    base = min(ceiling, first * 2.0 ** max(0, failures - 1))
    return base / 2 + base / 2 * draw


@dataclass
class Link:
    """One server as the daemon sees it: its state, and when to try it again."""

    policy: RetryPolicy
    state: State = State.UP
    failures: int = 0
    since: float | None = None  # when the current trouble began
    next_try: float = 0.0
    attempts: list[float] = field(default_factory=list)  # refused logins, the last hour

    def may_try(self, now: float) -> bool:
        return self.state is State.UP or now >= self.next_try

    def wait(self, now: float) -> float | None:
        """Seconds until the next try, or None when the link is up."""
        return None if self.state is State.UP else max(0.0, self.next_try - now)

    def succeeded(self) -> State | None:
        """The state it leaves, when it was not up."""
        left = self.state
        self.state, self.failures, self.since, self.attempts = State.UP, 0, None, []
        return None if left is State.UP else left

    def refused(self, now: float) -> bool:
        """A refused login; True when the refusals begin (from up or unreachable)."""
        began = self.state is not State.REFUSED
        if began:
            self.failures, self.since = 0, now
        self.state, self.failures = State.REFUSED, self.failures + 1
        self.attempts = [at for at in self.attempts if at > now - HOUR] + [now]
        self.next_try = max(now + login_wait(self.failures, self.policy.login_waits),
                            hourly_cap(self.attempts, now, self.policy.login_per_hour))
        return began

    def unreachable(self, now: float, draw: float) -> bool:
        """The server could not be reached; True when the outage begins."""
        began = self.state is State.UP
        if began:
            self.failures, self.since = 0, now
        if self.state is State.REFUSED:
            # Still not known to accept the password: keep the refusals' slower pace.
            self.next_try = max(self.next_try, now + self.policy.reconnect_first)
            return False
        self.state, self.failures = State.DOWN, self.failures + 1
        self.next_try = now + reconnect_wait(self.failures, self.policy.reconnect_first,
                                             self.policy.reconnect_max, draw)
        return began

    def credentials_changed(self, now: float) -> None:
        """New credentials (SIGHUP): try them at once; the old password's count is void."""
        if self.state is State.REFUSED:
            self.failures, self.attempts, self.next_try = 0, [], now
