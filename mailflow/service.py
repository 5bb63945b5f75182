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
from mailflow.adapters.smtp import Sender, SmtpSender
from mailflow.compose.mime import Composer
from mailflow.compose.render import Renderer
from mailflow.config import Config
from mailflow.core.notices import signature
from mailflow.core.sender_auth import DkimCheck
from mailflow.core.workdays import calendar_for
from mailflow.errors import ImapUnavailable, LoginRefused, StorageUnavailable, TransientError
from mailflow.runners.handlers import Handlers
from mailflow.runners.intake import Intake, IntakeStats
from mailflow.runners.outbox import Outbox, OutboxStats
from mailflow.runners.schedule import Job, Schedule, ScheduleStats
from mailflow.store.db import Engine, make_engine
from mailflow.store.files import FileStore, private_directories
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


class Service:
    def __init__(self, cfg: Config, *, clock: Clock = utc_now, source: ImapSource | None = None,
                 sender: Sender | None = None, engine: Engine | None = None,
                 dkim: DkimCheck | None = None, dns_txt: DnsTxt | None = None,
                 jobs: Sequence[Job] = (),
                 stop_requested: Callable[[], bool] = lambda: False) -> None:
        """`dns_txt` replaces DNS for DKIM key lookups (tests serve their own keys); `jobs` are
        the clock-driven jobs run once per poll (runners/schedule.py); `stop_requested` is
        asked between messages, and True ends the poll there (the daemon's SIGTERM)."""
        self.cfg = cfg
        self.clock = clock
        try:
            private_directories(cfg.storage_dir)
        except OSError as exc:
            raise StorageUnavailable(f"[storage] directory {str(cfg.storage_dir)!r}: "
                                     f"{exc.strerror or exc}") from exc
        self.engine = engine or make_engine(cfg.database_url)
        prepare(self.engine)  # creates a new database; refuses one that needs `mailflow db upgrade`
        self.source = source or ImapSource(cfg.imap)
        files = FileStore(cfg.storage_dir)
        composer = Composer(Renderer(), cfg.smtp.from_address, signature(cfg))
        handlers = Handlers(cfg, calendar_for(cfg.calendar), composer, files, clock,
                            dkim or dkim_checker(dns_txt))
        self.stop_requested = stop_requested
        self.intake = Intake(cfg, self.engine, handlers, files, clock, stop_requested)
        self.outbox = Outbox(self.engine, sender or SmtpSender(cfg.smtp), cfg.outbox,
                             stop_requested)
        self.schedule = Schedule(self.engine, jobs, stop_requested)

    def poll_once(self) -> PollResult:
        """Intake, the jobs that fell due, then the outbox: an unreachable IMAP server never holds
        back mail to send, and what the jobs queue goes out in the same poll."""
        result = PollResult(None, OutboxStats())
        try:
            result.intake = self.intake.run(self.source)
        except LoginRefused as exc:
            result.login_error = str(exc)
            log.error("imap login refused, intake stopped until the password is fixed: %s", exc)
        except ImapUnavailable as exc:
            result.imap_error = str(exc)
            log.warning("imap unavailable, will retry next poll: %s", exc)
        except StorageUnavailable as exc:
            result.storage_error = str(exc)
            log.error("storage unavailable, intake paused until the next poll: %s", exc)
        except TransientError as exc:
            result.imap_error = str(exc)
            log.warning("intake interrupted, will retry next poll: %s", exc)
        if self.stop_requested():
            return result  # what intake queued goes out at the next start
        result.jobs = self.schedule.run_due(self.clock())
        try:
            result.outbox = self.outbox.send_pass(self.clock())
        except LoginRefused as exc:
            result.login_error = result.login_error or str(exc)
            log.error("smtp login refused, mail waits until the password is fixed: %s", exc)
        return result
