"""A first start that answers no one by surprise, on a real mailbox (issue 8).

A mailbox that already holds complaints: the first start takes none of them (each recorded,
none answered or marked); the dry run lists them and changes nothing; `[intake] take_since`
takes them with an honest receipt and due date; and after the database is lost, an old staff
command in the mailbox cannot act on the new ticket that got its number.
"""

from __future__ import annotations

import imaplib
import logging
import time
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from mailflow.cli import main
from mailflow.demo.mail import to_toml
from mailflow.service import Service
from mailflow.store.db import make_engine
from mailflow.store.models import IntakeRecord, MailboxState, TicketEvent
from mailflow.vocabulary import IntakeOutcome
from tests.e2e.support import (
    BUDI,
    INBOX,
    SEKDES,
    SITI,
    SITI_SECRETS,
    FixedClock,
    complaint,
    config_for,
    intake_records,
    outbox,
    rows,
    tickets,
)
from tests.harness.postgres import lose_database

pytestmark = pytest.mark.e2e

WIB = ZoneInfo("Asia/Jakarta")
LAST_YEAR = datetime(2025, 6, 10, 9, 0, tzinfo=WIB)
AUGUST = datetime(2026, 8, 3, 9, 0, tzinfo=WIB)  # a Monday
NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)  # Friday 10:05 WIB
NO_CHOICE = {"take_since": None}  # a real first start: nothing chosen
FOLDER = "Pengaduan"


def _poll(cfg: Any, clock: FixedClock | None = None) -> Any:
    service = Service(cfg, clock=clock or FixedClock(NOW))
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def _old_mailbox(world: Any) -> None:
    """Last year's complaint, one from August, and a staff reply to a ticket of long ago."""
    world.deliver(INBOX, complaint(body="Lampu jalan di gang Melati mati sejak lama.\n"),
                  internaldate=LAST_YEAR)
    world.deliver(INBOX, complaint(sender=f"Budi Santoso <{BUDI}>",
                                   body="Nama: Budi Santoso\nNIK: 3322110506890002\n\n"
                                        "Saluran irigasi di Dusun Krajan jebol sejak kemarin.\n"),
                  internaldate=AUGUST)
    world.deliver(INBOX, complaint(sender=f"Sekretaris Desa <{SEKDES}>",
                                   subject="Re: [ADU-2026-00004] Pengaduan baru",
                                   body="#status selesai\nSudah ditangani."),
                  internaldate=AUGUST + timedelta(days=2))


def _flags(world: Any) -> list[tuple[int, tuple[str, ...]]]:
    return [(m.uid, m.flags) for m in world.messages(INBOX)]


def test_the_first_start_takes_only_what_arrives_after_it(mail_world: Any, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE)
    _old_mailbox(mail_world)
    mail_world.deliver(INBOX, complaint(subject="Undangan rapat RT 02"), internaldate=AUGUST)
    before = _flags(mail_world)

    with caplog.at_level(logging.INFO):
        _poll(cfg)

    assert tickets(cfg) == [] and outbox(cfg) == []
    records = intake_records(cfg)
    assert [r.decision for r in records] == [IntakeOutcome.BEFORE_START] * 3
    assert all("before mailflow's first start" in r.reason and not r.marked for r in records)
    assert _flags(mail_world) == before  # nothing marked, nothing \Seen
    summary = [r.getMessage() for r in caplog.records if "first start" in r.getMessage()
               and r.name == "mailflow.runners.intake"]
    assert summary == ["not taken: 4 message(s) in the mailbox before mailflow's first start, "
                       "3 with a complaint subject (recorded); [intake] take_since chooses a "
                       "day to take them from"]
    assert not [r for r in caplog.records if "uid=1 " in r.getMessage()]  # no line per message

    mail_world.deliver(INBOX, complaint())  # a resident writes after the first start
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert ticket.number == "ADU-2026-00001"
    assert [m.recipient for m in outbox(cfg) if m.kind == "ack"] == [SITI]
    assert mail_world.messages(BUDI) == []
    assert _flags(mail_world)[:4] == before
    assert [r.uid for r in intake_records(cfg)] == [1, 2, 3, 5]


def _write_config(cfg: Any, path: Path) -> Path:
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    return path


