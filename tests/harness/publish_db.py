"""A database for the public page's tests: the 108 identity complaints as tickets over half a
year, answered in time, late or not at all, some closed with a #publik note, and every text a
resident wrote (subject, description, replies) full of their identity.

The #publik notes greet the reporter by name and phone on purpose (a staff member's slip):
the page must scrub them. Channels are mostly email, a few telephone, two WhatsApp and no
kotak saran, so that some category cells fall under the threshold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mailflow.store.db import Engine, make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import Reporter, Ticket, TicketEvent
from mailflow.vocabulary import Channel, EventKind, Status
from tests.fixtures.identity_complaints import Complaint, complaints

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 15, 10, tzinfo=WIB)
KASI = "kasi@klero.desa.id"
PUBLIC_NOTE = "Sudah ditangani petugas desa"  # the substance of every #publik note


def number(item: Complaint) -> str:
    return f"ADU-2026-{item.index + 1:05d}"


def _channel(index: int) -> Channel:
    if index in (5, 50):
        return Channel.WHATSAPP
    return Channel.TELEPON if index % 10 == 3 else Channel.EMAIL


def _event(ticket_id: int, at: datetime, actor: str, kind: EventKind, note: str = "",
           to_status: Status | None = None) -> TicketEvent:
    return TicketEvent(ticket_id=ticket_id, at=at, actor=actor, kind=kind, note=note,
                       to_status=to_status)


def _add(engine: Engine, item: Complaint) -> None:
    received = datetime(2026, 6, 22, 9, tzinfo=WIB) + timedelta(days=item.index * 16 // 10)
    person = item.person
    with transaction(engine) as session:
        ticket = Ticket(number=number(item), status=Status.DITERIMA, received_at=received,
                        due_date=date(2027, 1, 4), subject=item.subject,
                        description=item.text or item.html or "-", channel=_channel(item.index),
                        message_key=item.message_id, created_at=received)
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        session.add(Reporter(ticket_id=ticket.id, name=person.name, nik=person.nik,
                             phone=person.phone_written, address=person.address,
                             email=person.email))
        events = [_event(ticket.id, received, "system", EventKind.CREATED,
                         to_status=Status.DITERIMA),
                  _event(ticket.id, received + timedelta(hours=5), "reporter", EventKind.REPLY,
                         note=item.reply)]
        way = item.index % 3
        answered = received + timedelta(days=2 if way == 0 else 12)
        if way < 2 and answered < NOW:  # answered: after two days (in time) or twelve (late)
            events.append(_event(ticket.id, answered, KASI, EventKind.STATUS,
                                 note=f"Bapak/Ibu {person.name}, petugas menuju lokasi.",
                                 to_status=Status.DIPROSES))
            ticket.status = Status.DIPROSES
            if item.index % 4 == 0:
                closed = answered + timedelta(days=3)
                events.append(_event(ticket.id, closed, KASI, EventKind.STATUS,
                                     to_status=Status.SELESAI))
                events.append(_event(ticket.id, closed, KASI, EventKind.PUBLIC, note=(
                    f"{PUBLIC_NOTE}. Terima kasih {person.name} ({person.phone_written}).")))
                ticket.status = Status.SELESAI
        session.add_all(events)


def publish_db(directory: Path, fixture: list[Complaint] | None = None) -> Engine:
    """A prepared SQLite database in `directory` with the fixture's tickets."""
    engine = make_engine(f"sqlite:///{directory / 'publish.sqlite3'}")
    prepare(engine)
    for item in fixture if fixture is not None else complaints():
        _add(engine, item)
    return engine
