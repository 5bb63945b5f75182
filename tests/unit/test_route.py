"""Where a taken message goes, once the store has said what it knows of it: `route`."""

from __future__ import annotations

import itertools

import pytest

from mailflow.core.intake_rules import Decision, Kind, Route, classify, route
from mailflow.core.parse import ParsedMessage
from tests.unit.plan_support import BUDI, INBOX, KASI, SITI, config, mail

NEW = Decision(Kind.NEW, "subject matches")
REPLY = Decision(Kind.REPLY, "ticket number in subject", "ADU-2026-00001")
FLAGS = list(itertools.product([False, True], repeat=3))


def _route_of(msg: ParsedMessage, has_target: bool = False, already_taken: bool = False) -> Route:
    """As intake does it: classify, then route with what the store knows."""
    cfg = config()
    decision = classify(msg, cfg.intake.subject_phrases, cfg.tickets.prefix, [INBOX])
    return route(decision, already_taken, has_target, cfg.staff_member(msg.from_addr) is not None)


@pytest.mark.parametrize("kind", [Kind.IGNORE, Kind.SKIP])
@pytest.mark.parametrize(("taken", "target", "staff"), FLAGS)
def test_robots_and_unrelated_mail_are_ignored_whatever_the_store_knows(
        kind: Kind, taken: bool, target: bool, staff: bool) -> None:
    assert route(Decision(kind), taken, target, staff) is Route.IGNORE


@pytest.mark.parametrize("decision", [NEW, REPLY])
@pytest.mark.parametrize(("target", "staff"), list(itertools.product([False, True], repeat=2)))
def test_a_message_already_taken_is_a_duplicate(decision: Decision, target: bool, staff: bool) -> None:
    assert route(decision, True, target, staff) is Route.DUPLICATE


@pytest.mark.parametrize("decision", [NEW, REPLY])
def test_a_staff_member_writing_about_a_ticket_is_a_staff_reply(decision: Decision) -> None:
    assert route(decision, False, True, True) is Route.STAFF_REPLY


@pytest.mark.parametrize("decision", [NEW, REPLY])
def test_anyone_else_writing_about_a_ticket_is_a_resident_reply(decision: Decision) -> None:
    assert route(decision, False, True, False) is Route.RESIDENT_REPLY


def test_a_new_complaint_is_a_new_ticket() -> None:
    assert route(NEW, False, False, False) is Route.NEW_TICKET


def test_a_reply_whose_ticket_is_gone_becomes_a_new_ticket() -> None:
    assert route(REPLY, False, False, False) is Route.NEW_TICKET


def test_a_staff_member_recording_a_phone_complaint_makes_a_new_ticket() -> None:
    assert route(NEW, False, False, True) is Route.NEW_TICKET


def test_a_reply_from_a_staff_address_goes_to_the_staff_rules() -> None:
    msg = mail("#status diverifikasi", sender=KASI, subject="Re: [ADU-2026-00001] Pengaduan baru")
    assert _route_of(msg, has_target=True) is Route.STAFF_REPLY


def test_a_resident_quoting_a_ticket_number_goes_to_the_resident_rules() -> None:
    msg = mail("status", sender=BUDI, subject="Re: [ADU-2026-00001] x")
    assert _route_of(msg, has_target=True) is Route.RESIDENT_REPLY


def test_our_own_mail_quoting_a_ticket_number_is_ignored() -> None:
    msg = mail(sender=INBOX, subject="[ADU-2026-00009] Pengaduan Masyarakat")
    assert _route_of(msg, has_target=True) is Route.IGNORE


def test_an_auto_reply_to_a_ticket_is_ignored() -> None:
    msg = mail(sender=SITI, subject="Re: [ADU-2026-00001] Pengaduan Bapak/Ibu telah diterima",
               Auto_Submitted="auto-replied")
    assert _route_of(msg, has_target=True) is Route.IGNORE


def test_unrelated_mail_is_ignored() -> None:
    assert _route_of(mail(sender=BUDI, subject="Undangan rapat RT")) is Route.IGNORE
