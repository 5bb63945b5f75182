"""Waiting for the reporter's data pauses the clock: when the data is complete, the ticket's
due date moves by the working days it waited (core/promise.py `due_on_resuming`), the
"data lengkap" mail states the new date, and the acknowledgement of an incomplete
complaint says the working days count from then."""

from __future__ import annotations

from datetime import date, datetime

from mailflow.compose.render import Renderer
from mailflow.core.notices import acknowledgement
from mailflow.core.promise import StatusChange, Timeline, due_on_resuming
from mailflow.core.replies import plan_resident_reply, plan_staff_reply
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Missing, OutboxKind, Status
from tests.unit.plan_support import (
    RECEIVED,
    SEKDES,
    SITI_NIK,
    WIB,
    config,
    member,
    resident_mail,
    siti,
    staff_mail,
    waiting_for,
)

CAL = WorkCalendar()
# Received Fri 27 Nov 2026 (due Tue 8 Dec); the NIK comes on Wed 2 Dec: three working days
# paused (Mon 30 Nov, Tue 1, Wed 2 Dec), so due Fri 11 Dec, 7 working days after 2 Dec.
COMPLETED = datetime(2026, 12, 2, 14, tzinfo=WIB)
WAITING = Timeline("ADU-2026-00001", RECEIVED, Status.PERLU_DATA)


def test_the_due_date_moves_by_the_working_days_waited() -> None:
    assert CAL.due_date(RECEIVED) == date(2026, 12, 8)
    assert due_on_resuming(WAITING, CAL, 7, COMPLETED) == date(2026, 12, 11)
    # Completed on the day of receipt: nothing moves.
    assert due_on_resuming(WAITING, CAL, 7, RECEIVED) == date(2026, 12, 8)


def test_staff_asking_for_data_was_the_answer_so_nothing_moves() -> None:
    asked = Timeline("ADU-2026-00001", RECEIVED, Status.DITERIMA, changes=(
        StatusChange(datetime(2026, 11, 30, 9, tzinfo=WIB), Status.PERLU_DATA, by_staff=True),))
    assert due_on_resuming(asked, CAL, 7, COMPLETED) == date(2026, 12, 8)


def test_the_data_lengkap_mail_states_the_new_date() -> None:
    plan = plan_resident_reply(waiting_for(Missing.NIK), siti(nik=None),
                               resident_mail(f"NIK: {SITI_NIK}"), config(), "dkim",
                               resumed_due=date(2026, 12, 11))
    assert plan.outcome == "data completed"
    assert plan.ticket.due_date == date(2026, 12, 11)
    [told] = [o for o in plan.outgoing if o.kind is OutboxKind.STATUS]
    text, html = Renderer().render(told.template, told.context)
    assert ("Batas waktu tanggapan: Jumat, 11 Desember 2026 \u2014 7 hari kerja sejak data "
            "lengkap\nkami terima (") in text
    assert "sejak data lengkap kami terima" in html and "11 Desember 2026" in html
    assert "8 Desember" not in text


def test_staff_moving_a_waiting_ticket_on_moves_its_date_too() -> None:
    cfg = config()
    plan = plan_staff_reply(waiting_for(Missing.NIK), siti(), member(cfg, SEKDES),
                            staff_mail(SEKDES, "#status diverifikasi\nNIK sudah dicek lewat telepon."),
                            "signed_reply", cfg, now=COMPLETED, resumed_due=date(2026, 12, 11))
    assert plan.ticket.due_date == date(2026, 12, 11)
    closed = plan_staff_reply(waiting_for(Missing.NIK), siti(), member(cfg, SEKDES),
                              staff_mail(SEKDES, "#tolak bukan wewenang desa"),
                              "signed_reply", cfg, now=COMPLETED, resumed_due=date(2026, 12, 11))
    assert closed.ticket.status is Status.DITOLAK
    assert closed.ticket.due_date == date(2026, 12, 8)  # a closed ticket keeps its date


def test_the_acknowledgement_of_an_incomplete_complaint_says_when_the_days_count() -> None:
    cfg = config()
    ack = acknowledgement(cfg, waiting_for(Missing.NIK), siti(nik=None), None, None, [], "x@y.z")
    text, html = Renderer().render(ack.template, ack.context)
    assert "7 hari\nkerja dihitung sejak data lengkap kami terima" in text
    assert "7 hari kerja dihitung sejak data lengkap kami terima" in html
    # No date is promised while the clock waits for the data.
    assert "belum berjalan \u2014 7 hari kerja sejak data lengkap" in text
    assert "8 Desember" not in text and "8 Desember" not in html
    complete = acknowledgement(cfg, waiting_for(), siti(), None, None, [], "x@y.z")
    assert "sejak data lengkap" not in Renderer().render(complete.template, complete.context)[0]
