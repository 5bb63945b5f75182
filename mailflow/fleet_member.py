"""One mailbox of a fleet (mailflow/fleet.py), and the fleet's share of the lease table.

A `Member` is a village's mailbox as one fleet instance sees it: its configuration, its lease
(fenced by the fleet's one fence over every lease of the process), its own Links (a refused
login or an unreachable server is paced for this mailbox alone), and, while this instance
holds the lease, its Service on the process's one engine. A pass that raises, a login
refused, a server gone: each stays this member's, logged under its name, and the others go on.

`Share` keeps the instance's presence row and applies core/fleet_share.py's plan: take free
mailboxes up to the fair share, give the surplus up (between passes, never inside one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from mailflow.adapters.clock import Clock
from mailflow.config import Config
from mailflow.core.backoff import State
from mailflow.core.fleet_share import SharePlan, plan_share, presence_key
from mailflow.core.lease import LeaseRules
from mailflow.errors import MailboxBusy, MailflowError
from mailflow.runners.links import Links
from mailflow.runners.parked_note import daily_jobs
from mailflow.service import PollResult, Service
from mailflow.store.db import Engine
from mailflow.store.lease import Lease
from mailflow.store.lease_table import forget_presences, lease_rows

log = logging.getLogger("mailflow.fleet")

#: Intake of one mailbox in one pass stops after this long (between messages) and the rest waits
#: for its next turn, due from then on: a flooded village takes turns with its neighbours.
SLICE_SECONDS = 2.0
#: Presence rows of instances gone this long are deleted (they count for nothing once expired).
FORGET_AFTER = timedelta(days=1)


def rules_of(cfg: Config) -> LeaseRules:
    return LeaseRules(cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds)


class Member:
    def __init__(self, cfg: Config, engine: Engine, me: str, clock: Clock,
                 between_messages: Callable[[], bool]) -> None:
        self.cfg = cfg
        self.engine = engine
        self.clock = clock
        self.lease = Lease(engine, cfg.mailbox_key, me, rules_of(cfg))
        self.links = Links(clock, prefix=f"mailbox {cfg.name}: ")
        self.links.configure(cfg)
        self._between_messages = between_messages
        self.service: Service | None = None  # built when the lease is first held
        self.due = 0.0  # monotonic time of the next pass
        self.last: PollResult | None = None
        self._busy = False
        self._slice_end: float | None = None  # while a pass runs (monotonic)
        self._cut = False  # the pass's intake was stopped at the end of its slice

    @property
    def name(self) -> str:
        return self.cfg.name

    @property
    def refused(self) -> bool:
        return any(link.state is State.REFUSED for link in self.links.servers.values())

    def replace(self, cfg: Config) -> None:
        """A reloaded configuration: a new Service at the next pass; changed credentials are
        tried at once (the lease, the same mailbox key, stays)."""
        self.links.configure(cfg)
        self.links.new_credentials(self.cfg, cfg)
        self.cfg, self.service, self.due = cfg, None, 0.0

    def slice_over(self) -> bool:
        """Asked between messages: True once this pass had its slice (its intake stops)."""
        if self._slice_end is not None and time.monotonic() >= self._slice_end:
            self._cut = True
            return True
        return False

    def poll(self) -> PollResult | None:
        """One pass of this mailbox; None when it could not run (the reason is logged)."""
        now = time.monotonic()
        intake, outbox = self.links["imap"].may_try(now), self.links["smtp"].may_try(now)
        self._slice_end, self._cut = now + SLICE_SECONDS, False
        try:
            result = self._pass(intake, outbox)
        except MailboxBusy as exc:
            if not self._busy:
                log.info("mailbox %s: pass skipped, another process serves it: %s", self.name, exc)
            self._busy = True
            return None
        except Exception as exc:
            # A bug or an unexpected failure of one mailbox must not stop the others.
            known = isinstance(exc, MailflowError)
            log.error("mailbox %s: poll failed%s: %s", self.name,
                      "" if known else " unexpectedly", exc, exc_info=not known)
            self.service = None  # built again at the next pass
            return None
        finally:
            self._slice_end = None
            self.due = time.monotonic() + (0.0 if self._cut else self.pause())
        self._busy = False
        self.links.follow(result, self.cfg, intake=intake, outbox=outbox)
        self.last = result
        return result

    def _pass(self, intake: bool, outbox: bool) -> PollResult:
        if self.service is None:
            self.service = Service(self.cfg, clock=self.clock, engine=self.engine,
                                   jobs=daily_jobs(self.cfg), stop_requested=self._between_messages,
                                   log_outages=False, keep_lease=True, lease=self.lease)
        result = self.service.poll_once(intake=intake, outbox=outbox, wait=0)
        if self._cut:
            # The slice ended intake, and with it the pass: what it queued goes out now.
            self._slice_end = None
            rest = self.service.poll_once(intake=False, outbox=outbox, wait=0)
            result.outbox, result.jobs = rest.outbox, rest.jobs
            result.smtp_refused = rest.smtp_refused
        return result

    def pause(self) -> float:
        """Until the next pass: `poll_seconds`, or less when a server is due to be tried."""
        return min([self.cfg.intake.poll_seconds, *self.links.waits(time.monotonic())])

    def give_up(self) -> None:
        """Release the lease (a clean point: between passes); a peer may take it at once."""
        try:
            self.lease.release(self.clock())
        except Exception as exc:  # noqa: BLE001 - it runs out by itself
            log.warning("mailbox %s: lease not released, a peer takes over when it runs out: "
                        "%s", self.name, exc)
        self.service = None


class Share:
    """This instance's presence and its share of the file's mailboxes."""

    def __init__(self, engine: Engine, me: str, rules: LeaseRules, clock: Clock) -> None:
        self.engine = engine
        self.me = me
        self.clock = clock
        self.presence = Lease(engine, presence_key(me), me, rules, quiet=True)
        self.plan: SharePlan | None = None
        self._forgotten = False

    def look(self, members: Sequence[Member]) -> list[Member]:
        """Renew the presence, read the table, take and release per the plan; the members
        newly held (their first pass is due at once)."""
        now = self.clock()
        self.presence.take(now)
        if not self._forgotten:
            self._forgotten = True
            forget_presences(self.engine, now - FORGET_AFTER)
        by_key = {member.lease.mailbox: member for member in members}
        plan = plan_share(list(by_key), lease_rows(self.engine), self.me, now)
        self.plan = plan
        for key in plan.release:
            member = by_key[key]
            log.info("mailbox %s: released to another instance (share %d of %d mailboxes, "
                     "%d instances)", member.name, plan.share, len(members), plan.instances)
            member.give_up()
        taken = []
        for key in plan.take:
            member = by_key[key]
            if member.lease.take(now).held:
                member.due = 0.0
                taken.append(member)
        return taken

    def release(self) -> None:
        try:
            self.presence.release(self.clock())
        except Exception as exc:  # noqa: BLE001 - it runs out by itself
            log.warning("instance presence not released, it runs out by itself: %s", exc)
