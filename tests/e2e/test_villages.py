"""Two villages in one database: each takes its own mail, numbers its own tickets, answers
from its own address, and never finds the other's tickets (issue 10)."""

from __future__ import annotations

import email
import re
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from mailflow.config import Config
from mailflow.service import Service
from mailflow.store.models import IntakeRecord, OutboxMessage, TicketEvent
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.e2e.support import INBOX, SITI, complaint, config_for, rows, tickets

TEGAL = "pengaduan@tegalwaton.desa.id"


def _villages(world: Any, tmp_path: Path) -> tuple[Config, Config]:
    world.add_user(TEGAL, "tegal-secret")
    klero = config_for(world, tmp_path, tickets={"prefix": "KLR"})
    tegal = config_for(world, tmp_path, tickets={"prefix": "TGL"},
                       village={"name": "Desa Tegalwaton"},
                       imap={"username": TEGAL, "password": "tegal-secret"},
                       smtp={"from_address": TEGAL, "from_name": "Pemerintah Desa Tegalwaton"})
    assert klero.database_url == tegal.database_url  # one database, as a regency has
    return klero, tegal


def _poll(cfg: Config, *, outbox: bool = True) -> None:
    service = Service(cfg)
    try:
        result = service.poll_once(outbox=outbox)
        assert result.imap_error is None and result.storage_error is None, result
    finally:
        service.engine.dispose()


def _acks(world: Any) -> dict[str, str]:
    """The acknowledgements Siti received: ticket number -> From address."""
    found = {}
    for stored in world.messages(SITI):
        msg = email.message_from_bytes(stored.raw, policy=default_policy)
        number = re.search(r"[A-Z]+-\d{4}-\d{5}", str(msg["Subject"]))
        if number is not None:
            found[number[0]] = msg["From"].addresses[0].addr_spec
    return found


def test_one_message_to_two_villages_is_a_ticket_in_each_numbered_by_each(
        mail_world: Any, tmp_path: Path) -> None:
    klero, tegal = _villages(mail_world, tmp_path)
    both = complaint(message_id="<banjir-1@warga.example>", to=f"{INBOX}, {TEGAL}")
    mail_world.deliver(INBOX, both)
    mail_world.deliver(TEGAL, both)
    mail_world.deliver(INBOX, complaint(body="Nama: Siti Aminah\nAlamat: RT 02\n\n"
                                             "Lampu jalan di RT 02 mati sejak seminggu.\n"))
    _poll(klero, outbox=False)
    # Tegal's outbox pass sends Tegal's mail only: Klero's waits for Klero's SMTP settings.
    _poll(tegal)
    pending = {row.scope for row in rows(klero, OutboxMessage) if row.state is OutboxState.PENDING}
    assert pending == {"KLR"}
    _poll(klero)

    numbers = sorted(ticket.number for ticket in tickets(klero))
    assert [n.split("-")[0] + "-" + n.split("-")[2] for n in numbers] == [
        "KLR-00001", "KLR-00002", "TGL-00001"]
    acks = _acks(mail_world)
    tegal_number = next(n for n in numbers if n.startswith("TGL"))
    assert acks[tegal_number] == TEGAL
    assert {acks[n] for n in numbers if n.startswith("KLR")} == {INBOX}
    sent = rows(klero, OutboxMessage)
    assert {row.scope for row in sent if row.kind is OutboxKind.ACK} == {"KLR", "TGL"}
    assert all(row.state is OutboxState.SENT for row in sent)


def test_a_reply_citing_another_villages_mail_never_reaches_its_ticket(
        mail_world: Any, tmp_path: Path) -> None:
    klero, tegal = _villages(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(message_id="<jalan@warga.example>"))
    _poll(klero)
    (ticket,) = tickets(klero)
    ack = next(row for row in rows(klero, OutboxMessage) if row.kind is OutboxKind.ACK)
    # Sent to Tegal, citing Klero's acknowledgement and Klero's ticket number in the subject.
    mail_world.deliver(TEGAL, complaint(subject=f"Re: {ticket.number} tambahan foto",
                                        message_id="<tambahan@warga.example>", to=TEGAL,
                                        **{"In-Reply-To": ack.message_id}))
    events_before = len(rows(klero, TicketEvent))
    _poll(tegal)

    # Not Tegal's complaint (no phrase, no Tegal number, cites no Tegal mail): not taken.
    assert [r for r in rows(tegal, IntakeRecord) if r.mailbox == tegal.mailbox_key] == []
    assert len(rows(klero, TicketEvent)) == events_before
    assert [t.number for t in tickets(klero)] == [ticket.number]
