"""Revision 0016 gives the tickets already in a database their village, on either engine.

Every village's query finds its tickets by the `scope` column since 0016 (store/scope.py): a
ticket the upgrade left without it would vanish from its village's staff, reports and clock.
The tickets are written at revision 0015 by plain SQL, as an older mailflow wrote them, then
the database is upgraded as `mailflow db upgrade` does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from mailflow.store import migrate
from mailflow.store.db import make_engine
from mailflow.store.models import Ticket
from mailflow.store.scope import tickets_of
from tests.harness.postgres import store_url
from tests.harness.revisions import upgrade_to

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
NUMBERS = ["ADU-2026-00001", "KLR7-2026-00002", "ADU-2025-00003", "TGL-2026-00004"]


def test_the_upgrade_gives_each_ticket_its_village(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    def fill(conn: Connection) -> None:
        for number in NUMBERS:
            conn.execute(text(
                "INSERT INTO ticket (number, status, priority, priority_reason, "
                "priority_set_by, channel, received_at, due_date, subject, description, "
                "missing, message_key, html_only, created_at) VALUES (:number, "
                "'diterima', 'sedang', '', 'system', 'email', :at, :due, 's', 'd', '', "
                ":key, false, :at)"),
                {"number": number, "at": NOW.replace(tzinfo=None),
                 "due": date(2026, 12, 9), "key": f"{number}:mid"})

    upgrade_to(url, "0015", fill)
    engine = make_engine(url)
    try:
        migrate.upgrade(url)
        with Session(engine) as session:
            tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
            assert [t.scope for t in tickets] == ["ADU", "KLR7", "ADU", "TGL"]
            adu = session.exec(select(Ticket.number).where(tickets_of("ADU"))).all()
            assert sorted(adu) == ["ADU-2025-00003", "ADU-2026-00001"]
            # A ticket made after the upgrade gets its village from the model's default.
            session.add(Ticket(number="KLR7-2026-00005", status="diterima", received_at=NOW,
                               due_date=date(2026, 12, 9), subject="s", description="d",
                               message_key="KLR7-2026-00005:mid", created_at=NOW))
            session.commit()
            klr = session.exec(select(Ticket.number).where(tickets_of("KLR7"))).all()
            assert sorted(klr) == ["KLR7-2026-00002", "KLR7-2026-00005"]
    finally:
        engine.dispose()
