"""Staff receipts do not use up the per-address mail allowance their notifications need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from mailflow.store import queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SEKDES = "sekdes@klero.desa.id"


def test_receipts_are_not_counted_against_the_staff_limit(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        for n in range(40):
            session.add(OutboxMessage(kind=OutboxKind.RECEIPT, recipient=SEKDES, raw=b"x",
                                      message_id=f"<r{n}@klero.desa.id>", next_attempt_at=NOW,
                                      created_at=NOW - timedelta(minutes=n)))
        session.add(OutboxMessage(kind=OutboxKind.NOTIFY, recipient=SEKDES.upper(), raw=b"x",
                                  message_id="<n@klero.desa.id>", next_attempt_at=NOW,
                                  created_at=NOW - timedelta(hours=2)))
    with Session(engine) as session:
        assert queries.mail_counts(session, SEKDES, NOW - timedelta(hours=1),
                                   NOW - timedelta(days=1)) == (0, 1)
