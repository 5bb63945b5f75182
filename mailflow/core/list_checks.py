"""Reading the suggester's lists as checked data: each value of the parsed TOML is what it
must be, or a ValueError names the key and what is expected (core/priority_lists.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def checked_table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"[{key}] is missing or not a table")
    return value


def checked_level(table: Mapping[str, Any], key: str, levels: Sequence[str], where: str) -> str:
    value = table.get(key)
    if value not in levels:
        raise ValueError(f"{where}.{key} = {value!r}: choose one of {', '.join(levels)}")
    return str(value)


def checked_number(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"settings.{key} must be a whole number from {low} to {high}")
    return value


def checked_strings(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    words = table.get(key, [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ValueError(f"{where}.{key} must be a list of strings")
    return words
