"""`mailflow run` over a regency's file: one process serving many villages' mailboxes.

A configuration file with several `[[mailboxes]]` entries, run without `--mailbox`, starts
a fleet (a file with one mailbox, or `--mailbox NAME`, runs the one-mailbox daemon,
mailflow/daemon.py). One process, one database engine, one fence over all the process's
leases (store/lease.py), and one Member per mailbox (fleet_member.py): its own lease, its
own Links (backoff of refused logins and unreachable servers), its Service built when its
lease is first held.

The loop: look at the lease table (at most once per renewal period) and take or release
mailboxes per the fair share (core/fleet_share.py); then one pass of each held mailbox
whose time came (each every its own `[intake] poll_seconds`: polling, no IMAP IDLE, since
one IDLE connection per mailbox does not scale to hundreds); then a wait, cut into pieces
that renew the held leases and feed systemd's watchdog. One mailbox's failure never stops
another's pass. Several fleet instances on one database (PostgreSQL across machines) split
the mailboxes about evenly and take over a dead one's within about a lease period.

Signals and systemd as in the daemon (runners/process_control.py): SIGTERM finishes the
message in hand, releases every lease and exits 0; SIGHUP reloads the whole file (a bad one
is refused with one ERROR line and the running one stays).
"""

from __future__ import annotations

import faulthandler
import logging
import time
from collections.abc import Callable
from datetime import datetime

from mailflow.adapters.clock import Clock, utc_now
from mailflow.adapters.systemd import Notifier
from mailflow.config import Config
from mailflow.errors import ConfigError, MailflowError
from mailflow.fleet_member import Member, Share, rules_of
from mailflow.metrics import Metrics
from mailflow.runners.process_control import ProcessControl
from mailflow.store.db import Engine, make_engine
from mailflow.store.instance import instance_id
from mailflow.store.lease import Lease, install_fence
from mailflow.store.lease_table import renew_many
from mailflow.store.migrate import prepare

log = logging.getLogger("mailflow.fleet")

#: Loads the file's configurations and runs the offline checks; raises MailflowError.
FleetLoader = Callable[[], list[Config]]
#: STATUS= while a backlog keeps the passes going without a pause, at most this often.
STATUS_SECONDS = 10.0


