"""Each mail server's login as the daemon sees it (core/backoff.py's Link), and the log.

The daemon tells `Links` what each pass found; the log gets one line per change of state
(a login starts being refused, a server goes away, either comes back), the retries only
DEBUG lines, so a night of outage is two lines in the journal, not hundreds.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime
from typing import Protocol

from mailflow.adapters.clock import Clock
from mailflow.config import Config, ImapConfig, SmtpConfig
from mailflow.core.backoff import Link, RetryPolicy, State
from mailflow.core.login_notice import Server
from mailflow.runners.outbox import OutboxStats

log = logging.getLogger("mailflow.daemon")


class PassOutcome(Protocol):
    """What a pass found, as Links reads it (mailflow/service.py PollResult)."""

    @property
    def intake(self) -> object | None: ...
    @property
    def outbox(self) -> OutboxStats: ...
    @property
    def imap_refused(self) -> str | None: ...
    @property
    def imap_error(self) -> str | None: ...
    @property
    def smtp_refused(self) -> str | None: ...
    @property
    def storage_error(self) -> str | None: ...


class Links:
    def __init__(self, clock: Clock, prefix: str = "") -> None:
        """`prefix` begins each log line (a fleet's \"mailbox klero: \")."""
        self.clock = clock
        self.prefix = prefix
        self.servers: dict[Server, Link] = {"imap": Link(RetryPolicy()), "smtp": Link(RetryPolicy())}
        self.since: dict[Server, datetime] = {}  # when the trouble began, for STATUS=
        self.storage_down_since: datetime | None = None
        self._random = random.Random()

    def __getitem__(self, server: Server) -> Link:
        return self.servers[server]

    def configure(self, cfg: Config) -> None:
        retry = cfg.retry
        policy = RetryPolicy(tuple(retry.login_waits_seconds), retry.login_attempts_per_hour,
                             retry.reconnect_first_seconds, retry.reconnect_max_seconds)
        for link in self.servers.values():
            link.policy = policy

    def waits(self, now: float) -> list[float]:
        """Seconds until each server in trouble is to be tried again."""
        return [wait for link in self.servers.values() if (wait := link.wait(now)) is not None]

    def follow(self, result: PassOutcome, cfg: Config, *, intake: bool, outbox: bool) -> None:
        """Tell each server's Link what a pass found (`intake`/`outbox`: what it tried)."""
        if intake:
            if result.imap_refused:
                self.refused("imap", result.imap_refused, cfg)
            elif result.imap_error:
                self.unreachable("imap", result.imap_error)
            elif result.intake is not None:
                self.works("imap")
        if outbox:
            stats = result.outbox
            if result.smtp_refused:
                self.refused("smtp", result.smtp_refused, cfg)
            elif stats.sent or stats.deferred or stats.parked:
                self.works("smtp")
        self.storage(result.storage_error)

    def storage(self, error: str | None) -> None:
        """The database or the storage directory gone, or back: a daemon polling every few
        seconds through a database restart would otherwise log a line or two per pass. A pass
        tries it again each time; there is no backoff to keep."""
        if error is None:
            if self.storage_down_since is not None:
                took = str(self.clock() - self.storage_down_since).split(".")[0]
                log.info(self.prefix + "storage available again after %s", took)
                self.storage_down_since = None
        elif self.storage_down_since is None:
            self.storage_down_since = self.clock()
            log.error(self.prefix + "storage unavailable, intake, the jobs and the outbox wait; "
                      "trying again at each pass: %s", error)
        else:
            log.debug(self.prefix + "storage still unavailable: %s", error)

    def refused(self, server: Server, detail: str, cfg: Config) -> None:
        link, now = self.servers[server], time.monotonic()
        if link.refused(now):
            self.since[server] = self.clock()
            section = cfg.imap if server == "imap" else cfg.smtp
            where = (f"[{server}] password_file {section.password_file}" if section.password_file
                     else f"[{server}] password")
            waits = "intake waits" if server == "imap" else "mail waits in the outbox"
            log.error(self.prefix + "%s login refused, %s; retrying with growing waits, at most %d "
                      "attempts an hour; fix [%s] username or %s, then reload (SIGHUP) to retry "
                      "at once: %s", server, waits, link.policy.login_per_hour, server, where, detail)
        else:
            log.debug(self.prefix + "%s login refused again (refusal %d), next try in %.0fs", server,
                      link.failures, link.wait(now) or 0.0)

    def unreachable(self, server: Server, detail: str, *, at_start: bool = False) -> None:
        link, now = self.servers[server], time.monotonic()
        if link.unreachable(now, self._random.random()):
            self.since[server] = self.clock()
            log.warning(self.prefix + "%s unreachable%s, retrying with backoff up to %gs; the "
                        "outbox works: %s", server, " at start" if at_start else "",
                        link.policy.reconnect_max, detail)
        else:
            log.debug(self.prefix + "%s still unreachable (failure %d), next try in %.2fs: %s",
                      server, link.failures, link.wait(now) or 0.0, detail)

    def works(self, server: Server) -> None:
        left = self.servers[server].succeeded()
        if left is None:
            return
        since = self.since.pop(server, None)
        took = f" after {str(self.clock() - since).split('.')[0]}" if since else ""
        log.info(self.prefix + "%s %s again%s", server,
                 "login works" if left is State.REFUSED else "reachable", took)

    def new_credentials(self, old: Config, new: Config) -> None:
        """A refused login is tried at once with credentials a reload changed."""
        pairs: list[tuple[Server, ImapConfig | SmtpConfig, ImapConfig | SmtpConfig]] = [
            ("imap", old.imap, new.imap), ("smtp", old.smtp, new.smtp)]
        for server, before, after in pairs:
            if (before.host, before.username, before.secret()) != (after.host, after.username,
                                                                   after.secret()):
                if self.servers[server].state is State.REFUSED:
                    log.info(self.prefix + "%s credentials changed, trying the login at once", server)
                self.servers[server].credentials_changed(time.monotonic())
