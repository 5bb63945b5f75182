"""Mail storms (issue 7, item 11) end to end: floods, foreign Reply-To, auto-reply loops, alerts.

Each test replays one attack the issue reports against real IMAP and SMTP servers on loopback
and checks what mailflow sends, not only what it stores: a storm is mail in someone's inbox.
The village's default limits are used wherever a test can (5 mails per resident address per
hour, 20 per day; alerts coalesced per 60 minutes), so these tests show the shipped defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.service import Service
from mailflow.store.models import TicketEvent
from tests.e2e.support import (
    ADMIN,
    BUDI,
    INBOX,
    KASI,
    SEKDES,
    SITI,
    FixedClock,
    complaint,
    config_for,
    intake_records,
    reporters,
    rows,
    tickets,
)
from tests.e2e.test_workflow_mail import staff_reply
from tests.harness.autoreplies import AUTO_REPLIES, COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR, ROBOT_TEXT

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=WIB)
NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)


def _poll(cfg: Any, clock: FixedClock) -> Any:
    service = Service(cfg, clock=clock)
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def _read(world: Any, user: str) -> list[Any]:
    return [message_from_bytes(m.raw, policy=default) for m in world.messages(user)]


def _text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content())


def _subjects(world: Any, user: str) -> list[str]:
    return [str(m["Subject"]) for m in _read(world, user)]


def _budi_complaint(n: int) -> bytes:
    body = (f"Nama: Budi Santoso\nNIK: 3322110506890002\n\nLaporan ke-{n}: lampu jalan di gang "
            f"nomor {n} Dusun Krajan mati sejak minggu lalu, mohon segera diperbaiki.\n")
    return complaint(sender=f"Budi Santoso <{BUDI}>", body=body)


# -- per-address limits -----------------------------------------------------------------------

def test_a_flood_from_one_address_makes_tickets_but_only_a_few_mails(mail_world: Any,
                                                                     tmp_path: Path) -> None:
    """40 complaints from one address: 40 tickets, 5 acknowledgements, 5 notifications and one
    notice to the verifier (the defaults: 5 per hour, 20 per day); an hour later mail flows
    again, five an hour, until the day's twentieth."""
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    for n in range(40):
        mail_world.deliver(INBOX, _budi_complaint(n), internaldate=RECEIVED)

    _poll(cfg, clock)

    assert len(tickets(cfg)) == 40
    assert len(mail_world.messages(BUDI)) == 5
    verifier = _read(mail_world, SEKDES)
    assert sum("Pengaduan baru" in str(m["Subject"]) for m in verifier) == 5
    [notice] = [m for m in verifier if "Batas email" in str(m["Subject"])]
    assert BUDI in _text(notice) and "tetap dicatat" in _text(notice)
    withheld = [e for e in rows(cfg, TicketEvent) if e.kind == "mail_withheld"]
    assert len({e.ticket_id for e in withheld}) == 35
    assert all(BUDI not in e.note for e in withheld)  # the audit trail names no address

    for n in range(40, 45):
        mail_world.deliver(INBOX, _budi_complaint(n), internaldate=RECEIVED)
    clock.now += timedelta(minutes=20)
    _poll(cfg, clock)
    assert len(tickets(cfg)) == 45
    assert len(mail_world.messages(BUDI)) == 5
    assert len(mail_world.messages(SEKDES)) == 6  # told once per address, not once per message

    clock.now += timedelta(minutes=45)  # over an hour since the five: under the daily limit
    mail_world.deliver(INBOX, _budi_complaint(99), internaldate=RECEIVED)
    _poll(cfg, clock)
    assert len(mail_world.messages(BUDI)) == 6

    acks = []  # five more each hour, until the daily limit of 20 stops them
    for hour in range(4):
        clock.now += timedelta(minutes=61)
        for n in range(5):
            mail_world.deliver(INBOX, _budi_complaint(100 + 5 * hour + n), internaldate=RECEIVED)
        _poll(cfg, clock)
        acks.append(len(mail_world.messages(BUDI)))
    assert acks == [11, 16, 20, 20]
    assert sum("Batas email" in s for s in _subjects(mail_world, SEKDES)) == 1
    assert mail_world.messages(SITI) == []


