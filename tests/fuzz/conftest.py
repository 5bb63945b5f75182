"""The fuzzers' budgets are registered on import (see tests/fuzz/budget.py)."""

from tests.fuzz import budget  # noqa: F401
