"""A database outage in the daemon's journal: one ERROR when it goes, one INFO when it is back,
the passes between them DEBUG (a daemon polling every few seconds through a restart logged two
lines per pass: the crash harness counted over a thousand in a minute)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from mailflow.runners.links import Links
from mailflow.runners.outbox import OutboxStats
from mailflow.service import PollResult
from tests.unit.plan_support import config

START = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def test_an_outage_is_two_lines_whatever_the_passes_between(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [START]
    links = Links(lambda: now[0], prefix="mailbox klero: ")
    cfg = config()
    caplog.set_level(logging.DEBUG, logger="mailflow.daemon")

    def one_pass(error: str | None) -> None:
        links.follow(PollResult(None, OutboxStats(), storage_error=error), cfg,
                     intake=True, outbox=True)
        now[0] += timedelta(seconds=5)

    one_pass(None)
    for _ in range(30):
        one_pass("database: connection is bad")
    one_pass(None)
    one_pass(None)

    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.levelno > logging.DEBUG]
    assert lines == [
        (logging.ERROR, "mailbox klero: storage unavailable, intake, the jobs and the outbox "
                        "wait; trying again at each pass: database: connection is bad"),
        (logging.INFO, "mailbox klero: storage available again after 0:02:30")]
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 29
