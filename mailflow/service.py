"""Wiring and the daemon loop: one poll is an intake pass then an outbox pass.

The clock is injected so that tests and the demo can fix the time; everything
else is built from the configuration, with no module-level state.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from mailflow.adapters.imap import ImapSource
from mailflow.compose.render import Renderer
from mailflow.config import Config
from mailflow.core.sender_auth import DnsTxt
from mailflow.core.workdays import WorkCalendar, calendar_from
from mailflow.errors import TransientError
from mailflow.runners.intake import Clock, Intake, IntakeStats
from mailflow.runners.outbox import Outbox, OutboxStats, SmtpSender
from mailflow.store.db import make_engine

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def make_calendar(cfg: Config) -> WorkCalendar:
    c = cfg.calendar
    return calendar_from(c.working_days, c.timezone, c.extra_holidays, c.extra_workdays)


@dataclass
class PollResult:
    intake: IntakeStats | None
    outbox: OutboxStats
    imap_error: str | None = None


class Service:
    def __init__(self, cfg: Config, clock: Clock = utc_now, dns_txt: DnsTxt | None = None) -> None:
        self.cfg = cfg
        self.clock = clock
        cfg.storage_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(cfg.database_url)
        self.source = ImapSource(cfg.imap)
        # `dns_txt` replaces DNS for DKIM key lookups (tests serve their own keys).
        self.intake = Intake(cfg, self.engine, make_calendar(cfg), Renderer(), clock, dns_txt)
        self.outbox = Outbox(self.engine, SmtpSender(cfg.smtp), cfg.outbox)
        self._stop = threading.Event()

    def poll_once(self) -> PollResult:
        """Intake, then the outbox: an unreachable IMAP server never holds back mail to send."""
        stats: IntakeStats | None = None
        error: str | None = None
        try:
            stats = self.intake.run(self.source)
        except TransientError as exc:
            error = str(exc)
            log.warning("imap unavailable, will retry next poll: %s", exc)
        sent = self.outbox.send_pass(self.clock())
        return PollResult(stats, sent, error)

    def run(self) -> None:
        """Poll until SIGTERM or SIGINT; a signal lets the current poll finish first."""
        self._install_signals()
        log.info("mailflow started poll_seconds=%s", self.cfg.intake.poll_seconds)
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                # A bug must not take the service down; systemd would restart it anyway,
                # but staying up keeps the outbox moving.
                log.exception("poll failed unexpectedly")
            self._stop.wait(self.cfg.intake.poll_seconds)
        log.info("mailflow stopped")
        self.engine.dispose()

    def stop(self) -> None:
        self._stop.set()

    def _install_signals(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s received, stopping after the current poll",
                     signal.Signals(signum).name)
            self._stop.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
