"""UIDs as bounded IMAP sequence sets (mailflow/core/uid_sets.py): issue 10's "Too long argument"."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailflow.core.uid_sets import LONGEST_ELEMENT, MAX_UID, parse_uid_set, runs, uid_sets


def texts(uids: list[int], max_bytes: int = 8192, max_uids: int | None = None) -> list[str]:
    return [s.text for s in uid_sets(uids, max_bytes, max_uids)]


@pytest.mark.parametrize(("uids", "expected"), [
    ([], []),
    ([7], ["7"]),
    ([1, 2, 3, 4], ["1:4"]),
    ([4, 3, 2, 1, 2], ["1:4"]),  # any order, repeats named once
    ([1, 3, 5], ["1,3,5"]),
    ([*range(1, 501), 502, *range(510, 601)], ["1:500,502,510:600"]),
    ([MAX_UID - 1, MAX_UID], [f"{MAX_UID - 1}:{MAX_UID}"]),
])
def test_runs_become_ranges(uids: list[int], expected: list[str]) -> None:
    assert texts(uids) == expected


def test_the_byte_limit_splits_between_elements() -> None:
    assert texts([1, 3, 5, 7, 9, 11], max_bytes=5) == ["1,3,5", "7,9", "11"]
    assert texts([10, 11, 12, 20, 21], max_bytes=21) == ["10:12,20:21"]
    assert texts([10, 11, 12, 20, 21], max_bytes=10) == ["10:12", "20:21"]


def test_the_uid_limit_splits_inside_a_range() -> None:
    sets = uid_sets(range(1, 1201), max_uids=500)
    assert [s.text for s in sets] == ["1:500", "501:1000", "1001:1200"]
    assert [len(s.uids) for s in sets] == [500, 500, 200]
    assert texts([1, 2, 3, 5, 6, 9], max_uids=2) == ["1:2", "3,5", "6,9"]


def test_each_set_names_its_uids() -> None:
    sets = uid_sets([1, 2, 3, 8, 40, 41], max_bytes=6)
    assert [(s.text, s.uids) for s in sets] == [("1:3,8", (1, 2, 3, 8)), ("40:41", (40, 41))]


def test_100000_scattered_uids_fit_in_8_kb_commands() -> None:
    """The issue's backlog and more: every set is at most 8 kB, and together they are exact."""
    rng = random.Random(10)
    uids = sorted(rng.sample(range(1, 400_000), 100_000))
    sets = uid_sets(uids, max_bytes=8192)
    assert max(len(s.text) for s in sets) <= 8192
    assert all(len(s.text) > 8192 - 22 for s in sets[:-1])  # full, not needlessly many
    assert [u for s in sets for u in parse_uid_set(s.text)] == uids
    assert [u for s in sets for u in s.uids] == uids


@pytest.mark.parametrize("bad", [0, -1, MAX_UID + 1])
def test_what_is_not_a_uid_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="not an IMAP UID"):
        uid_sets([1, bad])


def test_limits_below_one_element_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold the set element 1000:1001"):
        uid_sets([1, 1000, 1001], max_bytes=8)
    with pytest.raises(ValueError, match="max_uids"):
        uid_sets([1], max_uids=0)


def test_parse_reads_ranges_either_way() -> None:
    assert parse_uid_set("1:3,7,12:10") == [1, 2, 3, 7, 10, 11, 12]
    assert runs([5, 1, 2, 4]) == [(1, 2), (4, 5)]


@settings(max_examples=300, deadline=None)
@given(uids=st.lists(st.integers(1, 3000), max_size=400)
       | st.lists(st.integers(MAX_UID - 500, MAX_UID), max_size=50),
       max_bytes=st.integers(LONGEST_ELEMENT, 300), max_uids=st.none() | st.integers(1, 60))
def test_round_trip_within_every_limit(uids: list[int], max_bytes: int, max_uids: int | None
                                       ) -> None:
    sets = uid_sets(uids, max_bytes, max_uids)
    assert [u for s in sets for u in parse_uid_set(s.text)] == sorted(set(uids))
    for s in sets:
        assert 0 < len(s.text) <= max_bytes
        assert list(s.uids) == parse_uid_set(s.text)
        assert max_uids is None or len(s.uids) <= max_uids
        # Compact: two adjacent elements of one set never touch (they would be one range).
        elements = [parse_uid_set(e) for e in s.text.split(",")]
        assert all(a[-1] + 1 < b[0] for a, b in pairwise(elements))
