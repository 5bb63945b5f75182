"""Prometheus metrics: counters from each poll's result, gauges read from the database.

Configured in `[metrics]` (config_parts.MetricsConfig): an HTTP endpoint on `listen` for
Prometheus to scrape, or a `textfile` for node_exporter's textfile collector, replaced
whole after each poll; off by default. The daemon calls `observe(result)` after each poll.

Only numbers and a small fixed set of label values (a status, a reason, a server): never
an address, a name, a subject or any other text from a message, so the metrics can leave
the machine without carrying anyone's identity. Counters start at zero with the process.

A regency's process (a [[mailboxes]] file) labels the two ticket gauges by village, its
ticket prefix (`mailflow_tickets{village="KLR",status="baru"}`): one process serves many
villages, and "which village is falling behind" is the question its operators ask. The
prefix, not the mailbox's name, because it is what the database knows (one grouped query for
every village, whoever serves it) and what staff read in every number. A single-mailbox
file keeps the unlabelled gauges it always had. The outbox gauges and the counters stay
process-wide: they measure the process and its mail server, not a village.

    mailflow_messages_seen_total                messages intake looked at
    mailflow_messages_taken_total{kind}         ticket / reply
    mailflow_messages_skipped_total{reason}     not_complaint / ignored / duplicate /
                                                quarantined / already_taken
    mailflow_outbox_sent_total                  messages the outbox delivered
    mailflow_login_failures_total{server}       imap / smtp logins refused
    mailflow_polls_total                        polls observed
    mailflow_last_poll_timestamp_seconds        end of the last poll
    mailflow_last_success_timestamp_seconds     end of the last poll without any error
    mailflow_tickets{status}                    tickets per status (every status, 0 too)
    mailflow_tickets_overdue                    open tickets past their due date
    mailflow_outbox_messages{state}             pending / parked
    mailflow_outbox_oldest_pending_age_seconds  age of the oldest pending message (0: none)
    mailflow_database_readable                  1, or 0 when the gauges could not be read
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import start_http_server
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from mailflow.adapters.clock import Clock, utc_now
from mailflow.config import Config
from mailflow.errors import ConfigError
from mailflow.service import PollResult
from mailflow.store import counts
from mailflow.store.db import Session, make_engine
from mailflow.vocabulary import OutboxState, Status

log = logging.getLogger(__name__)

SKIP_REASONS = ("not_complaint", "ignored", "duplicate", "quarantined", "already_taken")
TAKEN_KINDS = ("ticket", "reply")
SERVERS = ("imap", "smtp")


class _DatabaseGauges(Collector):
    """Reads the gauges at scrape (or write) time, so they are never stale."""

    def __init__(self, cfg: Config, clock: Clock, villages: Sequence[Config] = ()) -> None:
        self.cfg = cfg
        self.clock = clock
        self.engine = make_engine(cfg.database_url)
        # By village when the file names its mailboxes; each village's day in its own zone.
        self.by_village = bool(cfg.name or villages)
        self.zones = {v.scope: v.zone for v in (*villages, cfg)}

    def collect(self) -> Iterator[Metric]:
        readable = GaugeMetricFamily("mailflow_database_readable",
                                     "1 when the gauges below could be read from the database")
        try:
            families = list(self._families())
        except Exception as exc:  # noqa: BLE001 - a scrape reports, never raises
            log.warning("metrics: the database could not be read: %s", type(exc).__name__)
            readable.add_metric([], 0)
            yield readable
            return
        readable.add_metric([], 1)
        yield readable
        yield from families

    def _families(self) -> Iterator[Metric]:
        now = self.clock()
        with Session(self.engine) as session:
            tickets = list(self._ticket_families(session, now))
            by_state = counts.outbox_by_state(session)
            oldest = counts.oldest_pending_outbox(session)
        yield from tickets
        outbox = GaugeMetricFamily("mailflow_outbox_messages", "Outbox messages waiting to go "
                                   "(pending) or given up on until retried (parked)",
                                   labels=["state"])
        for state in (OutboxState.PENDING, OutboxState.PARKED):
            outbox.add_metric([state.value], by_state.get(state, 0))
        yield outbox
        age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily("mailflow_outbox_oldest_pending_age_seconds",
                                "Age of the oldest pending outbox message (0 when none)", value=age)

    def _ticket_families(self, session: Session, now: datetime) -> Iterator[Metric]:
        tickets = GaugeMetricFamily("mailflow_tickets", "Tickets per status",
                                    labels=["village", "status"] if self.by_village else ["status"])
        overdue = GaugeMetricFamily("mailflow_tickets_overdue",
                                    "Open tickets whose due date has passed",
                                    labels=["village"] if self.by_village else None)
        if not self.by_village:
            by_status = counts.tickets_by_status(session)
            for status in Status:
                tickets.add_metric([status.value], by_status.get(status, 0))
            overdue.add_metric([], counts.overdue_tickets(session, now.astimezone(self.cfg.zone).date()))
            yield from (tickets, overdue)
            return
        found = counts.tickets_by_village(session)
        today = {scope: now.astimezone(zone).date() for scope, zone in self.zones.items()}
        late = counts.overdue_by_village(session, today, now.astimezone(self.cfg.zone).date())
        # Every configured village has every status (0 too); a prefix no longer configured
        # (old tickets) keeps its counts.
        villages = sorted({*self.zones, *(village for village, _ in found)})
        for village in villages:
            for status in Status:
                tickets.add_metric([village, status.value], found.get((village, status), 0))
            overdue.add_metric([village], late.get(village, 0))
        yield from (tickets, overdue)

    def close(self) -> None:
        self.engine.dispose()


class Metrics:
    """The metrics of one `mailflow run`; `start(cfg)` makes the configured kind."""

    def __init__(self, cfg: Config, *, clock: Clock = utc_now,
                 villages: Sequence[Config] = ()) -> None:
        """`villages`: every mailbox a regency's process serves (their ticket gauges are
        labelled by village; `cfg` gives the shared [metrics] and [database])."""
        self.cfg = cfg
        self.registry = CollectorRegistry()
        self._gauges = _DatabaseGauges(cfg, clock, villages)
        self.registry.register(self._gauges)
        self.clock = clock
        self._counters(self.registry)
        self._server: Any = None
        self._textfile_failing = False

    def _counters(self, registry: CollectorRegistry) -> None:
        self.seen = Counter("mailflow_messages_seen", "Messages intake looked at",
                            registry=registry)
        self.taken = Counter("mailflow_messages_taken", "Messages taken, as a new ticket or a "
                             "reply to one", ["kind"], registry=registry)
        self.skipped = Counter("mailflow_messages_skipped", "Messages not taken, by reason",
                               ["reason"], registry=registry)
        self.sent = Counter("mailflow_outbox_sent", "Messages the outbox delivered",
                            registry=registry)
        self.login_failures = Counter("mailflow_login_failures", "Logins a mail server refused",
                                      ["server"], registry=registry)
        self.polls = Counter("mailflow_polls", "Polls observed", registry=registry)
        self.last_poll = Gauge("mailflow_last_poll_timestamp_seconds", "When the last poll ended",
                               registry=registry)
        self.last_success = Gauge("mailflow_last_success_timestamp_seconds",
                                  "When the last poll without any error ended", registry=registry)
        for kind in TAKEN_KINDS:
            self.taken.labels(kind)
        for reason in SKIP_REASONS:
            self.skipped.labels(reason)
        for server in SERVERS:
            self.login_failures.labels(server)

    @classmethod
    def start(cls, cfg: Config, *, clock: Clock = utc_now,
              villages: Sequence[Config] = ()) -> Metrics:
        """The metrics `cfg` asks for, the HTTP endpoint already listening (off: they only count)."""
        metrics = cls(cfg, clock=clock, villages=villages)
        if cfg.metrics.listen is not None:
            host, port = cfg.metrics.address
            try:
                metrics._server, _thread = start_http_server(port, host, registry=metrics.registry)
            except OSError as exc:
                metrics.close()
                raise ConfigError(f"[metrics] listen {cfg.metrics.listen!r}: cannot listen: "
                                  f"{exc.strerror or exc} (choose another port)") from exc
            log.info("metrics served on http://%s/metrics", cfg.metrics.listen)
        return metrics

    def observe(self, result: PollResult) -> None:
        """Count one poll's result; with a textfile, write it out."""
        intake = result.intake
        if intake is not None:
            self.seen.inc(intake.examined)
            self.taken.labels("ticket").inc(intake.tickets)
            self.taken.labels("reply").inc(intake.replies)
            for reason, count in zip(SKIP_REASONS, (intake.skipped, intake.ignored,
                                                    intake.duplicates, intake.quarantined,
                                                    intake.already_done), strict=True):
                self.skipped.labels(reason).inc(count)
        self.sent.inc(result.outbox.sent)
        if result.login_error is not None:
            self.login_failures.labels(_server_of(result.login_error)).inc()
        self.polls.inc()
        now = self.clock().timestamp()
        self.last_poll.set(now)
        if intake is not None and not (result.login_error or result.imap_error or
                                       result.storage_error or result.outbox.smtp_unavailable):
            self.last_success.set(now)
        if self.cfg.metrics.textfile is not None:
            self._write(Path(self.cfg.metrics.textfile))

    def text(self) -> bytes:
        """The metrics in Prometheus' text format, as served and written."""
        return generate_latest(self.registry)

    def _write(self, path: Path) -> None:
        """Replace `path` in one rename, so node_exporter never reads half a file. The
        temporary name does not end in .prom, which node_exporter would read too."""
        try:
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp", delete=False) as out:
                out.write(self.text())
                out.flush()
                os.fsync(out.fileno())
            try:
                os.chmod(out.name, 0o644)  # node_exporter runs as another user; no identity here
                os.replace(out.name, path)
            except OSError:
                os.unlink(out.name)
                raise
        except OSError as exc:
            if not self._textfile_failing:
                log.warning("metrics textfile %s cannot be written: %s (create the directory, "
                            "writable by the service user)", path, exc.strerror or exc)
            self._textfile_failing = True
            return
        if self._textfile_failing:
            log.info("metrics textfile %s written again", path)
        self._textfile_failing = False

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._gauges.close()


def _server_of(login_error: str) -> str:
    """Which server refused: the adapters' messages start with `IMAP`/`SMTP` or name the
    section's key (`[smtp] oauth_...`). One per poll: the intake's, when both failed."""
    return "smtp" if login_error.startswith(("SMTP", "[smtp]")) else "imap"
