"""The monthly report's figures (core/report.py through runners/report.py and a real SQLite)
against a fixture of tickets whose answers were counted by hand, below.

November 2026 has no holiday in Indonesia's calendar (nor do October and early December),
so working days are Monday to Friday. "rd" = working days to the first response, counted
as core/promise.py says: the working days in (day of receipt, day of response], plus one
when the response came on a day off. Promise date = 7 working days after receipt.

  T0  Thu 15 Oct, email,   sedang,  never answered, open: due Mon 26 Oct, overdue.
      At the cutoff (Tue 1 Dec 00:00): working days in (26 Oct, 1 Dec] = 4 + 21 + 1 = 26.
  T00 Tue 20 Oct, email,   sedang,  diproses Wed 21 Oct (rd 1), selesai Tue 3 Nov.
  T1  Mon  2 Nov, email,   sedang,  diproses Wed 4 Nov (rd 2), selesai Fri 6 Nov (4).
  T2  Tue  3 Nov, telepon, tinggi,  staff message same day (rd 0), selesai Thu 12 Nov (7).
  T3  Fri  6 Nov 23:00, whatsapp, rendah, diverifikasi Sat 7 Nov (rd 0 + 1 = 1),
      ditolak Mon 9 Nov (1).
  T4  Mon  9 Nov, email,   sedang,  due Wed 18 Nov, diproses Thu 19 Nov (rd 8): late.
  T5  Tue 10 Nov, email,   darurat, never answered: due Thu 19 Nov, overdue
      (20, 23..27, 30 Nov, 1 Dec = 8 working days late).
  T6  Mon 23 Nov, email,   sedang,  perlu_data from intake, still waiting: pending.
  T7  Thu 26 Nov, kotak_saran, rendah, not answered, due Mon 7 Dec: pending.
  T8  Fri 20 Nov, email,   sedang,  diproses Mon 30 Nov (rd 6), selesai Wed 2 Dec: after
      the cutoff, so open (diproses) in November's report.
  T9  Mon  2 Nov, telepon, sedang,  diproses the same day (rd 0), selesai Tue 24 Nov (16).
  T10 Wed 11 Nov, email,   sedang,  a system message Thu 12 Nov (not a response),
      diverifikasi Fri 20 Nov (rd 7, on its due date): in time.
  T11 Tue  1 Dec: after the cutoff, in no figure of November.

November: received 10 (T1..T10). Channels: email 6, telepon 2, whatsapp 1, kotak_saran 1.
Priorities: darurat 1, tinggi 1, sedang 6, rendah 2. Status at the cutoff: diterima 2 (T5,
T7), perlu_data 1, diverifikasi 1, diproses 2 (T4, T8), selesai 3 (T1, T2, T9), ditolak 1.
Response days 0,0,1,2,6,7,8: median 2, p90 = 7th of 7 (ceil 6.3) = 8.
Resolution days 1,4,7,16: median (4+7)/2 = 5.5, p90 = 4th of 4 (ceil 3.6) = 16.
Within the promise: in time T1 T2 T3 T8 T9 T10 = 6, late T4 T5 = 2, pending T6 T7 = 2:
6 of 8 = 75.0 %. Overdue: T0 (26), T5 (8). Resolved in November: T00, T1, T2, T3, T9 = 5.
Trend: October 2 received, 1 of 2 in time = 50.0 %, median response 1; November as above.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from mailflow.core.report import Month, parse_month, previous_month
from mailflow.runners.report import read_report
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import (
    MailboxState,
    Reporter,
    SuggestionBoxOpening,
    Ticket,
    TicketEvent,
)
from mailflow.vocabulary import Channel, EventKind, Priority, Status
from tests.harness.postgres import store_url
from tests.unit.plan_support import KASI, SITI_NIK, WIB, config

NOVEMBER = Month(2026, 11)
# (number, received, channel, priority, initial status, [(at, kind, actor, to_status)])
Step = tuple[datetime, EventKind, str, Status | None]


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=WIB)


def status(moment: datetime, to: Status, actor: str = KASI) -> Step:
    return (moment, EventKind.STATUS, actor, to)


def message(moment: datetime, actor: str = KASI) -> Step:
    return (moment, EventKind.MESSAGE, actor, None)


# The numbers carry the village's prefix (ADU, the default): a report reads only its own.
OTHER_VILLAGE = "KLR-2026-00001"
FIXTURE: list[tuple[str, datetime, Channel, Priority, Status, list[Step]]] = [
    ("ADU-T0", at(10, 15), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA, []),
    ("ADU-T00", at(10, 20), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA,
     [status(at(10, 21), Status.DIPROSES), status(at(11, 3), Status.SELESAI)]),
    ("ADU-T1", at(11, 2), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA,
     [status(at(11, 4), Status.DIPROSES), status(at(11, 6), Status.SELESAI)]),
    ("ADU-T2", at(11, 3, 10), Channel.TELEPON, Priority.TINGGI, Status.DITERIMA,
     [message(at(11, 3, 15)), status(at(11, 12), Status.SELESAI)]),
    ("ADU-T3", at(11, 6, 23), Channel.WHATSAPP, Priority.RENDAH, Status.DITERIMA,
     [status(at(11, 7), Status.DIVERIFIKASI), status(at(11, 9), Status.DITOLAK)]),
    ("ADU-T4", at(11, 9), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA,
     [status(at(11, 19), Status.DIPROSES)]),
    ("ADU-T5", at(11, 10), Channel.EMAIL, Priority.DARURAT, Status.DITERIMA, []),
    ("ADU-T6", at(11, 23, 8), Channel.EMAIL, Priority.SEDANG, Status.PERLU_DATA, []),
    ("ADU-T7", at(11, 26), Channel.KOTAK_SARAN, Priority.RENDAH, Status.DITERIMA, []),
    ("ADU-T8", at(11, 20), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA,
     [status(at(11, 30), Status.DIPROSES), status(at(12, 2), Status.SELESAI)]),
    ("ADU-T9", at(11, 2), Channel.TELEPON, Priority.SEDANG, Status.DITERIMA,
     [status(at(11, 2, 11), Status.DIPROSES), status(at(11, 24), Status.SELESAI)]),
    ("ADU-T10", at(11, 11), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA,
     [message(at(11, 12), actor="system"), status(at(11, 20), Status.DIVERIFIKASI)]),
    ("ADU-T11", at(12, 1), Channel.EMAIL, Priority.SEDANG, Status.DITERIMA, []),
]


def build(tmp_path: Path, first_start: datetime = datetime(2026, 9, 1, tzinfo=UTC)) -> Engine:
    """The fixture in a real database, each ticket with a reporter (whom no report names),
    read by a mailflow that first started at `first_start`."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        session.add(MailboxState(mailbox="pengaduan@klero.desa.id@imap/INBOX", uidvalidity=1,
                                 first_uid=1, first_seen_at=first_start))
        for number, received, channel, priority, initial, steps in FIXTURE:
            final = steps[-1][3] if steps and steps[-1][3] else initial
            ticket = Ticket(number=number, status=final, priority=priority, channel=channel,
                            received_at=received, due_date=date(2026, 12, 31),
                            subject=f"Pengaduan Masyarakat: Siti Aminah {number}",
                            description="-", message_key=f"mid:<{number}@warga.example>",
                            created_at=received)
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            session.add(Reporter(ticket_id=ticket.id, name="Siti Aminah", nik=SITI_NIK))
            session.add(TicketEvent(ticket_id=ticket.id, at=received, actor="system",
                                    kind=EventKind.CREATED, to_status=initial))
            for moment, kind, actor, to in steps:
                session.add(TicketEvent(ticket_id=ticket.id, at=moment, actor=actor, kind=kind,
                                        to_status=to))
        # Another village's ticket in the same database (a regency's): every figure below is
        # the village ADU's alone, so a report that counted it would be off by one.
        other = Ticket(number=OTHER_VILLAGE, status=Status.DITERIMA, priority=Priority.DARURAT,
                       channel=Channel.EMAIL, received_at=at(11, 5), due_date=date(2026, 11, 6),
                       subject="Pengaduan Masyarakat: jalan Klero", description="-",
                       message_key="mid:<klero@warga.example>", created_at=at(11, 5))
        session.add(other)
        session.flush()
        assert other.id is not None
        session.add(TicketEvent(ticket_id=other.id, at=at(11, 5), actor="system",
                                kind=EventKind.CREATED, to_status=Status.DITERIMA))
    return engine


