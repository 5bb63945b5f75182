"""Two lookups asked of a village's whole history read only what they ask for (0015).

- A message whose subject is no complaint's but which cites others (a reply in any thread)
  is looked up as a reply to a ticket by the complaints' own Message-IDs
  (`queries.ticket_by_reference`). Without an index each such message read every ticket:
  99 ms over 100,000 on SQLite, where the id is stored after the long description.
- A forged command merged into a waiting alert reads the security events since it was
  queued (`queries.security_events_since`); without an index, the whole audit trail. The
  index on the time must not change the clock's timeline query (kind IN ...): it stays on
  the ticket's own index, in order.

The tests read the plan of the very statement sent (real SQLite and PostgreSQL), and the
answer it gives.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from mailflow.store import clock_queries, counts, queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import JobRun, Ticket, TicketEvent
from mailflow.vocabulary import Channel, EventKind, Priority, Status
from tests.harness.plans import asked, plan, sent_by
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
TICKETS = 3000


def _history(engine: Engine) -> None:
    """3,000 tickets of ADU (two of another village, TGL), each with its complaint's
    Message-ID, two ordinary events each over the past months, and a security event on every
    500th ticket: in the last minutes, but one long ago."""
    tickets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(1, TICKETS + 1):
        prefix = "TGL" if n in (7, 8) else "ADU"
        tickets.append({
            "id": n, "number": f"{prefix}-2026-{n:05d}", "status": Status.DITERIMA,
            "priority": Priority.SEDANG, "channel": Channel.EMAIL,
            "received_at": NOW, "due_date": date(2026, 12, 9), "subject": "Pengaduan Masyarakat",
            "description": "jalan rusak " * 40, "source_message_id": f"<c{n}@warga.example>",
            "message_key": f"mid:<c{n}@warga.example>", "created_at": NOW})
        made = NOW - timedelta(hours=TICKETS + 48 - n)  # the trail of past months
        events += [{"ticket_id": n, "at": made, "actor": "system", "kind": kind, "note": "",
                    "auth": ""}
                   for kind in (EventKind.CREATED, EventKind.REPLY)]
        if n % 500 == 0:
            at = NOW - timedelta(days=30) if n == 500 else NOW - timedelta(minutes=n // 500)
            events.append({"ticket_id": n, "at": at, "actor": "forger@luar.example", "auth": "",
                           "kind": EventKind.SECURITY, "note": "unproven #selesai"})
    with transaction(engine) as session:
        session.execute(insert(Ticket), tickets)
        session.execute(insert(TicketEvent), events)


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    _history(engine)
    return engine


def test_a_reply_citing_a_complaint_is_found_by_its_message_id(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        cited = ["<other@gmail.example>", "<c2999@warga.example>"]
        found, statement, parameters = asked(
            engine, lambda s: queries.ticket_by_reference(s, cited, "ADU"), "source_message_id IN")
        assert found is not None and found.number == "ADU-2026-02999"
        # Another village's complaint is none of ours; an unrelated thread is no ticket's.
        other_village = asked(engine, lambda s: queries.ticket_by_reference(
            s, ["<c7@warga.example>"], "ADU"), "source_message_id IN")[0]
        unrelated = asked(engine, lambda s: queries.ticket_by_reference(
            s, ["<x@gmail.example>"], "ADU"), "source_message_id IN")[0]
        assert other_village is None and unrelated is None
        shown = plan(engine, statement, parameters, "ticket")
        if engine.dialect.name == "sqlite":
            assert "USING INDEX ix_ticket_source_message_id (source_message_id=?)" in shown, shown
        else:
            # The index's own definition is compared with the model's by test_postgres.py.
            assert "ix_ticket_source_message_id" in shown and "Seq Scan" not in shown, shown
            assert "Index Cond: ((source_message_id)::text = ANY" in shown, shown
    finally:
        engine.dispose()


def test_security_events_since_read_only_those(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        found, statement, parameters = asked(
            engine, lambda s: queries.security_events_since(s, NOW - timedelta(days=1), "ADU"),
            "FROM ticket_event")
        assert [number for number, _ in found] == [
            "ADU-2026-03000", "ADU-2026-02500", "ADU-2026-02000", "ADU-2026-01500",
            "ADU-2026-01000"]
        shown = plan(engine, statement, parameters, "ticket", "ticket_event")
        if engine.dialect.name == "sqlite":
            assert "ticket_event USING INDEX ix_ticket_event_at (at>?)" in shown, shown
        else:
            assert "ix_ticket_event_at" in shown, shown
            assert "Seq Scan on ticket_event" not in shown, shown
            assert "Index Cond: (at >=" in shown, shown
    finally:
        engine.dispose()


# Eight open tickets: with six ids or more in the events' IN list, SQLite would take an index
# led by the events' kind (had there been one) and sort them all; with fewer it would not.
STILL_OPEN = [1, 400, 800, 1200, 1500, 1900, 2400, 2999]


def test_the_clock_reads_what_is_open_not_the_history(tmp_path: Path) -> None:
    """The clock reads the open tickets and their timelines at every poll after the day's
    hour. By NOT IN the final statuses it read every ticket ever made (0.35 s a poll over
    100,000), and its events' join walked the trail of every ticket up to the last open one."""
    engine = _engine(tmp_path)
    with transaction(engine) as session:  # all but eight closed, the oldest among them
        session.execute(update(Ticket).where(col(Ticket.id).not_in(STILL_OPEN))
                        .values(status=Status.SELESAI))
    try:
        found, sent = sent_by(engine, lambda s: clock_queries.open_tickets_with_events(s, "ADU"))
        assert [row.number for row in found] == [f"ADU-2026-{n:05d}" for n in STILL_OPEN]
        assert [event.kind for event in found[0].events] == [EventKind.CREATED]
        (tickets_sql, tickets_args), = [s for s in sent if re.search(r"FROM ticket\b(?!_)", s[0])]
        (events_sql, events_args), = [s for s in sent if "FROM ticket_event" in s[0]]
        assert "JOIN" not in events_sql, events_sql  # by the open tickets' ids
        tickets = plan(engine, tickets_sql, tickets_args, "ticket")
        events = plan(engine, events_sql, events_args, "ticket_event")
        if engine.dialect.name == "sqlite":
            seek = "SEARCH ticket USING INDEX ix_ticket_status_scope (status=? AND scope=?)"
            assert seek in tickets, tickets
            assert "SCAN ticket" not in tickets, tickets
            assert "ticket_event USING INDEX ix_ticket_event_ticket_id (ticket_id=?)" in events, (
                events)
            assert "TEMP B-TREE FOR ORDER BY" not in events, events
        else:
            assert "ix_ticket_status_scope" in tickets and "Seq Scan" not in tickets, tickets
            assert "scope)::text = 'ADU'" in tickets, tickets
            assert "ix_ticket_event_ticket_id" in events and "Seq Scan" not in events, events
    finally:
        engine.dispose()


