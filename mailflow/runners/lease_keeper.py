"""The daemon's side of its mailbox's lease (store/lease.py): renewing it between passes,
and, while another instance holds it, when to try again.

A pass takes the lease (mailflow/service.py); between passes the daemon's waits are cut into
pieces no longer than `[intake] lease_renew_seconds`, and each piece renews it. While a peer
holds it, the next pass comes when the peer's lease may run out (at most one renewal period
later), so a dead peer's mailbox is taken over about `lease_seconds` after its last renewal.
"""

from __future__ import annotations

import logging

from mailflow.adapters.clock import Clock
from mailflow.errors import MailflowError
from mailflow.store.lease import Lease, LeaseState

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lease: Lease | None = None
        self.wait: float | None = None  # another instance holds it: a pass in this long

    def follow(self, other: LeaseState | None) -> str | None:
        """After a pass: `other` is the lease another instance held (intake left to it), or
        None; returns a STATUS= line for the first case."""
        self.wait = None
        if other is None or self.lease is None:
            return None
        rules = self.lease.rules
        left = ((other.expires_at - self.clock()).total_seconds() if other.expires_at
                else rules.renew)
        self.wait = min(rules.renew, max(0.2, left + 0.05))
        return f"the mailbox is served by another instance ({other.holder}); waiting"

    def lost(self) -> bool:
        """Between passes: renew the lease when due; True when it was lost (a pass at once)."""
        if self.lease is None or not self.lease.held:
            return False
        try:
            return not self.lease.keep(self.clock())
        except MailflowError as exc:
            log.warning("mailbox lease not renewed (the next pass tries again): %s", exc)
            return False

    def piece(self, left: float) -> float:
        """At most one renewal period while the lease is held."""
        if self.lease is None or not self.lease.held:
            return left
        return min(left, self.lease.rules.renew)

    def release(self, lease: Lease) -> None:
        """At a clean stop (or when a reload names another mailbox): a peer takes it at once."""
        try:
            lease.release(self.clock())
        except Exception as exc:  # noqa: BLE001 - it runs out by itself
            log.warning("mailbox lease not released, a peer takes over when it runs out: %s", exc)
