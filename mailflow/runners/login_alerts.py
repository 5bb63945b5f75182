"""Refusal episodes of a mail server's login, and the one mail to the administrator for each.

An episode begins with the first refused login and ends with the next login that works. It
is one row of the clock-driven job table (`job_run`, job "login-refused", run key "imap
login" or "smtp login") written in the same transaction as the administrator's mail: the unique
(job, run key) pair makes a second refusal, a restart or a second process within the same
episode find the row and queue nothing. When a login works again the row is renamed (its key
gets " ended <time>"), so the next refusal opens a new episode and mails again.

For an SMTP refusal the mail waits in the outbox like all other mail, and goes out once the
login works again; the log and systemd's STATUS say it at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from mailflow.compose.mime import Composer
from mailflow.config import Config
from mailflow.core.login_notice import Server, login_refused_notice
from mailflow.store import queries
from mailflow.store.db import Engine, IntegrityError, transaction
from mailflow.store.models import JobRun, OutboxMessage

log = logging.getLogger(__name__)

JOB = "login-refused"


class LoginAlerts:
    def __init__(self, cfg: Config, engine: Engine, composer: Composer) -> None:
        self.cfg = cfg
        self.engine = engine
        self.composer = composer
        # Servers whose episode may be open in the database: unknown (both) at start.
        self._maybe_open: set[Server] = {"imap", "smtp"}

    def key(self, server: Server) -> str:
        """One episode per server role, whatever the fix (a new password, user, host or port),
        and per village when the file serves several ("imap login klero"): one village's
        refused login must not hide another's."""
        return f"{server} login" + (f" {self.cfg.name}" if self.cfg.name else "")

    def refused(self, server: Server, now: datetime) -> bool:
        """Open the episode and queue the mail; False when it was open already."""
        self._maybe_open.add(server)
        try:
            with transaction(self.engine) as session:
                record = JobRun(job=JOB, run_key=self.key(server), done_at=now)
                session.add(record)
                session.flush()  # claim the episode first: an open one fails here
                notice = login_refused_notice(self.cfg, server, now)
                if notice is None:
                    record.note = "no [commands] admin_address: nobody mailed"
                else:
                    composed = self.composer.compose(notice, None, now)
                    session.add(OutboxMessage(
                        kind=notice.kind, message_id=composed.message_id,
                        recipient=composed.recipient, raw=composed.raw, next_attempt_at=now,
                        created_at=now, scope=self.cfg.scope))
                    record.note = "administrator mailed"
        except IntegrityError:
            return False
        log.info("%s login refusal recorded; %s", server,
                 "the administrator is mailed" if self.cfg.commands.admin_address
                 else "no [commands] admin_address to mail")
        return True

    def works(self, server: Server, now: datetime) -> None:
        """A login worked: close the episode if one is open (one query, then none)."""
        if server not in self._maybe_open:
            return
        self._maybe_open.discard(server)
        key = self.key(server)
        with transaction(self.engine) as session:
            closed = queries.rename_job_run(session, JOB, key, f"{key} ended {now.isoformat()}")
        if closed:
            log.debug("%s login refusal episode closed", server)
