"""Every allowed and every refused transition of the ticket state machine."""

import itertools

import pytest

from mailflow.core.workflow import NEEDS_MESSAGE, TRANSITIONS, allowed_from, check_transition
from mailflow.vocabulary import Status

ALLOWED = {
    (Status.DITERIMA, Status.DIVERIFIKASI), (Status.DITERIMA, Status.PERLU_DATA),
    (Status.DITERIMA, Status.DITOLAK),
    (Status.PERLU_DATA, Status.DITERIMA), (Status.PERLU_DATA, Status.DIVERIFIKASI),
    (Status.PERLU_DATA, Status.DITOLAK),
    (Status.DIVERIFIKASI, Status.DIPROSES), (Status.DIVERIFIKASI, Status.SELESAI),
    (Status.DIVERIFIKASI, Status.PERLU_DATA), (Status.DIVERIFIKASI, Status.DITOLAK),
    (Status.DIPROSES, Status.SELESAI), (Status.DIPROSES, Status.PERLU_DATA),
    (Status.DIPROSES, Status.DITOLAK),
    (Status.SELESAI, Status.DIPROSES),
    (Status.DITOLAK, Status.DIVERIFIKASI),
}
PAIRS = list(itertools.product(Status, Status))


def test_table_is_what_the_procedure_says() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transitions_pass_with_a_message(current: Status, target: Status) -> None:
    assert check_transition(current, target, has_message=True) is None


@pytest.mark.parametrize(("current", "target"), [p for p in PAIRS if p not in ALLOWED])
def test_refused_transitions_say_what_is_allowed(current: Status, target: Status) -> None:
    refusal = check_transition(current, target, has_message=True)
    assert refusal is not None
    if current != target:
        for option in allowed_from(current):
            assert option.value in refusal.reason
    else:
        assert "sudah" in refusal.reason


@pytest.mark.parametrize(("current", "target"), sorted(p for p in ALLOWED if p[1] in NEEDS_MESSAGE))
def test_closing_or_asking_needs_a_message_to_the_reporter(current: Status, target: Status) -> None:
    refusal = check_transition(current, target, has_message=False)
    assert refusal is not None and "perlu pesan untuk pelapor" in refusal.reason


def test_happy_path_needs_no_message_for_verification() -> None:
    assert check_transition(Status.DITERIMA, Status.DIVERIFIKASI, has_message=False) is None


# Stated here, not taken from the code's NEEDS_MESSAGE: the procedure promises the resident an
# answer when the ticket is closed (selesai, ditolak) or data is asked for (perlu_data).
MUST_TELL_THE_RESIDENT = {Status.SELESAI, Status.DITOLAK, Status.PERLU_DATA}


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_exactly_closing_and_asking_for_data_need_a_message(current: Status, target: Status) -> None:
    refusal = check_transition(current, target, has_message=False)
    if target in MUST_TELL_THE_RESIDENT:
        assert refusal is not None and "perlu pesan untuk pelapor" in refusal.reason
    else:
        assert refusal is None
