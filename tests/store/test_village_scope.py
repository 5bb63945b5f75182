"""Two villages in one database (a regency's, [[mailboxes]]): what one village's staff read and
what its clock-driven jobs mail never carries the other's tickets, and both villages' jobs
run on the same day under their own names; a single-mailbox file keeps its job names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailflow.adapters.clock import FixedClock
from mailflow.adapters.imap import FetchedHeader
from mailflow.compose.mime import composer_for
from mailflow.config import Config, parse_configs
from mailflow.core.report import Month
from mailflow.metrics import Metrics
from mailflow.runners.backlog import _taken
from mailflow.runners.box_reminder import SuggestionBoxReminder
from mailflow.runners.clock import ClockJob
from mailflow.runners.mail_gate import MailGate
from mailflow.runners.parked_note import daily_jobs
from mailflow.runners.publish import build_page
from mailflow.runners.report import MonthlyReport, read_export, read_report
from mailflow.runners.schedule import Schedule
from mailflow.store.clock_queries import open_tickets_with_events
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import (
    IntakeRecord,
    JobRun,
    OutboxMessage,
    Reporter,
    SuggestionBoxOpening,
    Ticket,
    TicketEvent,
)
from mailflow.store.queries import security_events_since, ticket_by_number
from mailflow.store.village_reads import count_in, listing
from mailflow.vocabulary import EventKind, IntakeOutcome, OutboxKind, Priority, Status
from tests.harness.postgres import store_url
from tests.unit.plan_support import ADMIN, KASI, SECRET, STAFF, WIB, config, mail

RECEIVED = datetime(2026, 11, 2, 9, tzinfo=WIB)  # Monday; due 11 November, overdue in December
DECEMBER_1 = datetime(2026, 12, 1, 9, tzinfo=WIB)  # Tuesday, the month's first working day
#: What only a village's own staff may read of its tickets (numbers, subject, reporter).
MARKS = {"KLR": ("KLR-", "Klero", "Warga Klero"), "TGL": ("TGL-", "Tegal", "Warga Tegal")}


def villages(engine: Engine, tegal_zone: str = "Asia/Jakarta") -> tuple[Config, Config]:
    """Klero (KLR) and Tegal (TGL), one database, the same staff list (so the same addresses:
    a digest's run key, `digest:<address>:<day>`, is the same in both)."""
    def entry(name: str, prefix: str, zone: str = "Asia/Jakarta") -> dict[str, Any]:
        return {"name": name, "village": {"name": f"Desa {name.title()}"},
                "imap": {"username": f"pengaduan@{name}.desa.id"}, "tickets": {"prefix": prefix},
                "suggestion_box": {"enabled": True, "every": "tuesday"},
                "calendar": {"timezone": zone}}
    url = engine.url.render_as_string(hide_password=False)
    klero, tegal = parse_configs({
        "village": {"name": "-"},
        "imap": {"host": "imap.invalid", "security": "plain", "password": "x"},
        "smtp": {"host": "smtp.invalid", "security": "plain",
                 "from_address": "pengaduan@semarangkab.go.id"},
        "storage": {"directory": "/nonexistent/mailflow"}, "database": {"url": url},
        "commands": {"accept": ["signed_reply"], "secret": SECRET, "admin_address": ADMIN},
        "staff": STAFF,
        "mailboxes": [entry("klero", "KLR"), entry("tegal", "TGL", tegal_zone)]})
    return klero, tegal


def seed(engine: Engine, prefix: str, received: datetime = RECEIVED) -> list[str]:
    """Two open tickets of the village `prefix` (numbers 1 and 2, as the other village's),
    each with a reporter and a security event, assigned to KASI."""
    _, place, who = MARKS[prefix]
    numbers = [f"{prefix}-2026-0000{n}" for n in (1, 2)]
    with transaction(engine) as session:
        for number in numbers:
            ticket = Ticket(number=number, status=Status.DITERIMA, priority=Priority.SEDANG,
                            assignee=KASI, received_at=received, due_date=date(2026, 11, 11),
                            subject=f"Pengaduan Masyarakat: jalan {place} rusak",
                            description=f"jalan {place}",
                            message_key=f"mid:<{number.lower()}@warga>",
                            created_at=received)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            session.add(Reporter(ticket_id=ticket.id, name=who, email=f"warga@{place}.example"))
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                    kind=EventKind.CREATED, to_status=Status.DITERIMA))
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="other",
                                    kind=EventKind.SECURITY, note=f"forged #status {place}"))
    return numbers


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    return engine


