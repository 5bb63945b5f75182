"""A village's past years in its database: closed tickets with everything they leave behind.

bench/poll_bench.py `--history` times the idle pass over a database holding this history, as
the idle pass over 100,000 old messages is timed over a full mailbox: what every poll reads
must not grow with either. Each ticket of the history has its reporter, three events (made,
verified, then closed or in progress), its acknowledgement and notification (sent), its
intake record (marked, under an earlier UIDVALIDITY of the mailbox) and one reminder run of
the clock job. OPEN_IN_HISTORY of them are still open whatever the size, so that the clock has
the same work at every size. Written with Core INSERTs in batches, after the migrations, in
the tickets' year before this one (no clash with the counter).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from mailflow.store.db import transaction
from mailflow.store.intake_queries import outbox_row
from mailflow.store.models import (
    IntakeRecord,
    JobRun,
    OutboxMessage,
    Reporter,
    Ticket,
    TicketEvent,
)
from mailflow.store.scope import ticket_key
from mailflow.vocabulary import (
    Channel,
    EventKind,
    IntakeOutcome,
    OutboxKind,
    OutboxState,
    Priority,
    Status,
)

OPEN_IN_HISTORY = 30  # open tickets among the history, at every size
_BATCH = 5000
_TEXT = ("jalan rusak berlubang di depan balai desa banyak pengendara jatuh mohon segera "
         "diperbaiki lampu penerangan mati sejak minggu lalu saluran air tersumbat")
_WORDS = _TEXT.split()


def fill_history(engine: Engine, prefix: str, mailbox: str, tickets: int,
                 now: datetime) -> None:
    """`tickets` tickets of last year for village `prefix`, OPEN_IN_HISTORY of them still open."""
    year = now.year - 1
    start = datetime(year, 1, 2, 2, 0, tzinfo=UTC)
    step = timedelta(days=360) / max(tickets, 1)
    # Exactly OPEN_IN_HISTORY (or every ticket, if fewer), spread over the year.
    still_open = (set(range(1, tickets + 1)) if tickets <= OPEN_IN_HISTORY
                  else {1 + k * tickets // OPEN_IN_HISTORY for k in range(OPEN_IN_HISTORY)})
    for first in range(1, tickets + 1, _BATCH):
        rows: dict[str, list[dict[str, Any]]] = {
            "ticket": [], "reporter": [], "event": [], "outbox": [], "intake": [], "job": []}
        for n in range(first, min(first + _BATCH, tickets + 1)):
            _one(rows, n, prefix, mailbox, year, start + step * n, n in still_open)
        with transaction(engine) as session:
            session.execute(insert(Ticket), rows["ticket"])
            session.execute(insert(Reporter), rows["reporter"])
            session.execute(insert(TicketEvent), rows["event"])
            session.execute(insert(IntakeRecord), rows["intake"])
            session.execute(insert(JobRun), rows["job"])
            session.execute(insert(OutboxMessage), rows["outbox"])
    if engine.dialect.name == "postgresql":  # the ids were given: the sequence goes on after them
        with transaction(engine) as session:
            session.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), "
                                 "(SELECT max(id) FROM ticket))"))


def _one(rows: dict[str, list[dict[str, Any]]], n: int, prefix: str, mailbox: str, year: int,
         at: datetime, still_open: bool) -> None:
    number = f"{prefix}-{year}-{n:05d}"
    mid = f"<h{n}.{year}@warga.example>"
    text = " ".join(_WORDS[(n + i) % len(_WORDS)] for i in range(40 + n % 80))
    rows["ticket"].append({
        "id": n, "number": number, "status": Status.DIPROSES if still_open else Status.SELESAI,
        "priority": Priority.SEDANG, "priority_reason": "", "priority_set_by": "system",
        "assignee": None, "channel": Channel.EMAIL, "received_at": at,
        "due_date": (at + timedelta(days=9)).date(), "subject": "Pengaduan Masyarakat",
        "description": text, "missing": "", "source_message_id": mid,
        "message_key": ticket_key(prefix, f"mid:{mid}"), "content_key": None,
        "html_only": False, "created_at": at, "kind": None})
    rows["reporter"].append({"ticket_id": n, "name": f"Warga {n}", "nik": None,
                             "nik_problem": None, "phone": None, "address": None,
                             "email": f"warga{n}@warga.example"})
    moves = [(EventKind.CREATED, None, Status.DITERIMA), (EventKind.STATUS, Status.DITERIMA,
                                                           Status.DIVERIFIKASI)]
    moves.append((EventKind.STATUS, Status.DIVERIFIKASI,
                  Status.DIPROSES if still_open else Status.SELESAI))
    rows["event"] += [{"ticket_id": n, "at": at + timedelta(hours=hours), "actor": "system",
                       "kind": kind, "from_status": before, "to_status": after, "note": "",
                       "message_id": None, "auth": ""}
                      for hours, (kind, before, after) in enumerate(moves)]
    for kind, to in ((OutboxKind.ACK, f"warga{n}@warga.example"),
                     (OutboxKind.NOTIFY, "sekdes@klero.desa.id")):
        rows["outbox"].append(outbox_row(
            ticket_id=n, kind=kind, message_id=f"<{kind}.{n}.{year}@klero.desa.id>",
            recipient=to, raw=b"sent long ago", state=OutboxState.SENT, attempts=1,
            next_attempt_at=at, created_at=at, sent_at=at, scope=prefix))
    rows["intake"].append({
        "mailbox": mailbox, "uidvalidity": year, "uid": n, "message_key": f"mid:{mid}",
        "decision": IntakeOutcome.TICKET, "reason": "", "ticket_id": n, "marked": True,
        "created_at": at, "message_id": mid, "received_at": at, "sender_digest": None})
    due = (at + timedelta(days=9)).date().isoformat()
    rows["job"].append({"job": "clock", "run_key": f"reminder:{number}:{due}:-2", "done_at": at,
                        "note": ""})


def next_working_day(is_workday: Callable[[date], bool], today: date) -> date:
    """`today` or the next working day: the idle pass is timed when the clock's jobs are due."""
    day = today
    while not is_workday(day):
        day += timedelta(days=1)
    return day
