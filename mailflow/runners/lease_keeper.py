"""The daemon's side of its mailbox's lease (store/lease.py): renewing it between passes,
and, while another instance holds it, watching for it to run out.

A pass takes the lease (mailflow/service.py). Between passes the daemon's waits are cut into
pieces no longer than `[intake] lease_renew_seconds`: while it holds the lease each piece
renews it, and a lost lease ends the wait. While a peer holds it the daemon's passes do only
the clock jobs and the outbox, every `poll_seconds`; in between it tries the lease itself
when the peer's may have run out (at most one renewal period apart), and a pass starts as
soon as it has it: a dead peer's mailbox is taken over about `lease_seconds` after the
peer's last renewal, with one cheap UPDATE per try rather than a pass.
"""

from __future__ import annotations

import logging
import time

from mailflow.adapters.clock import Clock
from mailflow.errors import MailflowError
from mailflow.store.lease import Lease, LeaseState

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lease: Lease | None = None
        self.retry_at: float | None = None  # another instance holds it: try then (monotonic)

    @property
    def waiting(self) -> bool:
        """Another instance holds the lease (as of the last look)."""
        return self.retry_at is not None

    def follow(self, other: LeaseState | None) -> str | None:
        """After a pass, or a try between passes: `other` is the lease another instance
        holds, or None; returns a STATUS= line for the first case."""
        self.retry_at = None
        if other is None or self.lease is None:
            return None
        rules = self.lease.rules
        left = ((other.expires_at - self.clock()).total_seconds() if other.expires_at
                else rules.renew)
        self.retry_at = time.monotonic() + min(rules.renew, max(0.2, left + 0.05))
        return f"the mailbox is served by another instance ({other.holder}); waiting"

    def turn(self) -> bool:
        """Between passes: renew the lease when it is due, or try to take it when the other's
        may have run out. True when a pass should start now: the lease was lost (the pass
        finds out who has it) or it was just taken."""
        lease = self.lease
        if lease is None:
            return False
        try:
            if lease.held:
                return not lease.keep(self.clock())
            if self.retry_at is None or time.monotonic() < self.retry_at:
                return False
            state = lease.take(self.clock())
        except MailflowError as exc:
            log.warning("mailbox lease not renewed (the next pass tries again): %s", exc)
            return False
        self.follow(None if state.held else state)
        return state.held

    def piece(self, left: float) -> float:
        """A piece of a wait: at most one renewal period while the lease is held, and no
        later than the next try while another holds it."""
        if self.lease is None:
            return left
        if self.lease.held:
            return min(left, self.lease.rules.renew)
        if self.retry_at is not None:
            return min(left, max(0.01, self.retry_at - time.monotonic()))
        return left

    def release(self, lease: Lease) -> None:
        """At a clean stop (or when a reload names another mailbox): a peer takes it at once."""
        try:
            lease.release(self.clock())
        except Exception as exc:  # noqa: BLE001 - it runs out by itself
            log.warning("mailbox lease not released, a peer takes over when it runs out: %s", exc)
