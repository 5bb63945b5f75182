"""How several fleet instances share a regency's mailboxes: which to take, which to give up.

A fleet instance (mailflow/fleet.py) serves every mailbox of a configuration file whose lease
it holds. Each live instance keeps a presence lease of its own in the same table
(`@instance/<holder>`, renewed with its mailbox leases, so an expired one is a dead
instance). From what the table says, each instance decides alone:

- its fair share is ceil(mailboxes / live instances), itself counted even before its
  presence row is seen;
- below it, it takes free mailboxes (never leased, released, or whose lease ran out),
  up to the share; in an order of its own (a hash of its name and the mailbox), so that two
  instances starting together mostly reach for different ones;
- above it (a new instance came), it gives the surplus up at a clean point, between passes,
  so the newcomer finds free ones at its next look.

The shares of all live instances add up to at least the number of mailboxes, so none is
left unserved; an instance that dies stops renewing, its leases and presence run out, the
others' share grows and they take its mailboxes within about one lease period.

Plain functions over plain data: the rows come in, the decision goes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailflow.core.lease import LeaseRow

#: The mailbox key of an instance's presence row; no mailbox key begins with "@".
PRESENCE_PREFIX = "@instance/"


def presence_key(instance: str) -> str:
    return f"{PRESENCE_PREFIX}{instance}"


def live_instances(rows: Mapping[str, LeaseRow], me: str, now: datetime) -> int:
    """Instances whose presence has not run out, this one always among them."""
    others = {row.holder for key, row in rows.items()
              if key.startswith(PRESENCE_PREFIX) and row.holder and row.holder != me
              and row.expires_at > now}
    return len(others) + 1


def fair_share(mailboxes: int, instances: int) -> int:
    """The most mailboxes one instance should hold: ceil(mailboxes / instances)."""
    return -(-mailboxes // max(1, instances))


@dataclass(frozen=True)
class SharePlan:
    take: tuple[str, ...]  # free mailboxes to try (another instance may win one)
    release: tuple[str, ...]  # held ones to give up, the surplus over the share
    share: int
    instances: int
    held: int  # held before the plan


def _order(me: str, mailbox: str) -> str:
    return hashlib.sha1(f"{me}\0{mailbox}".encode(), usedforsecurity=False).hexdigest()


def plan_share(mailboxes: Sequence[str], rows: Mapping[str, LeaseRow], me: str,
               now: datetime) -> SharePlan:
    """What instance `me` should do with `mailboxes` (the file's, by lease key), given every
    lease row by key at `now`."""
    instances = live_instances(rows, me, now)
    share = fair_share(len(mailboxes), instances)
    mine = [m for m in mailboxes if (row := rows.get(m)) is not None and row.holder == me]
    free = sorted((m for m in mailboxes if _free(rows.get(m), me, now)),
                  key=lambda m: _order(me, m))
    if len(mine) > share:
        # The last in this instance's own order go: the same ones at each look, not a churn.
        surplus = sorted(mine, key=lambda m: _order(me, m))[share:]
        return SharePlan((), tuple(surplus), share, instances, len(mine))
    return SharePlan(tuple(free[:share - len(mine)]), (), share, instances, len(mine))


def _free(row: LeaseRow | None, me: str, now: datetime) -> bool:
    """Nobody's: never leased, released, or run out (and not this instance's own)."""
    return row is None or (row.holder != me and (not row.holder or row.expires_at <= now))