def test_november_figures_match_the_hand_count(tmp_path: Path) -> None:
    report = read_report(config(), build(tmp_path), NOVEMBER, at(12, 3, 10))
    assert report.cutoff == datetime(2026, 12, 1, tzinfo=WIB)
    assert report.received == 10
    assert report.by_channel == {Channel.EMAIL: 6, Channel.TELEPON: 2, Channel.WHATSAPP: 1,
                                 Channel.KOTAK_SARAN: 1}
    assert report.by_priority == {Priority.DARURAT: 1, Priority.TINGGI: 1, Priority.SEDANG: 6,
                                  Priority.RENDAH: 2}
    assert report.by_status == {Status.DITERIMA: 2, Status.PERLU_DATA: 1,
                                Status.DIVERIFIKASI: 1, Status.DIPROSES: 2, Status.SELESAI: 3,
                                Status.DITOLAK: 1}
    assert report.closed == {Status.SELESAI: 3, Status.DITOLAK: 1}
    assert sum(report.open.values()) == 6
    assert (report.response.count, report.response.median, report.response.p90) == (7, 2.0, 8)
    assert (report.resolution.count, report.resolution.median,
            report.resolution.p90) == (4, 5.5, 16)
    assert (report.promise.in_time, report.promise.late, report.promise.pending) == (6, 2, 2)
    assert report.promise.percent == 75.0
    assert [(o.number, o.days_late) for o in report.overdue] == [("ADU-T0", 26), ("ADU-T5", 8)]
    assert report.overdue[1].promise_due == date(2026, 11, 19)
    assert report.resolved_in_month == 5
    box = report.suggestion_box
    assert (box.entries, box.closed, box.openings) == (1, 0, 0)  # no opening recorded