def test_a_job_asks_only_about_the_keys_due_now(tmp_path: Path) -> None:
    """The schedule asks which of the keys due now a job has done, at every poll where any
    is due: not for every key the job ever did (the clock's pile up, one per reminder)."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    old = [{"job": "clock", "run_key": f"reminder:ADU-2026-{n:05d}:2026-{1 + n % 12:02d}-01",
            "done_at": NOW} for n in range(3000)]
    with transaction(engine) as session:
        session.execute(insert(JobRun), [*old, {"job": "report", "run_key": "2026-10",
                                               "done_at": NOW}])
    try:
        due = [old[7]["run_key"], "reminder:ADU-2026-03001:2026-11-30", "2026-10"]
        done, statement, parameters = asked(
            engine, lambda s: queries.job_run_keys(s, "clock", due), "FROM job_run")
        assert done == {old[7]["run_key"]}
        shown = plan(engine, statement, parameters, "job_run")
        if engine.dialect.name == "sqlite":
            assert "(job=? AND run_key=?)" in shown, shown
        else:
            assert "Index Cond: ((job = 'clock'::text) AND (run_key = ANY" in shown, shown
    finally:
        engine.dispose()


def test_the_overdue_gauges_read_what_is_open(tmp_path: Path) -> None:
    """Each scrape of the metrics counts the overdue tickets: by NOT IN the closed statuses
    it read every ticket ever made (95 ms over 100,000)."""
    engine = _engine(tmp_path)
    with transaction(engine) as session:  # all but three closed; one waits for its data
        session.execute(update(Ticket).where(col(Ticket.id).not_in([1, 1500, 2999]))
                        .values(status=Status.SELESAI))
        session.execute(update(Ticket).where(col(Ticket.id) == 1500)
                        .values(status=Status.PERLU_DATA))
    try:
        today = date(2026, 12, 10)  # after every due date
        overdue, statement, parameters = asked(
            engine, lambda s: counts.overdue_tickets(s, today), "FROM ticket")
        by_village, village_sql, village_args = asked(
            engine, lambda s: counts.overdue_by_village(s, {}, today), "FROM ticket")
        assert overdue == 2 and by_village == {"ADU": 2}
        for shown in (plan(engine, statement, parameters, "ticket"),
                      plan(engine, village_sql, village_args, "ticket")):
            if engine.dialect.name == "sqlite":
                assert "SEARCH ticket USING INDEX ix_ticket_status_scope (status=?)" in shown, (
                    shown)
            else:
                assert "ix_ticket_status_scope" in shown and "Seq Scan" not in shown, shown
    finally:
        engine.dispose()