def _foreign(text: str, prefix: str) -> list[str]:
    """The other village's marks found in `text`."""
    return [mark for other, marks in MARKS.items() if other != prefix
            for mark in marks if mark in text]


def test_a_villages_reads_never_carry_anothers_tickets(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    klero, tegal = villages(engine)
    mine, theirs = seed(engine, "KLR"), seed(engine, "TGL")
    with Session(engine) as session:
        assert [t.number for t, _ in listing(session, "KLR")] == mine
        assert [t.number for t, _ in listing(session, "TGL", due_before=date(2026, 12, 1))] == theirs
        assert count_in(session, "KLR") == 2
        # Another village's ticket is no ticket, however it is written.
        assert ticket_by_number(session, mine[0], "TGL") is None
        assert ticket_by_number(session, mine[0].lower(), "KLR") is not None
        assert [n for n, _ in security_events_since(session, RECEIVED, "KLR")] == mine
        assert [t.number for t in open_tickets_with_events(session, "TGL")] == theirs
    rows = read_export(klero, engine, None, DECEMBER_1, with_subject=True)
    assert [row["nomor"] for row in rows] == mine
    assert not _foreign(repr(rows), "KLR")
    report = read_report(tegal, engine, Month(2026, 11), DECEMBER_1)
    assert report.received == 2 and [o.number for o in report.overdue] == theirs
    page = build_page(klero, engine, DECEMBER_1)
    assert page.total == 2 and not _foreign(repr(page), "KLR")
    engine.dispose()


def _text(row: OutboxMessage) -> str:
    msg = cast(EmailMessage, message_from_bytes(row.raw, policy=default))
    body = msg.get_body(("plain",))
    assert body is not None
    return f"{msg['Subject']}\n{msg['To']}\n{body.get_content()}"


def test_each_villages_jobs_run_the_same_day_and_mail_only_its_own_tickets(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    klero, tegal = villages(engine)
    seed(engine, "KLR")
    seed(engine, "TGL")
    with transaction(engine) as session:  # Klero's box was opened this morning, Tegal's not
        session.add(SuggestionBoxOpening(opened_on=DECEMBER_1.date(), opened_at=DECEMBER_1,
                                         opened_by=KASI, entries=1, ticket_numbers="KLR-2026-00009"))
    jobs = [job for cfg in (klero, tegal)
            for job in (ClockJob(cfg), MonthlyReport(cfg), SuggestionBoxReminder(cfg))]
    assert {job.name for cfg in (klero, tegal) for job in daily_jobs(cfg)} >= {
        "parked-mail-note@klero", "parked-mail-note@tegal"}  # every job has the village's name
    ran = Schedule(engine, jobs).run_due(DECEMBER_1).ran
    digest = f"digest:{KASI}:2026-12-01"
    assert {f"clock@klero:{digest}", f"clock@tegal:{digest}", "monthly-report@klero:2026-11",
            "monthly-report@tegal:2026-11", "suggestion-box-reminder@tegal:2026-12-01"} <= set(ran)
    assert not any(label.startswith("suggestion-box-reminder@klero") for label in ran)
    assert Schedule(engine, jobs).run_due(DECEMBER_1).ran == []  # a restart: nothing again
    with Session(engine) as session:
        rows = [(row.scope, _text(row)) for row in session.exec(select(OutboxMessage)
                                                                .order_by(col(OutboxMessage.id)))]
    mails = [text for _, text in rows]
    by_village = {prefix: [m for m in mails if marks[0] in m] for prefix, marks in MARKS.items()}
    # Each row is sent by its own village (outbox.scope, migration 0012).
    assert all(scope == prefix for scope, text in rows for prefix, marks in MARKS.items()
               if marks[0] in text) and {scope for scope, _ in rows} == {"KLR", "TGL"}
    assert len(by_village["KLR"]) == len(by_village["TGL"]) >= 4  # digests, escalation, report
    for prefix, texts in by_village.items():
        assert [_foreign(text, prefix) for text in texts] == [[]] * len(texts)
    engine.dispose()


def test_a_single_mailbox_keeps_its_job_names(tmp_path: Path) -> None:
    cfg = config(report={"enabled": True})
    assert [job.name for job in daily_jobs(cfg)] == [
        "parked-mail-note", "clock", "monthly-report", "suggestion-box-reminder"]
    engine = _engine(tmp_path)
    with transaction(engine) as session:  # run by an earlier version: not again
        session.add(JobRun(job="monthly-report", run_key="2026-11", done_at=DECEMBER_1))
    assert Schedule(engine, [MonthlyReport(cfg)]).run_due(DECEMBER_1).ran == []
    engine.dispose()


def test_a_villages_merged_security_alert_lists_only_its_own_attempts(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    klero, tegal = villages(engine)
    seed(engine, "KLR")
    seed(engine, "TGL")
    with transaction(engine) as session:  # a refused recording at each mailbox
        for cfg, place in ((klero, "Klero"), (tegal, "Tegal")):
            session.add(IntakeRecord(mailbox=cfg.mailbox_key, uidvalidity=1, uid=7,
                                     message_key=f"mid:<rekaman-{place}@x>",
                                     decision=IntakeOutcome.REFUSED, reason=f"rekaman {place}",
                                     created_at=RECEIVED))
        waiting = OutboxMessage(ticket_id=None, kind=OutboxKind.STAFF_NOTE, message_id="<a@x>",
                                recipient=ADMIN, raw=b"", next_attempt_at=RECEIVED,
                                created_at=RECEIVED - timedelta(hours=1))
        session.add(waiting)
        session.flush()
        MailGate(tegal, composer_for(tegal))._merge_alert(session, waiting, RECEIVED, None)
        text = _text(waiting)
    assert text.count("TGL-2026-0000") == 2 and "rekaman Tegal" in text
    assert _foreign(text, "TGL") == []
    engine.dispose()


def test_the_backlog_dry_run_routes_nothing_to_another_villages_ticket(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    _, tegal = villages(engine)
    klero_ticket = seed(engine, "KLR")[0]
    header = FetchedHeader(1, DECEMBER_1, 100, (), b"")
    reply = mail(subject=f"Re: [{klero_ticket}] jalan", message_id="<klero-1@warga.example>",
                 in_reply_to=f"<{klero_ticket}@warga>")
    outcome, new = _taken(tegal, engine, reply, klero_ticket, header, DECEMBER_1)
    assert (outcome, new) == ("ticket", True)  # as a new complaint would be, not "reply for"
    same = mail(message_id=f"<{klero_ticket}@warga>")  # the message Klero took already
    outcome, _ = _taken(tegal, engine, same, None, header, DECEMBER_1)
    assert outcome == "ticket"  # one message to two villages is a ticket in each
    engine.dispose()


def _gauges(metrics: Metrics) -> dict[tuple[str, ...], float]:
    return {(s.name, *sorted(s.labels.values())): s.value
            for family in text_string_to_metric_families(metrics.text().decode())
            for s in family.samples if s.name.startswith("mailflow_tickets")}


def test_a_regencys_ticket_gauges_are_per_village_each_on_its_own_day(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    klero, tegal = villages(engine, tegal_zone="Asia/Jayapura")
    seed(engine, "KLR")
    seed(engine, "TGL")
    # 23:00 on 11 November in Klero (WIB), already 01:00 on the 12th in Tegal (WIT): the
    # tickets due on the 11th are overdue in Tegal only.
    moment = FixedClock(datetime(2026, 11, 11, 16, tzinfo=UTC))
    metrics = Metrics(klero, clock=moment, villages=[klero, tegal])
    try:
        found = _gauges(metrics)
    finally:
        metrics.close()
    assert found[("mailflow_tickets", "KLR", "diterima")] == 2
    assert found[("mailflow_tickets", "TGL", "diterima")] == 2
    assert found[("mailflow_tickets", "TGL", "selesai")] == 0
    assert found[("mailflow_tickets_overdue", "KLR")] == 0
    assert found[("mailflow_tickets_overdue", "TGL")] == 2
    engine.dispose()