def test_a_staff_address_has_its_own_limit(mail_world: Any, tmp_path: Path) -> None:
    """35 complaints from seven residents, five each (all within the residents' limit): the
    verifier gets 30 notifications (the default staff limit per hour), then one notice about
    their own address; every resident gets all five acknowledgements."""
    residents = [f"warga{n}@warga.example" for n in range(7)]
    for address in residents:
        mail_world.add_user(address, "warga-secret")
    cfg = config_for(mail_world, tmp_path)
    for n in range(35):
        body = (f"Nama: Warga Desa\nNIK: 3322110506890002\n\nLaporan ke-{n}: saluran air nomor {n} "
                "di Dusun Krajan tersumbat sampah, air meluap ke jalan.")
        mail_world.deliver(INBOX, complaint(sender=residents[n % 7], body=body),
                           internaldate=RECEIVED)

    _poll(cfg, FixedClock(NOW))

    assert len(tickets(cfg)) == 35
    assert [len(mail_world.messages(a)) for a in residents] == [5] * 7
    subjects = _subjects(mail_world, SEKDES)
    assert sum("Pengaduan baru" in s for s in subjects) == 30
    [notice] = [m for m in _read(mail_world, SEKDES) if "Batas email" in str(m["Subject"])]
    assert SEKDES in _text(notice)
    withheld = [e.note for e in rows(cfg, TicketEvent) if e.kind == "mail_withheld"]
    assert withheld == [f"notify to {SEKDES} not sent: mail limit of 30 per hour reached"] * 5


# -- Reply-To ---------------------------------------------------------------------------------

def test_a_foreign_reply_to_gets_no_acknowledgement(mail_world: Any, tmp_path: Path) -> None:
    """Only the address that wrote is answered; the verifier sees the other address."""
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(Reply_To=f"Orang Lain <{BUDI}>"), internaldate=RECEIVED)

    _poll(cfg, FixedClock(NOW))

    assert mail_world.messages(BUDI) == []
    [ack] = _read(mail_world, SITI)
    assert "ADU-2026-00001" in str(ack["Subject"])
    [reporter] = reporters(cfg)
    assert reporter.email == SITI
    [notification] = _read(mail_world, SEKDES)
    assert BUDI in _text(notification) and "Reply-To" in _text(notification)
    [created] = [e for e in rows(cfg, TicketEvent) if e.kind == "created"]
    assert "reply-to differs" in created.note and BUDI not in created.note


# -- auto-replies and loops -------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "body"), list(AUTO_REPLIES.values()), ids=list(AUTO_REPLIES))
def test_an_auto_responder_without_headers_gets_no_ticket_and_no_answer(
        mail_world: Any, tmp_path: Path, subject: str, body: str) -> None:
    """The issue's case: an auto-responder answers without threading headers or Auto-Submitted,
    on every poll. Nothing is made and nothing is sent, however often it writes."""
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    for _ in range(3):
        mail_world.deliver(INBOX, complaint(subject=subject, body=body), internaldate=RECEIVED)
        _poll(cfg, clock)
        clock.now += timedelta(minutes=1)

    assert tickets(cfg) == []
    assert mail_world.messages(SITI) == []
    assert mail_world.messages(SEKDES) == []
    records = intake_records(cfg)
    assert [r.decision for r in records] == ["ignored"] * 3
    assert all("auto-reply" in r.reason for r in records)


