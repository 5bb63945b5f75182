"""The whole lease table at one look, for a fleet instance sharing mailboxes (mailflow/fleet.py).

Taking and releasing stay one guarded UPDATE each (store/lease.py); a fleet needs to see
every row at once to decide which free mailboxes to try (core/fleet_share.py), to renew the
leases it holds together, and to tidy away the presence rows of instances long gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.engine import Engine

from mailflow.core.fleet_share import PRESENCE_PREFIX
from mailflow.core.lease import LeaseRow
from mailflow.store.db import outage_as_unavailable
from mailflow.store.lease import Lease
from mailflow.store.models import MailboxLease
from mailflow.store.queries import chunks

_TABLE = MailboxLease.__table__  # type: ignore[attr-defined]


def lease_rows(engine: Engine) -> dict[str, LeaseRow]:
    """Every lease (mailboxes and instances' presence) by key, in one SELECT."""
    with outage_as_unavailable(), engine.connect() as conn:
        found = conn.execute(select(_TABLE.c.mailbox, _TABLE.c.holder,
                                    _TABLE.c.expires_at)).all()
    return {row.mailbox: LeaseRow(row.holder, row.expires_at) for row in found}


def forget_presences(engine: Engine, before: datetime) -> int:
    """Delete the presence rows that ran out before `before` (instances long gone)."""
    with engine.begin() as conn:
        result = conn.execute(delete(_TABLE).where(
            _TABLE.c.mailbox.startswith(PRESENCE_PREFIX, autoescape=True),
            _TABLE.c.expires_at < before))
    return int(result.rowcount or 0)


#: Leases renewed by one UPDATE at most (two parameters each, well under any driver's limit).
RENEW_AT_ONCE = 400


def renew_many(engine: Engine, leases: Sequence[Lease], now: datetime) -> set[str]:
    """Renew `leases` (all of one process, held) in one transaction; the mailboxes renewed.

    A fleet instance holds a hundred leases and more, each renewed every `renew` seconds: a
    transaction each was a tenth of a regency instance's CPU (bench/README.md, round 6). Here
    one UPDATE per expiry (leases of villages with the same lease length) and per
    RENEW_AT_ONCE, guarded like the fence: this holder at the generation it took, else no row.
    A lease not renewed here is not given up: its caller tries it alone with `Lease.keep` (which
    also takes back a free one and logs a loss), as before."""
    by_expiry: dict[datetime, list[Lease]] = {}
    for lease in leases:
        if lease.generation is not None:
            by_expiry.setdefault(lease.rules.expiry(now), []).append(lease)
    renewed: set[str] = set()
    with outage_as_unavailable(), engine.begin() as conn:
        for expires_at, same in by_expiry.items():
            for part in chunks(same, RENEW_AT_ONCE):
                renewed.update(conn.execute(update(_TABLE).where(
                    _TABLE.c.holder == part[0].me,
                    tuple_(_TABLE.c.mailbox, _TABLE.c.generation).in_(
                        [(lease.mailbox, lease.generation) for lease in part]),
                ).values(expires_at=expires_at, heartbeat_at=now).returning(
                    _TABLE.c.mailbox)).scalars())
    for lease in leases:
        if lease.mailbox in renewed:
            lease.renewed()
    return renewed