class Fleet:
    def __init__(self, load: FleetLoader, source: str, *, notifier: Notifier | None = None,
                 clock: Clock = utc_now) -> None:
        self._load = load
        self._source = source
        self._clock = clock
        self._control = ProcessControl(notifier or Notifier())
        self._me = instance_id()
        self._members: dict[str, Member] = {}  # by mailbox key
        self._leases: dict[str, Lease] = {}  # what the one fence checks, by mailbox key
        self._polling: Member | None = None  # the member whose pass runs now
        self._look_at = 0.0  # monotonic time of the next look at the lease table
        self._round: tuple[datetime, int] | None = None  # the last round's end and new tickets

    # -- the process ------------------------------------------------------------------------

    def run(self) -> None:
        faulthandler.enable()
        control, notifier = self._control, self._control.notifier
        control.install_signals()
        notifier.status("starting: checking the configuration, storage and database")
        try:
            configs = self._load()
            self._start(configs)
            # [metrics] is shared, read at start; the ticket gauges are labelled per village.
            self._metrics = Metrics.start(configs[0], villages=configs)
        except MailflowError as exc:
            notifier.status(f"not started: {exc}")
            raise
        log.info("mailflow fleet started instance=%s mailboxes=%d watchdog=%s", self._me,
                 len(self._members), f"{notifier.watchdog_seconds:g}s"
                 if notifier.watchdog_seconds else "off")
        notifier.ready(f"ready; {len(self._members)} mailboxes in the file, taking a share")
        try:
            while not control.stopping():
                if control.reload_requested:
                    self._reload()
                self._look()
                self._pass_due()
                control.wait(self._pause(), piece=self._piece, turn=self._tend)
        finally:
            control.notice_stop()
            self._stop()

    def _start(self, configs: list[Config]) -> None:
        self._database_url = configs[0].database_url
        self._engine: Engine = make_engine(self._database_url)
        prepare(self._engine)
        install_fence(self._engine, self._leases, self._clock)
        shortest = min(configs, key=lambda cfg: cfg.intake.lease_seconds)
        self._share = Share(self._engine, self._me, rules_of(shortest), self._clock)
        self._configure(configs)

    def _configure(self, configs: list[Config]) -> None:
        """Members for `configs`: kept ones get the new configuration, gone ones release."""
        fresh = {cfg.mailbox_key: cfg for cfg in configs}
        for key in [key for key in self._members if key not in fresh]:
            self._members.pop(key).give_up()
            self._leases.pop(key, None)
        for key, cfg in fresh.items():
            if key in self._members:
                self._members[key].replace(cfg)
            else:
                member = Member(cfg, self._engine, self._me, self._clock, self._between_messages)
                self._members[key] = member
                self._leases[key] = member.lease
        self._look_at = 0.0

    def _stop(self) -> None:
        for member in self._members.values():
            if member.lease.held:
                member.give_up()
        self._share.release()
        self._metrics.close()
        self._engine.dispose()
        self._control.close()
        log.info("mailflow stopped")

    # -- sharing and passes -----------------------------------------------------------------

    def _look(self) -> None:
        """The lease table, once per renewal period: take or release per the fair share."""
        if time.monotonic() < self._look_at:
            return
        self._look_at = time.monotonic() + self._share.presence.rules.renew
        try:
            taken = self._share.look(list(self._members.values()))
        except MailflowError as exc:
            log.warning("lease table not read, the held mailboxes go on (next look in %gs): "
                        "%s", self._share.presence.rules.renew, exc)
            return
        except Exception:
            log.exception("lease table look failed unexpectedly; the held mailboxes go on")
            return
        if taken:
            log.info("mailboxes taken: %d (%s); serving %d of %d", len(taken),
                     ", ".join(m.name for m in taken[:10]) + (", ..." if len(taken) > 10 else ""),
                     self._held(), len(self._members))

    def _held(self) -> int:
        return sum(1 for member in self._members.values() if member.lease.held)

    def _pass_due(self) -> None:
        """A pass of each held mailbox whose time came, until none is due. The next is chosen
        after each pass, the most overdue first; a flooded mailbox cut at the end of its slice
        is due from that moment, so it takes turns with the others (a village whose complaint
        just came waits for a few slices, not for the flood)."""
        new, passes, shown = 0, 0, time.monotonic()
        while not (self._control.stopping() or self._control.reload_requested):
            self._look()  # a long round still gives up its surplus and takes free ones
            member = self._next_due()
            if member is None:
                break
            self._polling = member
            try:
                result = member.poll()
            finally:
                self._polling = None
            passes += 1
            if result is not None:
                self._metrics.observe(result)
                new += result.intake.tickets if result.intake else 0
            self._tend()
            if time.monotonic() - shown >= STATUS_SECONDS:
                shown = time.monotonic()
                self._control.notifier.status(f"{self.describe()}; working through a backlog, "
                                              f"{new} new so far")
        if passes:
            self._round = (self._clock(), new)
            if not self._control.stopping():
                self._control.notifier.status(self.describe())

    def _next_due(self) -> Member | None:
        now = time.monotonic()
        due = [m for m in self._members.values() if m.lease.held and m.due <= now]
        return min(due, key=lambda m: m.due, default=None)

    def _between_messages(self) -> bool:
        """Asked by a pass between messages: the watchdog, a stop, and the other held leases
        renewed (not while the pass holds a transaction open: SQLite's one writer)."""
        if self._control.between_messages():
            return True
        polling = self._polling
        if polling is not None and polling.slice_over():
            return True
        if polling is None or polling.lease.open_fences == 0:
            self._renew(skip=polling)
        return False

    def _renew(self, skip: Member | None = None) -> bool:
        """Renew each held lease that is due, all in one transaction (store/lease_table.py
        `renew_many`); one it did not renew is tried alone. True when one was lost.

        Leases taken at different moments fall due at different moments: renewing only those
        due made one transaction at almost every call. Once one is due, every lease past half
        its renewal period is renewed with it, so that they fall due together from then on."""
        now = self._clock()
        members = [m for m in self._members.values() if m is not skip]
        if not any(m.lease.due() for m in members):
            return False
        due = [m for m in members if m.lease.due(within=m.lease.rules.renew / 2)]
        try:
            renewed = renew_many(self._engine, [m.lease for m in due], now)
        except MailflowError as exc:
            log.warning("%d leases not renewed (tried again soon): %s", len(due), exc)
            return False
        lost = False
        for member in due:
            if member.lease.mailbox in renewed:
                continue
            try:
                kept = member.lease.keep(now)
            except MailflowError as exc:
                log.warning("mailbox %s: lease not renewed (tried again soon): %s",
                            member.name, exc)
                continue
            if not kept:
                lost = True
                member.service = None
        return lost

    def _tend(self) -> bool:
        """Between passes and in each piece of a wait: renew; True ends the wait."""
        self._control.keepalive()
        lost = self._renew()
        return lost or time.monotonic() >= self._look_at

    def _pause(self) -> float:
        held = [m.due for m in self._members.values() if m.lease.held]
        until = min([*held, self._look_at]) - time.monotonic()
        return max(0.0, until)

    def _piece(self, left: float) -> float:
        return min(left, self._share.presence.rules.renew / 2)

    # -- SIGHUP -----------------------------------------------------------------------------

    def _reload(self) -> None:
        control = self._control
        control.reload_requested = False
        control.notifier.reloading()
        log.debug("signal SIGHUP received, reloading the configuration from %s", self._source)
        try:
            configs = self._load()
            if configs[0].database_url != self._database_url:
                raise ConfigError("[database] url changed: a reload keeps the running database; "
                                  "restart the service to use another")
            self._configure(configs)
        except MailflowError as exc:
            log.error("configuration reload refused, the running configuration stays: %s",
                      " | ".join(line.strip() for line in str(exc).splitlines() if line.strip()))
            control.notifier.ready("configuration reload refused (see the log); running as before")
            return
        except Exception as exc:
            log.error("configuration reload failed unexpectedly, the running configuration "
                      "stays: %s: %s", type(exc).__name__, exc, exc_info=True)
            control.notifier.ready("configuration reload refused (see the log); running as before")
            return
        log.info("configuration reloaded from %s: %d mailboxes", self._source, len(self._members))
        control.notifier.ready("configuration reloaded")

    # -- STATUS= ----------------------------------------------------------------------------

    def describe(self) -> str:
        """e.g. 'serving 125 of 250 mailboxes; last round 10:41 WIB, 3 new, 0 refused logins'."""
        members = list(self._members.values())
        refused = sum(1 for m in members if m.lease.held and m.refused)
        parts = [f"serving {self._held()} of {len(members)} mailboxes"]
        if self._round is not None and members:
            at, new = self._round
            parts.append(f"last round {at.astimezone(members[0].cfg.zone):%H:%M %Z}, {new} new,"
                         f" {refused} refused logins")
        else:
            parts.append(f"{refused} refused logins")
        return "; ".join(parts)
