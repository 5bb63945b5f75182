"""The whole lease table at one look, for a fleet instance sharing mailboxes (mailflow/fleet.py).

Taking, renewing and releasing stay one guarded UPDATE each (store/lease.py); a fleet only
needs to see every row at once to decide which free mailboxes to try (core/fleet_share.py),
and to tidy away the presence rows of instances long gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from mailflow.core.fleet_share import PRESENCE_PREFIX
from mailflow.core.lease import LeaseRow
from mailflow.errors import StorageUnavailable
from mailflow.store.db import driver_said, storage_failure
from mailflow.store.models import MailboxLease

_TABLE = MailboxLease.__table__  # type: ignore[attr-defined]


def lease_rows(engine: Engine) -> dict[str, LeaseRow]:
    """Every lease (mailboxes and instances' presence) by key, in one SELECT."""
    try:
        with engine.connect() as conn:
            found = conn.execute(select(_TABLE.c.mailbox, _TABLE.c.holder,
                                        _TABLE.c.expires_at)).all()
    except Exception as exc:
        if storage_failure(exc):
            raise StorageUnavailable(f"database: {driver_said(exc)}") from exc
        raise
    return {row.mailbox: LeaseRow(row.holder, row.expires_at) for row in found}


def forget_presences(engine: Engine, before: datetime) -> int:
    """Delete the presence rows that ran out before `before` (instances long gone)."""
    with engine.begin() as conn:
        result = conn.execute(delete(_TABLE).where(
            _TABLE.c.mailbox.startswith(PRESENCE_PREFIX, autoescape=True),
            _TABLE.c.expires_at < before))
    return int(result.rowcount or 0)
