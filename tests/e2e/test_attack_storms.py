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
    BUDI,
    INBOX,
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
