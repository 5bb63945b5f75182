"""A fleet's lease renewal (mailflow/fleet.py `_renew`): when one lease is due, those past half
their period come with it, all in one UPDATE, so that they fall due together afterwards."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from mailflow.config import parse_configs
from mailflow.fleet import Fleet
from mailflow.store.lease import read_lease
from tests.harness.postgres import store_url
from tests.unit.test_config_mailboxes import SHARED, _entry

TAKEN = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LATER = TAKEN + timedelta(seconds=5)


def test_the_due_lease_brings_those_past_half_their_period_in_one_update(
        tmp_path: Path) -> None:
    configs = parse_configs({**SHARED, "database": {"url": store_url(tmp_path)}, "mailboxes": [
        _entry(name, prefix) for name, prefix in (("klero", "KLR"), ("tegal", "TGL"),
                                                  ("sraten", "SRT"))]})
    fleet = Fleet(lambda: configs, "test", clock=lambda: LATER)
    fleet._start(configs)
    engine = fleet._engine
    due, half, fresh = fleet._members.values()
    for member in (due, half, fresh):
        assert member.lease.take(TAKEN).held
    renew = due.lease.rules.renew  # 5 s, the default
    now = time.monotonic()
    due.lease._renewed = now - renew  # due
    half.lease._renewed = now - renew * 0.6  # past half its period
    fresh.lease._renewed = now - renew * 0.2  # not yet
    updates: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE MAILBOX_LEASE"):
            updates.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    assert fleet._renew() is False  # none lost
    expiry = LATER + timedelta(seconds=due.lease.rules.length)
    assert read_lease(engine, due.lease.mailbox).expires_at == expiry
    assert read_lease(engine, half.lease.mailbox).expires_at == expiry
    assert read_lease(engine, fresh.lease.mailbox).expires_at == TAKEN + timedelta(
        seconds=fresh.lease.rules.length)
    assert len(updates) == 1
    assert not due.lease.due() and not half.lease.due() and fresh.lease.due(within=renew)
    engine.dispose()
