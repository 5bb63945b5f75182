"""A new ticket's priority, decided with the word lists: suggested, explained, never over staff.

The plans alone (core/new_ticket.py, core/replies.py, core/ticket_priority.py); the same
behaviour through Dovecot is tests/e2e/test_priority_mail.py.
"""

from __future__ import annotations

import tomllib

import pytest

from mailflow.adapters.priority_words import default_text, load_word_lists
from mailflow.compose.render import Renderer
from mailflow.core.new_ticket import NewTicket, plan_new_ticket
from mailflow.core.parse import parse_message
from mailflow.core.priority import word_lists
from mailflow.core.priority_lists import WordLists
from mailflow.core.replies import plan_resident_reply
from mailflow.core.workdays import calendar_for
from mailflow.vocabulary import EventKind, Missing, OutboxKind, Priority, Status
from tests.e2e.leaks import Secrets
from tests.fixtures.identity_complaints import complaints
from tests.unit.plan_support import (
    KASI,
    NUMBER,
    RECEIVED,
    SEKDES,
    config,
    mail,
    resident_mail,
    siti,
    to,
    waiting_for,
)

LISTS = load_word_lists()
SIGNED = "signed_reply"  # how a resident's reply is proven
FLOOD = ("Nama: Siti Aminah\nNIK: 3322114506890002\nAlamat: Dusun Krajan RT 02/RW 05\n\n"
         "Banjir di Dusun Krajan, air sudah masuk rumah warga setinggi lutut dan terus naik. "
         "Banyak lansia belum dievakuasi, mohon bantuan perahu.\n")
ROAD = ("Nama: Siti Aminah\nNIK: 3322114506890002\n\n"
        "Lampu penerangan di gang Melati mati sejak seminggu yang lalu, gang jadi gelap.\n")


def _plan(body: str, lists: WordLists | None = LISTS, subject: str = "Pengaduan Masyarakat"
          ) -> NewTicket:
    cfg = config()
    return plan_new_ticket(mail(body, subject=subject), RECEIVED, NUMBER, cfg,
                           calendar_for(cfg.calendar), lists=lists)


def test_a_flood_is_suggested_darurat_with_its_reason() -> None:
    ticket = _plan(FLOOD).ticket
    assert ticket.priority is Priority.DARURAT
    assert ticket.priority_set_by == "system"
    assert ticket.priority_reason.startswith("darurat (urgensi segera, ")
    assert "'banjir' (" in ticket.priority_reason


def test_without_lists_the_ticket_keeps_the_default_and_no_reason() -> None:
    ticket = _plan(FLOOD, lists=None).ticket
    assert (ticket.priority, ticket.priority_reason) == (Priority.SEDANG, "")


def test_the_verifier_reads_a_darurat_suggestion_first() -> None:
    [note] = to(_plan(FLOOD).outgoing, SEKDES)
    assert note.kind is OutboxKind.NOTIFY
    assert note.subject.startswith(f"[{NUMBER}] DARURAT - Pengaduan baru: ")
    assert note.context["darurat_reason"].startswith("darurat (urgensi segera")
    text, html = Renderer().render("notify", note.context)
    assert "PERHATIAN - DARURAT" in text and "PERHATIAN - DARURAT" in html
    assert "Prioritas             : Darurat (disarankan sistem: darurat" in text


def test_an_ordinary_complaint_raises_no_alarm() -> None:
    plan = _plan(ROAD)
    assert plan.ticket.priority is not Priority.DARURAT
    assert plan.ticket.priority_reason  # still says why
    [note] = to(plan.outgoing, SEKDES)
    text, _ = Renderer().render("notify", note.context)
    assert "DARURAT" not in note.subject and "PERHATIAN" not in text
    assert note.context["darurat_reason"] == ""


def test_the_subject_counts_too() -> None:
    plan = _plan(ROAD.replace("Lampu penerangan", "Tiang lampu penerangan"),
                 subject="Pengaduan Masyarakat - kebakaran gudang")
    assert plan.ticket.priority is Priority.DARURAT
    assert "kebakaran" in plan.ticket.priority_reason


def test_a_village_s_own_words_change_the_suggestion() -> None:
    data = tomllib.loads(default_text())
    data["urgency"].append({"family": "lampu mati (desa)", "level": "segera",
                            "words": ["lampu ... mati"]})
    own = word_lists(data)
    assert _plan(ROAD).ticket.priority is not Priority.DARURAT
    ticket = _plan(ROAD, lists=own).ticket
    assert ticket.priority is Priority.DARURAT
    assert "(lampu mati (desa)) -> urgensi segera" in ticket.priority_reason


# -- no identity in the reason ---------------------------------------------------------------

NAMED = ("Nama: Slamet Riyadi\nNIK: 3322110506890002\nHP: 0813-2233-4455\n"
         "Alamat: Dusun Ngasem RT 04/RW 01\n\n"
         "Air di rumah Slamet Riyadi terus naik sejak subuh di Dusun Ngasem RT 04, banjir "
         "sudah sepinggang. Tetangga kami Bu Wiji Rahayu sakit dan belum bisa keluar. "
         "Hubungi 0813-2233-4455.\n\nHormat saya,\nSlamet Riyadi\n")


def test_no_identity_enters_the_reason_of_any_fixture_complaint() -> None:
    fixture = complaints()
    secrets = Secrets(fixture)
    for item in fixture:
        msg = parse_message(item.raw())
        cfg = config()
        plan = plan_new_ticket(msg, RECEIVED, NUMBER, cfg, calendar_for(cfg.calendar),
                               lists=LISTS)
        assert plan.ticket.priority_reason
        assert secrets.leaks(f"complaint {item.index}", plan.ticket.priority_reason) == []


def test_no_identity_enters_the_reason_even_around_the_matched_words() -> None:
    # "air ... terus naik" skips "di rumah Slamet Riyadi": the name does not show. "RT 04" is
    # a list phrase (a group of households) and the reporter's own RT: the reason hides it.
    ticket = _plan(NAMED).ticket
    assert ticket.priority is Priority.DARURAT
    assert "'air ... terus naik'" in ticket.priority_reason
    assert "[alamat disembunyikan]" in ticket.priority_reason
    for secret in ("slamet", "riyadi", "ngasem", "rt 04", "wiji", "rahayu", "0813", "4455"):
        assert secret not in ticket.priority_reason.casefold(), secret


# -- staff win, later suggestions follow the text otherwise ----------------------------------

COMPLETED = "Banjir di RT 02 sudah masuk rumah, air terus naik dan warga belum dievakuasi."


@pytest.mark.parametrize("set_by", ["system", KASI])
def test_a_completed_description_is_suggested_anew_unless_staff_set_the_priority(
        set_by: str) -> None:
    before = waiting_for(Missing.DESCRIPTION, description="", priority=Priority.RENDAH,
                         priority_set_by=set_by)
    plan = plan_resident_reply(before, siti(), resident_mail(COMPLETED), config(), SIGNED,
                               LISTS)
    assert plan.ticket.status is Status.DITERIMA  # the data is complete either way
    if set_by == "system":
        assert plan.ticket.priority is Priority.DARURAT
        assert "'banjir'" in plan.ticket.priority_reason
        assert [(e.kind, e.actor) for e in plan.events if e.kind is EventKind.PRIORITY] == [
            (EventKind.PRIORITY, "system")]
    else:
        assert (plan.ticket.priority, plan.ticket.priority_set_by) == (Priority.RENDAH, KASI)
        assert all(e.kind is not EventKind.PRIORITY for e in plan.events)