def test_the_dry_run_lists_old_mail_without_identity_and_changes_nothing(
        mail_world: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE)
    path = _write_config(cfg, tmp_path / "config.toml")
    _old_mailbox(mail_world)
    before = _flags(mail_world)

    assert main(["backlog", "--since", "2026-08-01", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "state" / "mailflow.sqlite3").exists()  # not even an empty database
    lines = out.splitlines()
    assert any(line.split()[:1] == ["1"] and "skipped: received before 2026-08-01" in line
               for line in lines)
    assert any(line.split()[:1] == ["2"] and "2026-08-03 09:00" in line and "yes" in line
               and line.endswith("ticket (due date counted from the day it is taken)")
               for line in lines)
    assert "3 old message(s); 2 would become new ticket(s)" in lines
    assert lines[-1].startswith("to take them: set [intake] take_since = 2026-08-01")
    for secret in (*SITI_SECRETS, "Budi Santoso", BUDI, SEKDES, "Pengaduan Masyarakat", "Lampu"):
        assert secret not in out

    _poll(cfg)  # the first start: all three are old
    counts = (len(intake_records(cfg)), len(tickets(cfg)), len(outbox(cfg)))
    assert main(["backlog", "--since", "2026-08-01", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "uid below 4" in out and "3 old message(s); 2 would become new ticket(s)" in out
    assert (len(intake_records(cfg)), len(tickets(cfg)), len(outbox(cfg))) == counts
    assert _flags(mail_world) == before
    assert mail_world.messages(SITI) == mail_world.messages(BUDI) == []
    assert main(["backlog", "--since", "bulan lalu", "--config", str(path)]) == 65
    assert "--since 'bulan lalu' is not a date" in capsys.readouterr().err


def test_take_since_takes_old_complaints_with_honest_dates(mail_world: Any,
                                                           tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE)
    _old_mailbox(mail_world)
    _poll(cfg)
    assert tickets(cfg) == []

    chosen = config_for(mail_world, tmp_path, intake={"take_since": "2026-08-01"})
    _poll(chosen)

    # August's complaint, and the staff reply of August 5: it cites a ticket this database
    # never had, and a complaint is never dropped for citing a wrong number. Last year's stays.
    ticket, _reply = tickets(chosen)
    assert ticket.received_at == AUGUST
    assert ticket.due_date == date(2026, 12, 8)  # 7 working days from Friday 27 November
    [ack] = [message_from_bytes(m.raw, policy=default) for m in mail_world.messages(BUDI)]
    text = str(ack.get_body(("plain",)).get_content())
    assert "Senin, 3 Agustus 2026" in text and "Selasa, 8 Desember 2026" in text
    assert "baru kami catat" in text and "Jumat, 27 November 2026 pukul 10.05 WIB" in text
    assert mail_world.messages(SITI) == []
    decisions = {r.uid: r.decision for r in intake_records(chosen)}
    assert decisions[1] == IntakeOutcome.BEFORE_START  # June 2025: before take_since
    assert decisions[2] == IntakeOutcome.TICKET
    assert [e.kind for e in rows(chosen, TicketEvent)] == ["created", "created"]

    records = len(intake_records(chosen))
    _poll(chosen)  # the backlog is looked at once per take_since day
    assert (len(tickets(chosen)), len(intake_records(chosen))) == (2, records)


def test_a_backlog_cut_short_after_its_records_were_dropped_is_taken_next_time(
        mail_world: Any, tmp_path: Path) -> None:
    """The mailbox, not the before-start records, says what the backlog is: a crash after the
    records were dropped and before the messages were taken loses nothing."""
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE)
    _old_mailbox(mail_world)
    _poll(cfg)
    engine = make_engine(cfg.database_url)
    with engine.begin() as connection:
        connection.execute(delete(IntakeRecord))
    engine.dispose()

    _poll(config_for(mail_world, tmp_path, intake={"take_since": "2026-08-01"}))

    assert len(tickets(cfg)) == 2
    assert len(mail_world.messages(BUDI)) == 1


def _staff_reply(note: Any, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Sekretaris Desa <{SEKDES}>"
    msg["To"] = str(note["Reply-To"])
    msg["Subject"] = "Re: " + str(note["Subject"])
    msg["Message-ID"] = make_msgid(domain="klero.desa.id")
    msg["In-Reply-To"] = str(note["Message-ID"])
    msg.set_content(body)
    return msg.as_bytes()


def test_an_old_command_cannot_act_on_a_new_ticket_after_the_database_is_replaced(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE)
    _poll(cfg)  # the first start, on an empty mailbox
    mail_world.deliver(INBOX, complaint())
    _poll(cfg, FixedClock(datetime.now(UTC)))
    [note] = [message_from_bytes(m.raw, policy=default) for m in mail_world.messages(SEKDES)]
    command = _staff_reply(note, "#status ditolak\nBukan wewenang desa.")
    mail_world.deliver(INBOX, command)
    _poll(cfg, FixedClock(datetime.now(UTC)))
    assert tickets(cfg)[0].status == "ditolak"  # it worked on the ticket it was meant for

    lose_database(tmp_path)  # the database is lost
    _poll(cfg, FixedClock(datetime.now(UTC)))  # a new first start: the old mail stays old
    mail_world.deliver(INBOX, complaint(sender=f"Budi Santoso <{BUDI}>",
                                        body="Nama: Budi Santoso\nNIK: 3322110506890002\n\n"
                                             "Jembatan bambu di RT 04 patah sejak pagi.\n"))
    _poll(cfg, FixedClock(datetime.now(UTC)))
    [new] = tickets(cfg)
    assert new.number == "ADU-2026-00001" and new.status == "diterima"
    sent_to_budi = len(mail_world.messages(BUDI))
    sekdes_before = len(mail_world.messages(SEKDES))

    # The old command comes back (a mail program re-delivers it, or it is copied back).
    mail_world.deliver(INBOX, command, internaldate=datetime.now(UTC) - timedelta(days=1))
    _poll(cfg, FixedClock(datetime.now(UTC)))

    [new] = tickets(cfg)
    assert new.status == "diterima"
    record = intake_records(cfg)[-1]
    assert record.decision == IntakeOutcome.STAFF
    assert "refused" in record.reason and "earlier database" in record.reason
    assert [e.kind for e in rows(cfg, TicketEvent)][-1] == "command_refused"
    assert len(mail_world.messages(BUDI)) == sent_to_budi  # the resident hears nothing
    [explanation] = [message_from_bytes(m.raw, policy=default)
                     for m in mail_world.messages(SEKDES)[sekdes_before:]]
    words = " ".join(str(explanation.get_body(("plain",)).get_content()).split())
    assert "sebelum tiket ADU-2026-00001 dibuat" in words


def test_an_old_resident_reply_is_not_added_to_a_new_ticket(mail_world: Any,
                                                            tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint())
    _poll(cfg, FixedClock(datetime.now(UTC)))
    old_reply = complaint(subject="Re: [ADU-2026-00001] Pengaduan Anda telah diterima",
                          body="Fotonya menyusul besok.")
    mail_world.deliver(INBOX, old_reply, internaldate=datetime.now(UTC) - timedelta(days=3))

    _poll(cfg, FixedClock(datetime.now(UTC)))

    record = intake_records(cfg)[-1]
    assert record.decision == IntakeOutcome.IGNORED and "earlier database" in record.reason
    assert [e.kind for e in rows(cfg, TicketEvent)] == ["created"]


def test_a_uidvalidity_change_keeps_old_mail_old_by_its_date(mail_world: Any,
                                                             tmp_path: Path) -> None:
    """The folder is recreated (new UIDVALIDITY, UIDs from 1 again): the UID boundary means
    nothing now, and the date of the first start decides what is old."""
    cfg = config_for(mail_world, tmp_path, intake=NO_CHOICE, imap={"folder": FOLDER})
    for when in (LAST_YEAR, AUGUST, AUGUST + timedelta(days=1)):
        mail_world.deliver(INBOX, complaint(body=f"Keluhan lama {when:%Y-%m-%d}."),
                           internaldate=when, folder=FOLDER)
    _poll(cfg, FixedClock(datetime.now(UTC) - timedelta(seconds=2)))
    mail_world.deliver(INBOX, complaint(), folder=FOLDER)
    _poll(cfg, FixedClock(datetime.now(UTC)))
    assert len(tickets(cfg)) == 1
    [before] = rows(cfg, MailboxState)

    client = imaplib.IMAP4(mail_world.imap_host, mail_world.imap_port)
    client.login(INBOX, mail_world.users[INBOX])
    client.delete(FOLDER)
    client.logout()
    time.sleep(1.1)  # a new UIDVALIDITY is the time of creation on some servers
    mail_world.deliver(INBOX, complaint(body="Keluhan lama sekali."), internaldate=LAST_YEAR,
                       folder=FOLDER)  # UID 1 again
    mail_world.deliver(INBOX, complaint(sender=f"Budi Santoso <{BUDI}>",
                                        body="Nama: Budi Santoso\n\nSumur umum RT 03 kering.\n"),
                       folder=FOLDER)  # UID 2: below the old boundary, but new

    _poll(cfg, FixedClock(datetime.now(UTC)))

    [after] = rows(cfg, MailboxState)
    assert after.uidvalidity != before.uidvalidity and after.first_uid is None
    assert [t.number for t in tickets(cfg)] == ["ADU-2026-00001", "ADU-2026-00002"]
    records = [r for r in intake_records(cfg) if r.uidvalidity == after.uidvalidity]
    assert [(r.uid, r.decision) for r in records] == [(1, IntakeOutcome.BEFORE_START),
                                                      (2, IntakeOutcome.TICKET)]
    assert len(mail_world.messages(BUDI)) == 1
