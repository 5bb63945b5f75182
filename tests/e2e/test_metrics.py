"""Prometheus metrics: scraped from a running `mailflow run`, and written for node_exporter."""

from __future__ import annotations

import logging
import signal
import socket
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mailflow.adapters.clock import FixedClock
from mailflow.demo.loopback import free_port
from mailflow.metrics import Metrics
from mailflow.service import Service
from tests.e2e.support import BUDI, INBOX, SITI, complaint, config_for
from tests.e2e.test_daemon import _wait_until, daemon, is_ready

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)  # Friday; Siti's ticket is due Tue 2026-12-08
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text: str = reply.read().decode()
    return text


def no_identity(text: str) -> None:
    """Nothing of a message or a person: only numbers and the fixed label values.

    Read in everything but the samples' values: those are counts and times (a counter's
    `_created` is a Unix time to the microsecond), and a phone number's first digits turned
    up in one by chance ("1.7960554712870812e+09"). Names, labels and help are what could
    carry someone's identity."""
    words = "\n".join(line if line.startswith("#") else line.rpartition(" ")[0]
                      for line in text.splitlines())
    for secret in (SITI, "Siti", "Aminah", "3322114506890002", "0812", "Krajan", "Pengaduan",
                   INBOX, "klero", "sekdes"):
        assert secret.lower() not in words.lower(), secret


def test_the_daemon_serves_its_counts_after_a_poll(mail_world: Any, tmp_path: Path) -> None:
    port = free_port()
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": 0.3},
                     metrics={"listen": f"127.0.0.1:{port}"})
    with daemon(cfg, tmp_path) as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(lambda line: line.startswith("STATUS=idle"), "a first pass")
        mail_world.deliver(INBOX, complaint())
        mail_world.deliver(INBOX, complaint(subject="Undangan rapat RT", body="Rapat Kamis malam."))
        _wait_until(lambda: value(samples(scrape(port)), "mailflow_outbox_sent_total") >= 2,
                    "the acknowledgement and the verifier's note, counted")
        text = scrape(port)
        found = samples(text)
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0

    assert value(found, "mailflow_messages_seen_total") == 2
    assert value(found, "mailflow_messages_taken_total", kind="ticket") == 1
    assert value(found, "mailflow_messages_taken_total", kind="reply") == 0
    assert value(found, "mailflow_messages_skipped_total", reason="not_complaint") == 1
    assert value(found, "mailflow_tickets", status="diterima") == 1
    assert value(found, "mailflow_tickets", status="selesai") == 0
    assert value(found, "mailflow_outbox_messages", state="pending") == 0
    assert value(found, "mailflow_login_failures_total", server="imap") == 0
    assert value(found, "mailflow_database_readable") == 1
    polled = value(found, "mailflow_last_success_timestamp_seconds")
    assert abs(polled - datetime.now(UTC).timestamp()) < 60
    no_identity(text)
    with pytest.raises(OSError):  # the endpoint closed with the daemon
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_outbox_and_overdue_gauges_are_read_from_the_database(mail_world: Any,
                                                              tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.smtp.rcpt_replies[SITI] = "550 5.1.1 <siti@warga.example>: no such user"
    mail_world.deliver(INBOX, complaint())
    service = Service(cfg, clock=FixedClock(NOW))
    try:
        first = service.poll_once()  # Siti's ack is refused for good: parked
        mail_world.smtp.stop()
        mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>", body="Lampu jalan mati."))
        second = service.poll_once()  # Budi's ack and the note wait: pending
    finally:
        service.engine.dispose()
    later = FixedClock(datetime(2026, 12, 20, 1, 0, tzinfo=UTC))  # past both due dates
    metrics = Metrics(cfg, clock=later)
    try:
        metrics.observe(first)
        later.advance(seconds=30)
        metrics.observe(second)
        found = samples(metrics.text().decode())
    finally:
        metrics.close()

    assert value(found, "mailflow_outbox_messages", state="parked") == 1
    assert value(found, "mailflow_outbox_messages", state="pending") == 2
    assert value(found, "mailflow_outbox_oldest_pending_age_seconds") == (
        later.now - NOW).total_seconds()
    # Siti's is overdue; Budi's waits for his NIK (perlu_data), and the clock stands still
    # while it waits (core/promise.py), so it is never overdue.
    assert value(found, "mailflow_tickets_overdue") == 1
    assert value(found, "mailflow_tickets", status="diterima") == 1
    assert value(found, "mailflow_tickets", status="perlu_data") == 1  # Budi gave no NIK
    assert value(found, "mailflow_polls_total") == 2
    # The second pass could not reach SMTP: not a successful pass.
    assert value(found, "mailflow_last_poll_timestamp_seconds") == later.now.timestamp()
    assert value(found, "mailflow_last_success_timestamp_seconds") == later.now.timestamp() - 30


def test_a_refused_login_is_counted_per_server(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, imap={"password": "wrong-password"})
    service = Service(cfg, clock=FixedClock(NOW))
    metrics = Metrics(cfg, clock=FixedClock(NOW))
    try:
        metrics.observe(service.poll_once())
        found = samples(metrics.text().decode())
    finally:
        service.engine.dispose()
        metrics.close()

    assert value(found, "mailflow_login_failures_total", server="imap") == 1
    assert value(found, "mailflow_login_failures_total", server="smtp") == 0
    assert value(found, "mailflow_last_success_timestamp_seconds") == 0
    assert value(found, "mailflow_last_poll_timestamp_seconds") == NOW.timestamp()


def test_the_textfile_is_replaced_whole_after_each_poll(mail_world: Any, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    collector = tmp_path / "textfile_collector"
    path = collector / "mailflow.prom"
    cfg = config_for(mail_world, tmp_path, metrics={"textfile": str(path)})
    mail_world.deliver(INBOX, complaint())
    service = Service(cfg, clock=FixedClock(NOW))
    metrics = Metrics.start(cfg, clock=FixedClock(NOW + timedelta(minutes=1)))
    try:
        with caplog.at_level(logging.WARNING, logger="mailflow.metrics"):
            metrics.observe(service.poll_once())  # the directory is not there yet
            metrics.observe(service.poll_once())
        collector.mkdir()
        metrics.observe(service.poll_once())
        first = path.stat()
        metrics.observe(service.poll_once())
        second = path.stat()
        found = samples(path.read_text())
    finally:
        service.engine.dispose()
        metrics.close()

    warnings = [r for r in caplog.records if "textfile" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0].getMessage()  # once, not per poll
    assert first.st_ino != second.st_ino  # a new file renamed over the old one, never rewritten
    assert oct(second.st_mode & 0o777) == oct(0o644)  # node_exporter runs as another user
    assert sorted(p.name for p in collector.iterdir()) == ["mailflow.prom"]  # no temporary left
    assert value(found, "mailflow_polls_total") == 4
    assert value(found, "mailflow_tickets", status="diterima") == 1
    no_identity(path.read_text())


def test_a_metrics_port_in_use_is_a_configuration_error(mail_world: Any, tmp_path: Path) -> None:
    from mailflow.errors import ConfigError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = config_for(mail_world, tmp_path, metrics={"listen": f"127.0.0.1:{port}"})
        with pytest.raises(ConfigError, match=rf"\[metrics\] listen '127.0.0.1:{port}': cannot listen"):
            Metrics.start(cfg)