def test_complaints_that_mention_cuti_or_kantor_are_taken(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    for n, (subject, body) in enumerate(COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR):
        sender = f"Siti Aminah <{SITI}>" if n % 2 == 0 else f"Budi Santoso <{BUDI}>"
        mail_world.deliver(INBOX, complaint(sender=sender, subject=subject, body=body),
                           internaldate=RECEIVED)

    _poll(cfg, FixedClock(NOW))

    assert len(tickets(cfg)) == len(COMPLAINTS_THAT_SAY_CUTI_OR_KANTOR)
    assert len(mail_world.messages(SITI)) + len(mail_world.messages(BUDI)) == 4


ROBOT = "layanan@instansi.example"


def _robot_answer(ack: Any | None) -> bytes:
    """What an unknown helpdesk robot sends: the same subject and words every time, no
    threading headers, no Auto-Submitted, quoting whatever it answers."""
    quoted = ""
    if ack is not None:
        quoted = "\n\n-----Original Message-----\n" + _text(ack)
    return complaint(sender=f"Layanan Instansi <{ROBOT}>", subject="Re: Pengaduan Masyarakat",
                     body=ROBOT_TEXT + quoted)


def test_an_unknown_auto_responder_loop_stops_at_the_first_repeat(mail_world: Any,
                                                                  tmp_path: Path) -> None:
    """Wording no rule knows: the first message is a ticket and is acknowledged; the robot's
    answer repeats it, is recognised as the same complaint, and gets no answer: loop over."""
    mail_world.add_user(ROBOT, "robot-secret")
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    mail_world.deliver(INBOX, _robot_answer(None), internaldate=RECEIVED)
    answered = 0
    for _ in range(4):
        _poll(cfg, clock)
        clock.now += timedelta(minutes=2)
        inbox = _read(mail_world, ROBOT)
        for ack in inbox[answered:]:
            mail_world.deliver(INBOX, _robot_answer(ack), internaldate=RECEIVED)
        answered = len(inbox)

    assert len(tickets(cfg)) == 1
    assert len(mail_world.messages(ROBOT)) == 1
    assert len(mail_world.messages(SEKDES)) == 1
    assert [r.decision for r in intake_records(cfg)] == ["ticket", "duplicate"]
    assert "repeat" in intake_records(cfg)[1].reason


# -- security alerts --------------------------------------------------------------------------

def test_forged_commands_make_one_alert_and_one_explanation_per_window(mail_world: Any,
                                                                      tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    _poll(cfg, clock)
    [note] = _read(mail_world, SEKDES)
    forged = [staff_reply(SEKDES, note, f"#tolak palsu nomor {n}\nDitutup.", to=INBOX)
              for n in range(6)]
    forged_ids = [str(message_from_bytes(raw, policy=default)["Message-ID"]) for raw in forged]
    for raw in forged[:5]:
        mail_world.deliver(INBOX, raw)

    _poll(cfg, clock)

    assert tickets(cfg)[0].status == "diterima"
    assert len([e for e in rows(cfg, TicketEvent) if e.kind == "security"]) == 5
    [alert] = _read(mail_world, ADMIN)
    assert "Peringatan keamanan" in str(alert["Subject"])
    for message_id in forged_ids[:5]:
        assert message_id in _text(alert)
    assert len(mail_world.messages(SEKDES)) == 2  # the notification and one explanation
    assert len(mail_world.messages(SITI)) == 1

    # A sixth within the window waits; the next alert, after the window, lists it.
    mail_world.deliver(INBOX, forged[5])
    clock.now += timedelta(minutes=10)
    _poll(cfg, clock)
    assert len(mail_world.messages(ADMIN)) == 1
    assert len(mail_world.messages(SEKDES)) == 2
    clock.now += timedelta(minutes=51)
    _poll(cfg, clock)
    [_first, follow_up] = _read(mail_world, ADMIN)
    assert forged_ids[5] in _text(follow_up)
    assert forged_ids[0] not in _text(follow_up)
    assert len(mail_world.messages(SEKDES)) == 2


PHONE_BODY = ("#kanal telepon\n\nNama: Budi Santoso\nNIK: 3322110506890002\nEmail: budi@warga.example"
              "\n\nPenelepon melaporkan jembatan bambu di RT 04 patah sejak pagi.")


def test_forged_recordings_and_commands_share_one_alert(mail_world: Any, tmp_path: Path) -> None:
    """Unproven phone recordings (no ticket) and unproven commands in one poll: one alert that
    lists them all, one explanation to each claimed staff member."""
    cfg = config_for(mail_world, tmp_path)
    clock = FixedClock(NOW)
    mail_world.deliver(INBOX, complaint(), internaldate=RECEIVED)
    _poll(cfg, clock)
    [note] = _read(mail_world, SEKDES)
    forged = [complaint(sender=f"Kasi Pelayanan <{KASI}>", body=PHONE_BODY.replace("RT 04", f"RT 0{n}"))
              for n in range(3)]
    forged += [staff_reply(SEKDES, note, f"#tolak palsu nomor {n}\nDitutup.", to=INBOX)
               for n in range(2)]
    for raw in forged:
        mail_world.deliver(INBOX, raw)

    _poll(cfg, clock)

    assert len(tickets(cfg)) == 1 and mail_world.messages(BUDI) == []
    [alert] = _read(mail_world, ADMIN)
    for raw in forged:
        assert str(message_from_bytes(raw, policy=default)["Message-ID"]) in _text(alert)
    assert _text(alert).count("pencatatan telepon/WhatsApp (tanpa tiket)") == 3
    assert len(mail_world.messages(KASI)) == 1
    assert len(mail_world.messages(SEKDES)) == 2  # the notification and one explanation
