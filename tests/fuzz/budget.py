"""Hypothesis budgets for the fuzzers: a small, repeatable one for CI, a large one by hand.

`ci` (the default) runs a fixed number of examples per property, derandomized so that
every CI run tries the same inputs and a failure reproduces on any machine; the whole
directory stays under a minute on two cores. `long` (MAILFLOW_FUZZ=long) tries fifty
times as many, randomly, for a run by hand:

    MAILFLOW_FUZZ=long .venv/bin/pytest -q tests/fuzz

A failure prints the minimal input and a `@reproduce_failure` blob; add the input as an
`@example` to the property (or a unit test) and fix the cause.

The profiles are applied per test (`@fuzz(n)`) rather than loaded globally, so that the
unit tests' own Hypothesis settings are untouched when both directories run in one session.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
              HealthCheck.large_base_example]
LONG = os.environ.get("MAILFLOW_FUZZ") == "long"
LONG_FACTOR = 50

settings.register_profile(
    "mailflow-fuzz-ci", derandomize=True, deadline=None, print_blob=True, database=None,
    suppress_health_check=_SLOW_DATA,
)
settings.register_profile(
    "mailflow-fuzz-long", deadline=None, print_blob=True, suppress_health_check=_SLOW_DATA,
)
PROFILE = settings.get_profile("mailflow-fuzz-long" if LONG else "mailflow-fuzz-ci")

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(examples: int) -> Callable[[F], F]:
    """The profile's settings with `examples` examples in CI (LONG_FACTOR times more by hand)."""
    count = examples * LONG_FACTOR if LONG else examples
    decorate: Callable[[F], F] = settings(parent=PROFILE, max_examples=count)
    return decorate
