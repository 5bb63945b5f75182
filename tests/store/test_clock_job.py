"""The clock job (runners/clock.py) through the real schedule, composer and SQLite, with a
controlled clock: reminders to the officer, escalation to the head once, digests overdue
first, nothing on cuti bersama, a holiday or a weekend, nothing twice after a restart, and
no reporter identity in any of it."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailflow.adapters.clock import FixedClock
from mailflow.config import Config
from mailflow.runners.clock import ClockJob
from mailflow.runners.schedule import Schedule
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage, Reporter, Ticket, TicketEvent
from mailflow.vocabulary import EventKind, OutboxKind, Priority, Status
from tests.harness.postgres import store_url
from tests.unit.plan_support import KADES, KASI, SEKDES, SITI, SITI_NIK, SITI_SECRETS, WIB, config

A, B, C, D, E = (f"ADU-2026-000{n}" for n in (10, 11, 12, 13, 14))


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _ticket(engine: Engine, number: str, received: datetime, *, status: Status = Status.DITERIMA,
            priority: Priority = Priority.SEDANG, assignee: str | None = None,
            answered: datetime | None = None) -> None:
    """A ticket as intake makes it (CREATED event, reporter row), optionally answered by KASI."""
    with transaction(engine) as session:
        ticket = Ticket(number=number, status=status, priority=priority, assignee=assignee,
                        received_at=received, due_date=date(2027, 1, 4),
                        subject=f"Pengaduan Masyarakat: jalan rusak depan rumah Siti Aminah {number}",
                        description="jalan rusak", message_key=f"mid:<{number}@warga.example>",
                        created_at=received)
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        session.add(Reporter(ticket_id=ticket.id, name="Siti Aminah", nik=SITI_NIK, email=SITI,
                             phone="0812-3456-7890", address="Dusun Krajan RT 02/RW 05"))
        session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                kind=EventKind.CREATED, to_status=status))
        if answered is not None:
            ticket.status = Status.DIPROSES
            session.add(TicketEvent(ticket_id=ticket.id, at=answered, actor=KASI,
                                    kind=EventKind.STATUS, from_status=status,
                                    to_status=Status.DIPROSES))


def _polls(engine: Engine, cfg: Config, start: datetime, end: datetime) -> list[str]:
    """Hourly polls from `start` to `end` by a new process (a new job and schedule)."""
    clock = FixedClock(start)
    schedule = Schedule(engine, [ClockJob(cfg)])
    ran: list[str] = []
    while clock() <= end:
        ran += schedule.run_due(clock()).ran
        clock.advance(hours=1)
    return ran


def _mails(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def _text(row: OutboxMessage) -> str:
    msg = cast(EmailMessage, message_from_bytes(row.raw, policy=default))
    body = msg.get_body(("plain",))
    assert body is not None
    return f"{msg['Subject']}\n{body.get_content()}"


def _local_day(row: OutboxMessage) -> date:
    return row.created_at.astimezone(WIB).date()


def _of(rows: list[OutboxMessage], kind: OutboxKind, to: str) -> list[OutboxMessage]:
    return [r for r in rows if r.kind is kind and r.recipient == to]


def _setup(tmp_path: Path) -> Engine:
    engine = _engine(tmp_path)
    # A: Mon 21 Dec, assigned to Kasi, due Mon 4 Jan (over cuti bersama, Christmas, New Year).
    _ticket(engine, A, datetime(2026, 12, 21, 9, tzinfo=WIB), assignee=KASI)
    # B: incomplete, waiting for the reporter's data: the clock stands still.
    _ticket(engine, B, datetime(2026, 12, 21, 10, tzinfo=WIB), status=Status.PERLU_DATA)
    # C: darurat, unassigned, Wed 30 Dec: target 1 working day, due Thu 31 Dec.
    _ticket(engine, C, datetime(2026, 12, 30, 10, tzinfo=WIB), priority=Priority.DARURAT)
    # D: answered by Kasi the next day: no reminder, no escalation, "sudah ditanggapi".
    _ticket(engine, D, datetime(2026, 12, 28, 9, tzinfo=WIB), assignee=KASI,
            answered=datetime(2026, 12, 29, 9, tzinfo=WIB))
    return engine


def test_reminders_escalations_and_digests_once_across_holidays_and_a_restart(
        tmp_path: Path) -> None:
    cfg = config()
    engine = _setup(tmp_path)
    first = _polls(engine, cfg, datetime(2026, 12, 23, 6, tzinfo=WIB),
                   datetime(2026, 12, 31, 12, tzinfo=WIB))
    assert "clock:reminder:ADU-2026-00010:2027-01-04:-2" in first  # 30 Dec, 08:00
    assert "clock:reminder:ADU-2026-00012:2026-12-31:-0" in first  # darurat, its target day
    rows = _mails(engine)
    # Thu 24 Dec (cuti bersama), Fri 25 (Christmas), the weekend: nothing at all.
    assert {_local_day(r) for r in rows} == {date(2026, 12, d) for d in (23, 28, 29, 30, 31)}
    [reminder] = _of(rows, OutboxKind.REMINDER, KASI)
    assert _local_day(reminder) == date(2026, 12, 30)
    text = _text(reminder)
    assert "Yth. Kasi Pelayanan," in text
    assert "Batas waktu tanggapan : Senin, 4 Januari 2027" in text
    assert "tinggal 2 hari kerja lagi" in text
    [darurat] = _of(rows, OutboxKind.REMINDER, SEKDES)  # unassigned: the verifier
    assert "Hari ini adalah batas waktu" in _text(darurat) and C in _text(darurat)
    assert not [r for r in rows if B in _text(r) and r.kind is not OutboxKind.DIGEST]

    # Down from 31 Dec noon to Wed 6 Jan 10:00 (4 Jan's reminder is superseded by the
    # escalation); a new ticket E (darurat, Kasi's) came in at 07:00.
    _ticket(engine, E, datetime(2027, 1, 6, 7, tzinfo=WIB), priority=Priority.DARURAT,
            assignee=KASI)
    second = _polls(engine, cfg, datetime(2027, 1, 6, 10, tzinfo=WIB),
                    datetime(2027, 1, 6, 12, tzinfo=WIB))
    assert "clock:escalation:ADU-2026-00010" in second
    assert not any(label.startswith("clock:reminder:") for label in second)
    new = _mails(engine)[len(rows):]
    escalations = _of(new, OutboxKind.ESCALATION, KADES)
    assert sorted(A in _text(r) for r in escalations) == [False, True]  # A and C, once each
    [head] = [r for r in escalations if A in _text(r)]
    assert "Yth. Kepala Desa," in _text(head) and "TERLAMBAT 1 hari kerja" in _text(head)
    assert "Petugas               : Kasi Pelayanan" in _text(head)

    [kasi] = _of(new, OutboxKind.DIGEST, KASI)
    listing = _text(kasi)
    # Overdue first (A, sedang), then by priority (E, darurat), then D (answered).
    assert listing.index(A) < listing.index(E) < listing.index(D)
    assert "TERLAMBAT 1 hari kerja" in listing and "(sudah ditanggapi)" in listing
    [verifier] = _of(new, OutboxKind.DIGEST, SEKDES)
    listing = _text(verifier)
    assert listing.index(C) < listing.index(B)
    assert "Batas waktu : menunggu data pelapor" in listing
    [head_digest] = _of(new, OutboxKind.DIGEST, KADES)
    assert A in _text(head_digest) and C in _text(head_digest)

    # Another restart the same day: nothing again.
    assert _polls(engine, cfg, datetime(2027, 1, 6, 11, tzinfo=WIB),
                  datetime(2027, 1, 6, 18, tzinfo=WIB)) == []
    everything = _mails(engine)
    assert len(everything) == len(rows) + len(new)
    for row in everything:
        text = _text(row).casefold()
        for secret in (*SITI_SECRETS, "Aminah"):
            assert secret.casefold() not in text, (row.kind, row.recipient, secret)


def test_no_digest_when_disabled_and_nothing_before_the_hour(tmp_path: Path) -> None:
    engine = _setup(tmp_path)
    off = config(digest={"enabled": False}, reminders={"hour": 9})
    ran = _polls(engine, off, datetime(2026, 12, 30, 0, tzinfo=WIB),
                 datetime(2026, 12, 30, 8, tzinfo=WIB))
    assert ran == []
    ran = _polls(engine, off, datetime(2026, 12, 30, 9, tzinfo=WIB),
                 datetime(2026, 12, 30, 10, tzinfo=WIB))
    assert ran == ["clock:reminder:ADU-2026-00010:2027-01-04:-2"]
    assert {r.kind for r in _mails(engine)} == {OutboxKind.REMINDER}


def test_reminders_off_sends_no_reminder_nor_escalation_only_the_digest(tmp_path: Path) -> None:
    engine = _setup(tmp_path)
    quiet = config(reminders={"enabled": False})
    ran = _polls(engine, quiet, datetime(2027, 1, 4, 0, tzinfo=WIB),
                 datetime(2027, 1, 12, 12, tzinfo=WIB))  # past every due date
    assert ran and all(key.startswith("clock:digest:") for key in ran), ran
    assert {r.kind for r in _mails(engine)} == {OutboxKind.DIGEST}
    assert _polls(engine, config(reminders={"enabled": False}, digest={"enabled": False}),
                  datetime(2027, 1, 13, 0, tzinfo=WIB), datetime(2027, 1, 13, 12, tzinfo=WIB)) == []


def test_a_ticket_waiting_for_data_is_never_overdue_in_listings_and_metrics(
        tmp_path: Path) -> None:
    from mailflow.store import counts
    from mailflow.store.village_reads import listing
    from mailflow.views import is_overdue

    engine = _setup(tmp_path)  # every due date stored as Mon 4 Jan 2027
    later = date(2027, 1, 20)
    with Session(engine) as session:
        overdue = listing(session, "ADU", due_before=later)
        assert sorted(t.number for t, _ in overdue) == [A, C, D]  # not B, in perlu_data
        assert counts.overdue_tickets(session, later) == 3
        waiting = session.exec(select(Ticket).where(Ticket.number == B)).one()
        assert not is_overdue(waiting, later)
        assert is_overdue(session.exec(select(Ticket).where(Ticket.number == A)).one(), later)


def test_no_identity_of_the_fixture_in_digests_and_escalations(tmp_path: Path) -> None:
    """The 108 identity complaints' subjects (names, NIKs, phones, addresses written into
    them) through every digest and escalation: none of their identity strings comes out."""
    from tests.e2e.leaks import Secrets, all_leaks, mail_text
    from tests.fixtures.identity_complaints import complaints

    fixture = complaints()
    engine = _engine(tmp_path)
    received = datetime(2026, 12, 1, 9, tzinfo=WIB)
    with transaction(engine) as session:
        for item in fixture:
            number = f"ADU-2026-{item.index + 1:05d}"
            ticket = Ticket(number=number, status=Status.DITERIMA, received_at=received,
                            due_date=date(2026, 12, 10), subject=item.subject,
                            description="-", message_key=item.message_id, created_at=received,
                            assignee=KASI if item.index % 2 else None)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            person = item.person
            session.add(Reporter(ticket_id=ticket.id, name=person.name, nik=person.nik,
                                 phone=person.phone_written, address=person.address,
                                 email=person.email))
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                    kind=EventKind.CREATED, to_status=Status.DITERIMA))
    ran = _polls(engine, config(), datetime(2026, 12, 14, 9, tzinfo=WIB),
                 datetime(2026, 12, 14, 9, tzinfo=WIB))
    rows = _mails(engine)
    kinds = [r.kind for r in rows]
    assert kinds.count(OutboxKind.ESCALATION) == len(fixture)
    assert kinds.count(OutboxKind.DIGEST) == 3  # verifier, officer, head
    assert len(ran) == len(fixture) + 3
    outputs = [(f"{r.kind} to {r.recipient} #{n}", mail_text(r.raw)) for n, r in enumerate(rows)]
    examined, leaks = all_leaks(Secrets(fixture), outputs)
    assert examined == len(rows)
    assert leaks == []
    for item in fixture:
        assert all(item.person.email not in text.lower() for _, text in outputs)


def test_a_stop_ends_the_pass_between_runs_and_the_next_start_finishes_it(
        tmp_path: Path) -> None:
    engine = _setup(tmp_path)
    cfg = config()
    asked: list[int] = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    morning = datetime(2027, 1, 6, 9, tzinfo=WIB)
    stopped = Schedule(engine, [ClockJob(cfg)], stop_after_two).run_due(morning).ran
    assert len(stopped) == 2
    rest = Schedule(engine, [ClockJob(cfg)]).run_due(morning).ran
    assert rest and not set(rest) & set(stopped)
    assert len(_mails(engine)) >= len(stopped) + len(rest)
