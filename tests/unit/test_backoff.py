"""The daemon's pacing of logins and reconnects (mailflow/core/backoff.py)."""

from __future__ import annotations

import random
from itertools import pairwise

from mailflow.core.backoff import (
    HOUR,
    Link,
    RetryPolicy,
    State,
    hourly_cap,
    login_wait,
    reconnect_wait,
)

MINUTE = 60.0
POLICY = RetryPolicy(login_waits=(MINUTE, 5 * MINUTE, 15 * MINUTE, HOUR), login_per_hour=4,
                     reconnect_first=5.0, reconnect_max=300.0)


def test_login_waits_grow_along_the_list_and_the_last_repeats() -> None:
    waits = POLICY.login_waits
    assert [login_wait(n, waits) for n in range(1, 8)] == [60, 300, 900, 3600, 3600, 3600, 3600]


def test_the_hourly_cap_waits_for_the_oldest_attempt_of_the_hour_to_age() -> None:
    assert hourly_cap([0, 10, 20], 30, 4) == 30
    assert hourly_cap([0, 10, 20, 30], 40, 4) == HOUR
    assert hourly_cap([-HOUR, 10, 20, 30], 40, 4) == 40  # the first is older than an hour


def test_a_refused_login_is_tried_at_1_5_15_60_minutes_then_hourly_never_5_an_hour() -> None:
    link = Link(POLICY)
    now, tries = 0.0, [0.0]
    assert link.refused(now) is True  # the episode begins: the one log line
    for _ in range(7):
        assert not link.may_try(link.next_try - 0.1)
        now = link.next_try
        assert link.may_try(now)
        tries.append(now)
        assert link.refused(now) is False  # a retry: no new log line
    assert [round(b - a) for a, b in pairwise(tries)] == [
        60, 300, 900, 3600, 3600, 3600, 3600]
    assert all(sum(1 for t in tries if start <= t < start + HOUR) <= 4 for start in tries)
    assert link.succeeded() is State.REFUSED
    assert link.succeeded() is None  # already up: no second "works again"


def test_a_tight_wait_list_is_held_to_the_hourly_cap() -> None:
    link = Link(RetryPolicy(login_waits=(1.0,), login_per_hour=3))
    now, tries = 0.0, []
    for _ in range(5):
        tries.append(now)
        link.refused(now)
        now = link.next_try
    assert tries[:3] == [0.0, 1.0, 2.0]
    assert tries[3] == HOUR  # the fourth waits for the first to be an hour old


def test_new_credentials_are_tried_at_once() -> None:
    link = Link(POLICY)
    link.refused(0.0)
    link.refused(60.0)
    assert not link.may_try(61.0)
    link.credentials_changed(61.0)
    assert link.may_try(61.0)
    link.refused(61.0)  # still wrong: the waits start again from the first
    assert link.next_try == 61.0 + MINUTE


def test_reconnect_backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() -> None:
    draws = random.Random(8)
    waits = [reconnect_wait(n, 5.0, 300.0, draws.random()) for n in range(1, 10)]
    bases = [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert all(base / 2 <= wait <= base for wait, base in zip(waits, bases, strict=True)), waits
    assert len(set(waits)) == len(waits)  # jittered, not in step
    assert reconnect_wait(3, 5.0, 300.0, 0.0) == 10.0
    assert reconnect_wait(30, 5.0, 300.0, 0.999999) < 300.0 + 1e-3


def test_an_outage_logs_once_and_its_retries_back_off() -> None:
    link = Link(POLICY)
    rng = random.Random(1)
    assert link.unreachable(0.0, rng.random()) is True
    first = link.next_try
    assert 2.5 <= first <= 5.0
    assert link.unreachable(first, rng.random()) is False
    assert 5.0 <= link.next_try - first <= 10.0
    assert link.succeeded() is State.DOWN
    assert link.may_try(0.0)


def test_an_unreachable_server_during_refusals_keeps_the_refusals_pace() -> None:
    link = Link(POLICY)
    link.refused(0.0)
    link.unreachable(60.0, 0.5)
    assert link.state is State.REFUSED
    assert link.next_try >= 60.0 + 5.0