def test_the_months_suggestion_box_openings_are_counted(tmp_path: Path) -> None:
    engine = build(tmp_path)
    with transaction(engine) as session:
        for day in (2, 16, 30):  # 30 Nov 23:00 WIB is still November; 1 Dec is not
            session.add(SuggestionBoxOpening(opened_on=date(2026, 11, day),
                                             opened_at=datetime(2026, 11, day, 16, tzinfo=UTC),
                                             opened_by=KASI, entries=1,
                                             ticket_numbers=f"ADU-2026-001{day:02}"))
        session.add(SuggestionBoxOpening(opened_on=date(2026, 12, 1),
                                         opened_at=datetime(2026, 11, 30, 17, tzinfo=UTC),
                                         opened_by=KASI, entries=2,
                                         ticket_numbers="ADU-2026-00201,ADU-2026-00202"))
        # Another village's opening in November: not ADU's.
        session.add(SuggestionBoxOpening(opened_on=date(2026, 11, 9),
                                         opened_at=datetime(2026, 11, 9, 3, tzinfo=UTC),
                                         opened_by=KASI, entries=1, ticket_numbers="KLR-2026-00009"))
    report = read_report(config(), engine, NOVEMBER, at(12, 3, 10))
    assert report.suggestion_box.openings == 3


def test_the_trend_covers_twelve_months_ending_with_the_month(tmp_path: Path) -> None:
    report = read_report(config(), build(tmp_path), NOVEMBER, at(12, 3, 10))
    assert [str(p.month) for p in report.trend] == (
        ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)])
    october, november = report.trend[-2:]
    assert (october.received, october.within_promise_percent,
            october.median_response_days) == (2, 50.0, 1.0)
    assert (november.received, november.within_promise_percent,
            november.median_response_days) == (10, 75.0, 2.0)
    assert all(p.received == 0 and p.within_promise_percent is None for p in report.trend[:-2])


def test_the_report_of_a_month_reads_the_same_later(tmp_path: Path) -> None:
    """Everything after the cutoff is left out: T8 closed on 2 Dec stays open in November's
    report made in March, and T11 (1 Dec) is in none of it."""
    engine = build(tmp_path)
    early = read_report(config(), engine, NOVEMBER, at(12, 3, 10))
    late = read_report(config(), engine, NOVEMBER, datetime(2027, 3, 1, 9, tzinfo=WIB))
    assert early == late
    december = read_report(config(), engine, Month(2026, 12), at(12, 3, 10))
    assert december.cutoff == at(12, 3, 10)  # a month not over: figures as of now
    assert december.received == 1  # T11
    assert december.resolved_in_month == 1  # T8, closed on 2 Dec


def test_months_are_written_yyyy_mm() -> None:
    assert parse_month("2026-11") == NOVEMBER and str(NOVEMBER) == "2026-11"
    assert previous_month(date(2027, 1, 5)) == Month(2026, 12)
    assert NOVEMBER.label == "November 2026"
    for bad in ("2026-13", "11-2026", "2026/11", "2026-1", ""):
        try:
            parse_month(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
