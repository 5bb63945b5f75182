"""Every word of the vocabulary has its Indonesian label, so none can be added without one."""

from __future__ import annotations

from enum import StrEnum

import pytest

from mailflow import vocabulary

ENUMS = [value for value in vars(vocabulary).values()
         if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum]


def test_every_enum_of_the_domain_is_covered() -> None:
    assert {e.__name__ for e in ENUMS} == {
        "Status", "Priority", "Channel", "Role", "Missing", "EventKind", "IntakeOutcome",
        "OutboxKind", "OutboxState", "EntryKind"}


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_reads_in_indonesian(enum: type[StrEnum]) -> None:
    for member in enum:
        text = member.text if enum is vocabulary.Missing else member.label  # type: ignore[attr-defined]
        assert isinstance(text, str) and text.strip(), member


def test_statuses_explain_themselves_to_the_reporter() -> None:
    assert all(status.explanation.endswith(".") for status in vocabulary.Status)
