"""Wiring: one poll is an intake pass, the jobs that fell due, then an outbox pass.

`Service` receives its edges (the IMAP source, the SMTP sender, the database engine, the
clock, the DKIM check); whatever is not given is built from the configuration. Tests and
the demo pass their own, and nothing is module-level state. The process around it (signals,
the loop, systemd, reloading the configuration) is mailflow/daemon.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mailflow.adapters.clock import Clock, utc_now
from mailflow.adapters.dkim import DnsTxt, dkim_checker
from mailflow.adapters.imap import ImapSource
from mailflow.adapters.priority_words import configured_word_lists
from mailflow.adapters.smtp import Sender, SmtpSender
from mailflow.compose.mime import composer_for
from mailflow.config import Config
from mailflow.core.lease import LeaseRules
from mailflow.core.sender_auth import DkimCheck
from mailflow.core.workdays import calendar_for
from mailflow.errors import (
    ImapUnavailable,
    LoginRefused,
    MailboxBusy,
    StorageUnavailable,
    TransientError,
)
from mailflow.runners.handlers import Handlers
from mailflow.runners.intake import Intake
from mailflow.runners.intake_stats import IntakeStats
from mailflow.runners.login_alerts import LoginAlerts
from mailflow.runners.outbox import Outbox, OutboxStats
from mailflow.runners.schedule import Job, Schedule, ScheduleStats
from mailflow.store.db import Engine, driver_said, make_engine, storage_failure
from mailflow.store.files import FileStore, private_directories
from mailflow.store.instance import instance_id
from mailflow.store.lease import Lease, LeaseState, install_fence
from mailflow.store.lock import MailboxLock
from mailflow.store.migrate import prepare

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    intake: IntakeStats | None
    outbox: OutboxStats
    imap_error: str | None = None
    storage_error: str | None = None
    login_error: str | None = None
    jobs: ScheduleStats = field(default_factory=ScheduleStats)
    # Which login was refused (login_error says either); the daemon paces each server apart.
    imap_refused: str | None = None
    smtp_refused: str | None = None
    # Another instance held the mailbox's lease: intake was left to it (the daemon).
    lease: LeaseState | None = None


class Service:
    def __init__(self, cfg: Config, *, clock: Clock = utc_now, source: ImapSource | None = None,
                 sender: Sender | None = None, engine: Engine | None = None,
                 dkim: DkimCheck | None = None, dns_txt: DnsTxt | None = None,
                 jobs: Sequence[Job] = (),
                 stop_requested: Callable[[], bool] = lambda: False,
                 log_outages: bool = True, instance: str | None = None,
                 keep_lease: bool = False, lease: Lease | None = None) -> None:
        """`dns_txt` replaces DNS for DKIM key lookups (tests serve their own keys); `jobs` are
        the clock-driven jobs run once per poll (runners/schedule.py); `stop_requested` is
        asked between messages, and True ends the poll there (the daemon's SIGTERM);
        `log_outages` False leaves the lines about refused logins, unreachable servers and the
        database to the caller (the daemon logs one per change of state, not one per pass).

        `instance` names this process in the mailbox's lease (store/lease.py; a new one by
        default); `keep_lease` True (the daemon) holds the lease from pass to pass and lets
        a pass without it do the jobs and the outbox, False gives it up after each pass and
        makes a pass without it MailboxBusy (`poll --once`). `lease`: one the caller made and
        fences (a fleet: one fence over all its mailboxes on one engine, mailflow/fleet.py)."""
        self.cfg = cfg
        self.log_outages = log_outages
        self.clock = clock
        try:
            private_directories(cfg.storage_dir)
        except OSError as exc:
            raise StorageUnavailable(f"[storage] directory {str(cfg.storage_dir)!r}: "
                                     f"{exc.strerror or exc}") from exc
        self.engine = engine or make_engine(cfg.database_url)
        prepare(self.engine)  # creates a new database; refuses one that needs `mailflow db upgrade`
        self.source = source or ImapSource(cfg.imap)
        self.keep_lease = keep_lease
        if lease is None:
            lease = Lease(self.engine, self.source_key, instance or instance_id(),
                          LeaseRules(cfg.intake.lease_seconds, cfg.intake.lease_renew_seconds),
                          quiet=not keep_lease)
            install_fence(self.engine, {lease.mailbox: lease}, clock)
        self.lease = lease
        files = FileStore(cfg.storage_dir)
        composer = composer_for(cfg)
        # Read once per Service: a SIGHUP builds a new one, so an edited file is read again.
        lists = configured_word_lists(cfg.priority.path)
        handlers = Handlers(cfg, calendar_for(cfg.calendar), composer, files, clock,
                            dkim or dkim_checker(dns_txt), lists)
        self.stop_requested = stop_requested
        self.intake = Intake(cfg, self.engine, handlers, files, clock, self._between_messages)
        self.outbox = Outbox(self.engine, sender or SmtpSender(cfg.smtp), cfg.outbox,
                             stop_requested, scope=cfg.scope)
        self.schedule = Schedule(self.engine, jobs, stop_requested)
        self.alerts = LoginAlerts(cfg, self.engine, composer)

    def poll_once(self, *, intake: bool = True, outbox: bool = True,
                  wait: float | None = None) -> PollResult:
        """Intake, the jobs that fell due, then the outbox: an unreachable IMAP server never holds
        back mail to send, and what the jobs queue goes out in the same poll. `intake` and
        `outbox` False leave that part out (the daemon, while a login is refused).

        The whole pass holds the mailbox's lock (store/lock.py): another process serving the
        same mailbox is waited for up to `wait` seconds ([intake] lock_wait_seconds by
        default), then this raises MailboxBusy, naming it. Intake also needs the mailbox's
        lease (store/lease.py), which instances on other machines see too."""
        lock = MailboxLock(self.cfg.storage_dir, self.source_key)
        if not lock.acquire(self.cfg.intake.lock_wait_seconds if wait is None else wait):
            holder = lock.holder()
            raise MailboxBusy(f"another mailflow process{f' (pid {holder})' if holder else ''} "
                              f"is serving the mailbox {self.source_key}; try again later, or "
                              "stop it (systemctl stop mailflow)")
        try:
            return self._pass(intake=intake, outbox=outbox)
        finally:
            if not self.keep_lease:
                self.lease.release(self.clock())
            lock.release()

    @property
    def source_key(self) -> str:
        return self.cfg.mailbox_key

    def _pass(self, *, intake: bool, outbox: bool) -> PollResult:
        result = PollResult(None, OutboxStats())
        if intake:
            # `poll --once` holds the lock file: a service on this machine is between passes.
            try:
                state = self.lease.take(self.clock(), local=not self.keep_lease)
            except StorageUnavailable as exc:
                self._intake_paused(result, exc)
            else:
                self._lease_or_busy(state, result)
        if self.stop_requested():
            return result  # what intake queued goes out at the next start
        try:
            result.jobs = self.schedule.run_due(self.clock())
            if outbox:
                self._outbox(result)
        except Exception as exc:
            # The database going away between two statements (a restart, a full disk) is an
            # outage like an unreachable mail server: one line, and the next poll goes on.
            if not (isinstance(exc, StorageUnavailable) or storage_failure(exc)):
                raise
            result.storage_error = driver_said(exc)
            self._say(logging.ERROR, "database unavailable, the jobs and the outbox wait for the "
                      "next poll: %s", result.storage_error)
        return result

    def _lease_or_busy(self, state: LeaseState, result: PollResult) -> None:
        """Intake when this instance holds the lease; else the daemon leaves it to the
        holder, and `poll --once` says who that is (MailboxBusy, exit 75)."""
        if state.held:
            self._intake(result)
        elif not self.keep_lease:
            raise MailboxBusy(f"another mailflow instance ({state.holder}) holds the lease "
                              f"of the mailbox {self.source_key}; try again later")
        else:
            result.lease = state

    def _between_messages(self) -> bool:
        """Asked by intake between messages: a stop, or the lease lost (renewed here)."""
        # Inside an intake group `keep` renews nothing: the group's first statement checked and
        # renewed the lease in the group's own transaction (store/lease.py FENCE_OPTION).
        return self.stop_requested() or not self.lease.keep(self.clock())

    def _say(self, level: int, message: str, *args: object) -> None:
        log.log(level if self.log_outages else logging.DEBUG, message, *args)

    def _intake_paused(self, result: PollResult, exc: StorageUnavailable) -> None:
        """The lease or the intake met the database or the disk gone."""
        result.storage_error = str(exc)
        self._say(logging.ERROR, "storage unavailable, intake paused until the next poll: %s", exc)

    def _intake(self, result: PollResult) -> None:
        try:
            result.intake = self.intake.run(self.source)
        except LoginRefused as exc:
            result.login_error = result.imap_refused = str(exc)
            self._say(logging.ERROR, "imap login refused, intake stopped until the password is "
                      "fixed: %s", exc)
            self.alerts.refused("imap", self.clock())
            return
        except ImapUnavailable as exc:
            result.imap_error = str(exc)
            self._say(logging.WARNING, "imap unavailable, intake skipped this pass (the next "
                      "one retries): %s", exc)
        except StorageUnavailable as exc:
            self._intake_paused(result, exc)
        except MailboxBusy as exc:
            log.info("intake pass ended early, the next one goes on: %s", exc)
        except TransientError as exc:
            result.imap_error = str(exc)
            self._say(logging.WARNING, "intake interrupted (the next pass retries): %s", exc)
        else:
            self.alerts.works("imap", self.clock())

    def _outbox(self, result: PollResult) -> None:
        try:
            result.outbox = self.outbox.send_pass(self.clock())
        except LoginRefused as exc:
            result.login_error = result.login_error or str(exc)
            result.smtp_refused = str(exc)
            self._say(logging.ERROR, "smtp login refused, mail waits until the password is "
                      "fixed: %s", exc)
            self.alerts.refused("smtp", self.clock())
            return
        stats = result.outbox
        if stats.sent or stats.deferred or stats.parked:  # the server took the login
            self.alerts.works("smtp", self.clock())
