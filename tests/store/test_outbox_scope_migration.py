"""Revision 0017 gives the outgoing mail written before 0012 the village it was written for.

Rows of before 0012 had no village and were "sent by any": once the database served several
villages, every village's outbox sent them through its own SMTP address and listed them,
recipients included. The rows are written at revision 0016 by plain SQL, as an older mailflow
left them, then the database is upgraded as `mailflow db upgrade` does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from mailflow.store import migrate
from mailflow.store.db import make_engine
from mailflow.store.models import OutboxMessage
from mailflow.store.queries import outbox_listing
from tests.harness.postgres import store_url
from tests.harness.revisions import upgrade_to

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def _ticket(conn: Connection, number: str, at: datetime) -> int:
    conn.execute(text(
        "INSERT INTO ticket (number, scope, status, priority, priority_reason, priority_set_by, "
        "channel, received_at, due_date, subject, description, missing, message_key, "
        "html_only, created_at) VALUES (:number, :scope, 'diterima', 'sedang', '', 'system', "
        "'email', :at, :due, 's', 'd', '', :key, false, :at)"),
        {"number": number, "scope": number.split("-")[0], "at": at.replace(tzinfo=None),
         "due": date(2026, 12, 9), "key": f"{number}:mid"})
    return int(conn.execute(text("SELECT id FROM ticket WHERE number = :n"),
                            {"n": number}).scalar_one())


def _mail(conn: Connection, name: str, at: datetime, ticket_id: int | None,
          scope: str | None) -> None:
    conn.execute(text(
        "INSERT INTO outbox (ticket_id, kind, message_id, recipient, raw, state, attempts, "
        "next_attempt_at, last_error, created_at, scope) VALUES (:ticket, 'ack', :mid, "
        ":to, :raw, 'pending', 0, :at, '', :at, :scope)"),
        {"ticket": ticket_id, "mid": f"<{name}@desa.id>", "to": f"{name}@warga.example",
         "raw": b"x", "at": at.replace(tzinfo=None), "scope": scope})


def _scopes(url: str) -> dict[str, str | None]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            found = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
            return {row.message_id: row.scope for row in found}
    finally:
        engine.dispose()


def test_old_rows_get_the_village_they_were_written_for(tmp_path: Path) -> None:
    def fill(conn: Connection) -> None:
        # Klero's database before 0012 (its prefix changed once, ADU to KLR): no row has a
        # village, and all are Klero's, whose prefix is KLR now (the old ticket's mail too).
        old = _ticket(conn, "ADU-2025-00001", T0 - timedelta(days=300))
        klr = _ticket(conn, "KLR-2026-00001", T0)
        _mail(conn, "ack-old", T0 - timedelta(days=300), old, None)
        _mail(conn, "ack-klr", T0, klr, None)
        _mail(conn, "digest", T0 + timedelta(days=1), None, None)
        # Then Tegal joined the database (0012 on): its rows carry their village.
        tgl = _ticket(conn, "TGL-2026-00001", T0 + timedelta(days=30))
        _mail(conn, "ack-tgl", T0 + timedelta(days=30), tgl, "TGL")
        _mail(conn, "alert-tgl", T0 + timedelta(days=31), None, "TGL")

    url = store_url(tmp_path)
    upgrade_to(url, "0016", fill)
    migrate.upgrade(url)
    assert _scopes(url) == {"<ack-old@desa.id>": "KLR", "<ack-klr@desa.id>": "KLR",
                            "<digest@desa.id>": "KLR", "<ack-tgl@desa.id>": "TGL",
                            "<alert-tgl@desa.id>": "TGL"}
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            listed = outbox_listing(session, scope="TGL", limit=50)
            assert sorted(row.recipient for row, _ in listed) == ["ack-tgl@warga.example",
                                                                  "alert-tgl@warga.example"]
    finally:
        engine.dispose()


def test_rows_of_a_database_without_tickets_keep_no_village(tmp_path: Path) -> None:
    def fill(conn: Connection) -> None:
        _mail(conn, "login-alert", T0, None, None)

    url = store_url(tmp_path)
    upgrade_to(url, "0016", fill)
    migrate.upgrade(url)
    assert _scopes(url) == {"<login-alert@desa.id>": None}
