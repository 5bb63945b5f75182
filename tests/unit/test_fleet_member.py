"""One mailbox of a fleet (mailflow/fleet_member.py): a failing pass stays its own, and a pass
cut at the end of its slice still sends its outbox and is due again at once."""

from __future__ import annotations

import logging
import time
from typing import Any
from unittest.mock import MagicMock

import pytest

from mailflow.adapters.clock import utc_now
from mailflow.config import parse_configs
from mailflow.fleet_member import SLICE_SECONDS, Member
from mailflow.runners.outbox import OutboxStats
from mailflow.service import PollResult
from tests.unit.test_config_mailboxes import SHARED, _entry

SECTIONS = {"intake": {"poll_seconds": 30}}


def _member() -> Member:
    data = {**SHARED, "mailboxes": [_entry("klero", "KLR", **SECTIONS)]}
    (cfg,) = parse_configs(data)
    return Member(cfg, MagicMock(), "host:1:aa", utc_now, lambda: False)


def test_a_pass_that_raises_is_logged_under_the_mailbox_and_retried_later(
        caplog: pytest.LogCaptureFixture) -> None:
    member = _member()
    member.service = MagicMock()
    member.service.poll_once.side_effect = RuntimeError("a bug")
    with caplog.at_level(logging.ERROR):
        assert member.poll() is None
    assert "mailbox klero: poll failed unexpectedly: a bug" in caplog.text
    assert member.service is None  # built afresh at the next pass
    assert member.due > time.monotonic() + 25  # its poll_seconds, not at once


def test_a_pass_cut_by_its_slice_sends_its_outbox_and_is_due_again_at_once() -> None:
    member = _member()
    calls: list[dict[str, Any]] = []

    def poll_once(**kwargs: Any) -> PollResult:
        calls.append(kwargs)
        if kwargs["intake"]:
            member._slice_end = time.monotonic() - 1  # the slice ran out mid-intake
            assert member.slice_over()
            return PollResult(None, OutboxStats())
        assert not member.slice_over()  # the outbox pass is not cut
        return PollResult(None, OutboxStats(sent=3))

    member.service = MagicMock()
    member.service.poll_once.side_effect = poll_once
    result = member.poll()
    assert result is not None and result.outbox.sent == 3
    assert [c["intake"] for c in calls] == [True, False]
    assert member.due <= time.monotonic()
    assert SLICE_SECONDS <= 5


def test_an_uncut_pass_waits_its_poll_seconds() -> None:
    member = _member()
    member.service = MagicMock()
    member.service.poll_once.return_value = PollResult(None, OutboxStats())
    member.poll()
    assert member.service.poll_once.call_count == 1
    assert member.due > time.monotonic() + 25
