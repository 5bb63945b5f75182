"""The process `mailflow run` is: start-up checks, the poll loop, signals, reloads, systemd.

Start-up: the configuration is loaded and checked (everything but the mail servers) before
systemd hears READY=1, so a configuration error ends the process with exit 78, which the
unit's RestartPreventExitStatus=78 honours (it would not for an ExecStartPre= check). Then
one IMAP login: READY=1 follows whether it worked or not, with a STATUS= saying which, because
the outbox must keep sending while the IMAP server is down; the loop retries the login.

The loop: a poll (mailflow/service.py), then a wait cut into pieces short enough to send
WATCHDOG=1 twice per `WatchdogSec=` (a poll pings between messages). The wait is in IMAP IDLE
where the server offers it (adapters/imap_idle.py: new mail ends it), and lasts at most
`poll_seconds`, less when outgoing mail or a retry falls due. Each server's login is a Link
(core/backoff.py): a refused login is retried after growing waits, a capped number of times
an hour, an unreachable server with backoff and jitter; one log line per change of state.

Signals only set flags and wake the wait (mailflow/adapters/wakeup.py). SIGTERM and SIGINT:
the message in hand is finished and the process exits 0 within seconds. SIGHUP: at the next
turn of the loop the configuration is loaded and checked again; a good one replaces the
running wiring, a bad one is refused with one ERROR line and the running one stays.
"""

from __future__ import annotations

import faulthandler
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from mailflow.adapters.clock import Clock, utc_now
from mailflow.adapters.imap_idle import ImapWaiter
from mailflow.adapters.systemd import Notifier
from mailflow.config import Config
from mailflow.core.backoff import State
from mailflow.core.login_notice import Server
from mailflow.errors import LoginRefused, MailboxBusy, MailflowError, TransientError
from mailflow.metrics import Metrics
from mailflow.runners.lease_keeper import LeaseKeeper
from mailflow.runners.links import Links
from mailflow.runners.parked_note import daily_jobs
from mailflow.runners.process_control import ProcessControl
from mailflow.service import PollResult, Service
from mailflow.store.instance import instance_id

log = logging.getLogger(__name__)

#: Loads the configuration and runs the offline checks; raises MailflowError when one fails.
Loader = Callable[[], Config]


