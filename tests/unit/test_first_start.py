"""The first start, old mail and honest dates, decided without a mailbox (core/first_start.py).

The end-to-end side (Dovecot, the store, the mail sent) is tests/e2e/test_first_start.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mailflow.compose.render import Renderer
from mailflow.config import parse_config
from mailflow.core.first_start import (
    CLOCK_SLACK,
    Boundary,
    before_start,
    chosen,
    day_start,
    predates_problem,
    predates_reason,
    predates_ticket,
    promise,
    skipped,
)
from mailflow.core.new_ticket import plan_new_ticket
from mailflow.core.replies import plan_staff_reply
from mailflow.core.workdays import calendar_for
from mailflow.vocabulary import EventKind, OutboxKind, Status
from tests.unit.plan_support import (
    NUMBER,
    RECEIVED,
    SEKDES,
    SITI,
    WIB,
    config,
    mail,
    member,
    siti,
    staff_mail,
    text_of,
    ticket,
    to,
)

CAL = calendar_for(config().calendar)
START = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
OLD = datetime(2026, 8, 3, 9, 0, tzinfo=WIB)


# -- the boundary -----------------------------------------------------------------------------

def test_below_the_first_uid_is_before_start_whatever_the_dates_say() -> None:
    """The UID boundary needs no clock: a server with a wrong clock changes nothing."""
    boundary = Boundary(first_uid=16, started=START)
    assert before_start(boundary, 15, START + timedelta(days=30))
    assert not before_start(boundary, 16, START - timedelta(days=30))


def test_without_the_uid_boundary_the_first_start_time_decides() -> None:
    boundary = Boundary(first_uid=None, started=START)
    assert before_start(boundary, 999, START - timedelta(seconds=1))
    assert not before_start(boundary, 1, START)


def test_a_mailbox_seen_before_the_boundary_was_recorded_is_taken_whole() -> None:
    assert not before_start(Boundary(), 1, OLD)
    assert not skipped(Boundary(), 1, OLD)


def test_take_since_chooses_old_mail_from_the_start_of_that_village_day() -> None:
    boundary = Boundary(first_uid=16, started=START,
                        take_since=day_start(date(2026, 8, 3), WIB))
    assert chosen(boundary, datetime(2026, 8, 3, 0, 0, tzinfo=WIB))
    assert not chosen(boundary, datetime(2026, 8, 2, 23, 59, tzinfo=WIB))
    assert not skipped(boundary, 5, OLD)
    assert skipped(boundary, 5, datetime(2026, 6, 10, 9, 0, tzinfo=WIB))
    assert not skipped(boundary, 20, datetime(2025, 6, 10, 9, 0, tzinfo=WIB))  # new mail


def test_without_take_since_nothing_old_is_chosen() -> None:
    boundary = Boundary(first_uid=16, started=START)
    assert not chosen(boundary, START)
    assert skipped(boundary, 1, START)
    assert day_start(None, WIB) is None


def test_take_since_accepts_a_quoted_iso_date_like_the_calendar_keys() -> None:
    base = config().model_dump(mode="json")
    quoted = parse_config({**base, "intake": {"take_since": "2026-11-01"}}, source="t.toml")
    native = parse_config({**base, "intake": {"take_since": date(2026, 11, 1)}}, source="t.toml")
    assert quoted.intake.take_since == native.intake.take_since == date(2026, 11, 1)
    assert config().intake.take_since is None


# -- honest dates -----------------------------------------------------------------------------

def test_a_complaint_taken_in_time_keeps_its_due_date_from_receipt() -> None:
    taken = RECEIVED + timedelta(days=2)  # mailflow was stopped over the weekend
    assert promise(RECEIVED, taken, CAL).due_date == date(2026, 12, 8)
    assert promise(RECEIVED, taken, CAL).recorded is None
    assert promise(RECEIVED, None, CAL).due_date == date(2026, 12, 8)


def test_a_due_date_already_past_counts_from_the_day_it_was_taken() -> None:
    taken = datetime(2026, 11, 29, 12, 0, tzinfo=WIB)  # a Sunday
    result = promise(OLD, taken, CAL)
    assert result.recorded == taken
    assert result.due_date == CAL.add_workdays(date(2026, 11, 29), 7)
    assert result.due_date > taken.date()


def test_a_due_date_of_today_is_no_promise_either() -> None:
    due = CAL.due_date(RECEIVED)
    taken = datetime(due.year, due.month, due.day, 8, 0, tzinfo=WIB)
    assert promise(RECEIVED, taken, CAL).recorded == taken
    assert promise(RECEIVED, taken - timedelta(days=1), CAL).recorded is None


def test_the_plan_of_a_late_complaint_says_both_dates() -> None:
    cfg = config()
    taken = datetime(2026, 11, 29, 12, 0, tzinfo=WIB)
    plan = plan_new_ticket(mail(), OLD, NUMBER, cfg, CAL, taken=taken)
    assert plan.ticket.received_at == OLD  # the receipt stays the village's receipt
    assert plan.ticket.due_date == CAL.add_workdays(date(2026, 11, 29), 7)
    assert "taken late" in plan.event.note
    [ack] = [o for o in to(plan.outgoing, SITI) if o.kind is OutboxKind.ACK]
    text, html = Renderer().render("ack", ack.context)
    assert "baru kami catat" in text and "Minggu, 29 November 2026 pukul 12.00 WIB" in text
    assert "Senin, 3 Agustus 2026" in text  # received
    assert "dihitung 7 hari kerja" in text and "sejak pengaduan dicatat" in text
    assert "baru kami catat" in html


def test_the_plan_of_a_timely_complaint_says_nothing_of_recording() -> None:
    cfg = config()
    plan = plan_new_ticket(mail(), RECEIVED, NUMBER, cfg, CAL, taken=RECEIVED + timedelta(minutes=1))
    assert plan.ticket.due_date == date(2026, 12, 8)
    [ack] = [o for o in to(plan.outgoing, SITI) if o.kind is OutboxKind.ACK]
    text, _ = Renderer().render("ack", ack.context)
    assert "catat pada" not in text


# -- numbers from an earlier database ---------------------------------------------------------

def test_a_message_received_before_its_ticket_was_created_predates_it() -> None:
    created = START
    assert predates_ticket(created - CLOCK_SLACK - timedelta(seconds=1), created)
    assert predates_ticket(created - timedelta(days=60), created)


def test_clock_slack_and_later_messages_do_not_predate() -> None:
    created = START
    assert not predates_ticket(created - CLOCK_SLACK, created)
    assert not predates_ticket(created + timedelta(minutes=3), created)


def test_the_reasons_name_the_ticket_and_both_moments_without_identity() -> None:
    received = datetime(2026, 9, 3, 8, 0, tzinfo=UTC)
    reason = predates_reason("ADU-2026-00003", received, START)
    assert reason.startswith("refused:") and "ADU-2026-00003" in reason
    assert "2026-09-03T08:00" in reason and "earlier database" in reason
    problem = predates_problem("ADU-2026-00003", received, START, "Asia/Jakarta")
    assert "Kamis, 3 September 2026 pukul 15.00 WIB" in problem
    assert "tidak dijalankan" in problem


def test_a_staff_command_with_a_refusal_changes_nothing_and_says_why() -> None:
    cfg = config()
    problem = predates_problem(NUMBER, datetime(2026, 9, 3, 8, 0, tzinfo=UTC), START,
                               "Asia/Jakarta")
    msg = staff_mail(SEKDES, "#status ditolak\nBukan wewenang desa.")
    plan = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES), msg, "signed_reply", cfg,
                            refusal=problem)
    assert plan.outcome == "command refused"
    assert plan.ticket == ticket()
    assert [e.kind for e in plan.events] == [EventKind.COMMAND_REFUSED]
    [explanation] = plan.outgoing
    assert explanation.to == SEKDES and problem in text_of(explanation)
    applied = plan_staff_reply(ticket(), siti(), member(cfg, SEKDES), msg, "signed_reply", cfg)
    assert applied.ticket.status is Status.DITOLAK  # the same command, without the refusal