class Daemon:
    """Runs one Service at a time until SIGTERM, and replaces it on SIGHUP."""

    def __init__(self, load: Loader, source: str, *, notifier: Notifier | None = None,
                 clock: Clock = utc_now) -> None:
        """`source` names where `load` reads from, for the log (the configuration file)."""
        self._load = load
        self._source = source
        self._notifier = notifier or Notifier()
        self._clock = clock
        # Signals, the stop and reload flags, the watchdog (shared with mailflow/fleet.py)
        self._control = ProcessControl(self._notifier)
        # Each server's state: when to try its login again, and since when it is in trouble.
        self._links = Links(clock)
        self._idle: ImapWaiter | None = None
        self._idle_offered: bool | None = None  # unknown until a connection asked
        self._idle_after = 0.0  # no new IDLE connection before (monotonic)
        self._smtp_failed = False  # the last outbox pass found SMTP unreachable
        self._busy = False  # another process held the mailbox at the last pass
        # This process in the mailbox's lease, the same across reloads (runners/lease_keeper.py)
        self._instance, self._lease = instance_id(), LeaseKeeper(clock)

    # -- the process ------------------------------------------------------------------------

    def run(self) -> None:
        """Start, loop until a stop signal, stop; start-up errors propagate (exit statuses)."""
        faulthandler.enable()  # the watchdog's SIGABRT then logs where each thread was stuck
        self._control.install_signals()
        self._notifier.status("starting: checking the configuration, storage and database")
        try:
            service = self._service(self._load())
            self._metrics = Metrics.start(service.cfg)  # [metrics]; read at start only
        except MailflowError as exc:
            self._notifier.status(f"not started: {exc}")
            raise
        log.info("mailflow started instance=%s poll_seconds=%s watchdog=%s", self._instance,
                 service.cfg.intake.poll_seconds,
                 f"{self._notifier.watchdog_seconds:g}s" if self._notifier.watchdog_seconds
                 else "off")
        self._notifier.ready(self._first_login(service))
        try:
            while not self._control.stopping():
                if self._control.reload_requested:
                    service = self._reload(service)
                self._open_idle(service)  # before the pass: nothing arrives unseen in between
                self._poll(service)
                self._between_passes(service)
        finally:
            self._close_idle()
            self._control.notice_stop()
            self._lease.release(service.lease)
            self._metrics.close()
            service.engine.dispose()
            self._control.close()
            log.info("mailflow stopped")

    def _service(self, cfg: Config) -> Service:
        """The wiring for `cfg`; its runners ask the daemon between messages whether to stop.
        The daemon logs refused logins and outages itself, once per change of state."""
        self._links.configure(cfg)
        service = Service(cfg, jobs=daily_jobs(cfg), stop_requested=self._control.between_messages,
                          log_outages=False, instance=self._instance, keep_lease=True)
        self._lease.lease = service.lease
        return service

    def _first_login(self, service: Service) -> str:
        """READY's STATUS: one IMAP login, so that READY means the mailbox answered, or says why
        not. A refused or failed login does not hold READY back: the outbox works without it."""
        try:
            found = service.source.probe()
        except LoginRefused as exc:
            self._links.refused("imap", str(exc), service.cfg)
            service.alerts.refused("imap", self._clock())
            return f"IMAP login refused: {exc}; the outbox works"
        except TransientError as exc:
            self._links.unreachable("imap", str(exc), at_start=True)
            return f"{self._trouble('imap', service)}; the outbox works"
        log.info("imap ready: %s", found)
        return "ready; IMAP login ok, first pass starting"

    def _poll(self, service: Service) -> None:
        self._notifier.status("polling the inbox and sending the outbox")
        now = time.monotonic()
        intake, outbox = self._links["imap"].may_try(now), self._links["smtp"].may_try(now)
        try:
            # Not waiting for the lock: an administrator's `poll --once` does this pass's work.
            result = service.poll_once(intake=intake, outbox=outbox, wait=0)
            self._smtp_failed, self._busy = result.outbox.smtp_unavailable, False
            self._follow(result, service, intake=intake, outbox=outbox)
        except MailboxBusy as exc:
            if not self._busy:
                log.info("pass skipped, trying again in a second: %s", exc)
            self._busy = True
            self._notifier.status("another mailflow process is serving the mailbox; waiting")
            return
        except Exception:
            # A bug must not take the service down; systemd would restart it anyway,
            # but staying up keeps the outbox moving.
            log.exception("poll failed unexpectedly")
            self._notifier.status("last poll failed unexpectedly (see the log); retrying")
            return
        self._metrics.observe(result)
        waiting = self._lease.follow(result.lease)  # another instance serves the mailbox
        if waiting:
            self._close_idle()
        if not self._control.stopping():
            self._notifier.status(waiting or self._describe(result, service))

    # -- refused logins and outages: one line per change of state ----------------------------

    def _follow(self, result: PollResult, service: Service, *, intake: bool, outbox: bool) -> None:
        """Tell each server's Link what the pass found, and log when its state changes."""
        self._links.follow(result, service.cfg, intake=intake, outbox=outbox)

    def _pause(self, service: Service) -> float:
        """Until the next pass: `poll_seconds`, or less when a server is due to be tried or
        outgoing mail falls due (not while SMTP fails: its mail waits for the poll)."""
        now = time.monotonic()
        waits = self._links.waits(now)
        if self._links["smtp"].state is State.UP and not self._smtp_failed:
            due = service.outbox.next_due()
            if due is not None:
                # At least half a second: a row that stays due (a bug) must not spin the loop.
                waits.append(max(0.5, (due - self._clock()).total_seconds()))
        return min([service.cfg.intake.poll_seconds, *waits, *([1.0] if self._busy else [])])

    # -- IMAP IDLE: a pass as soon as mail arrives -------------------------------------------

    def _open_idle(self, service: Service) -> None:
        """The IDLE connection, when configured, offered and the login works."""
        cfg = service.cfg.intake
        if (self._idle is not None or not cfg.idle or self._idle_offered is False
                or self._lease.waiting
                or self._links["imap"].state is not State.UP or time.monotonic() < self._idle_after):
            return
        waiter = ImapWaiter(service.source, cfg.idle_renew_seconds)
        try:
            offered = waiter.open()
        except Exception as exc:
            known = isinstance(exc, MailflowError)
            log.log(logging.DEBUG if known else logging.WARNING, "imap IDLE connection failed, "
                    "polling meanwhile: %s", exc, exc_info=not known)
            self._idle_after = time.monotonic() + cfg.poll_seconds
            return
        if not offered:
            log.info("imap server offers no IDLE; polling every %gs", cfg.poll_seconds)
        else:
            log.debug("imap IDLE on, renewed every %gs", cfg.idle_renew_seconds)
        self._idle_offered, self._idle = offered, waiter if offered else None

    def _close_idle(self, *, pause: float = 0.0) -> None:
        if self._idle is not None:
            self._idle.close()
        self._idle, self._idle_after = None, time.monotonic() + pause

    def _between_passes(self, service: Service) -> None:
        """In IDLE, if it is on, until new mail, a signal, or the pause is over."""
        if self._idle is None:
            self._open_idle(service)  # e.g. the server is back
            if self._idle is not None:
                return  # a pass at once: mail may have come before the IDLE began
        seconds, idle = self._pause(service), self._idle
        if idle is None:
            self._wait(seconds)
            return
        end = time.monotonic() + seconds
        while not (self._control.stopping() or self._control.reload_requested):
            self._control.keepalive()
            left = end - time.monotonic()
            if left <= 0 or self._lease.turn():
                return
            try:
                if idle.wait(self._lease.piece(min(left, self._notifier.watchdog_seconds or left)),
                             self._control.wakeup.fileno()):
                    log.debug("imap IDLE: new mail, a pass starts")
                    return
            except Exception as exc:
                # A pass at once finds out whether the server is gone (and backs off if so);
                # anything but a MailflowError is a bug, logged, and must not stop the service.
                known = isinstance(exc, MailflowError)
                log.log(logging.DEBUG if known else logging.WARNING, "imap IDLE connection "
                        "lost: %s", exc, exc_info=not known)
                self._close_idle(pause=service.cfg.retry.reconnect_first_seconds)
                return
            self._control.wakeup.drain()

    def _wait(self, seconds: float) -> None:
        """The pause between polls, in pieces no longer than the watchdog interval; a signal
        ends it at once."""
        self._control.wait(seconds, piece=self._lease.piece, turn=self._lease.turn)

    # -- SIGHUP -----------------------------------------------------------------------------

    def _reload(self, current: Service) -> Service:
        """A checked new configuration and its wiring, or the running one if the new is bad."""
        self._control.reload_requested = False
        self._notifier.reloading()
        self._close_idle()  # the new configuration may name another server
        self._idle_offered = None
        log.debug("signal SIGHUP received, reloading the configuration from %s", self._source)
        fresh = current
        try:
            fresh = self._service(self._load())
        except MailflowError as exc:
            log.error("configuration reload refused, the running configuration stays: %s",
                      " | ".join(line.strip() for line in str(exc).splitlines() if line.strip()))
        except Exception as exc:
            log.error("configuration reload failed unexpectedly, the running configuration "
                      "stays: %s: %s", type(exc).__name__, exc, exc_info=True)
        else:
            if fresh.lease.mailbox != current.lease.mailbox:
                self._lease.release(current.lease)
            current.engine.dispose()
            log.info("configuration reloaded from %s", self._source)
            self._links.new_credentials(current.cfg, fresh.cfg)
        self._notifier.ready("configuration reloaded" if fresh is not current
                             else "configuration reload refused (see the log); running as before")
        return fresh

    # -- STATUS= ----------------------------------------------------------------------------

    def _describe(self, result: PollResult, service: Service) -> str:
        """What `systemctl status` shows after a poll, e.g. 'idle; last pass 10:41 WIB, 0 new,
        0 replies, 0 sent', or 'IMAP unreachable since 10:02 WIB; next try 10:07 WIB; ...'."""
        now = self._clock()
        last = f"last pass {self._when(now, service)}"
        retrying = f"retrying every {service.cfg.intake.poll_seconds:g}s"
        if self._links["imap"].state is not State.UP:
            parts = [self._trouble("imap", service), f"{last}, {result.outbox.sent} sent"]
        else:
            intake = result.intake
            new = f"{intake.tickets} new, {intake.replies} replies" if intake else "no intake"
            parts = [f"idle; {last}, {new}, {result.outbox.sent} sent"]
        if self._links["smtp"].state is State.REFUSED:
            parts.append(self._trouble("smtp", service))
        elif result.outbox.smtp_unavailable:
            parts.append(f"SMTP unreachable, mail waits; {retrying}")
        if result.storage_error:
            parts.append(f"storage unavailable: {result.storage_error}")
        return "; ".join(parts)

    def _trouble(self, server: Server, service: Service) -> str:
        """'IMAP login refused since 10:02 WIB (fix the password, then reload); next try 10:17
        WIB', or 'IMAP unreachable since 10:02 WIB; next try 10:03 WIB'."""
        link = self._links[server]
        since = self._when(self._links.since.get(server) or self._clock(), service)
        wait = link.wait(time.monotonic()) or 0.0
        next_try = self._when(self._clock() + timedelta(seconds=wait), service)
        what = ("login refused" + (" (fix the password, then reload)")
                if link.state is State.REFUSED else "unreachable")
        mail = "; mail waits in the outbox" if server == "smtp" else ""
        return f"{server.upper()} {what} since {since}; next try {next_try}{mail}"

    def _when(self, moment: datetime, service: Service) -> str:
        """A time in the village's zone: the hour today, with the date on another day."""
        local, today = moment.astimezone(service.cfg.zone), self._clock().astimezone(service.cfg.zone)
        return local.strftime("%H:%M %Z" if local.date() == today.date() else "%Y-%m-%d %H:%M %Z")
