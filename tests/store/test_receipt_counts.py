"""Staff receipts do not use up the per-address mail allowance their notifications need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from mailflow.store import intake_queries
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
        assert intake_queries.mail_counts(session, SEKDES, NOW - timedelta(hours=1),
                                          NOW - timedelta(days=1), "ADU") == (0, 1)


def test_each_village_counts_only_its_own_mail_to_a_shared_officer(tmp_path: Path) -> None:
    """A regency's officer who is staff of many villages gets each village's allowance."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        for n, scope in enumerate(["KLR"] * 3 + ["TGL"] * 2 + [None]):
            session.add(OutboxMessage(kind=OutboxKind.NOTIFY, recipient=SEKDES, raw=b"x",
                                      message_id=f"<v{n}@desa.id>", next_attempt_at=NOW,
                                      created_at=NOW - timedelta(minutes=n), scope=scope))
    hour, day = NOW - timedelta(hours=1), NOW - timedelta(days=1)
    with Session(engine) as session:
        # Rows of no village (written before migration 0012) count for every village.
        assert intake_queries.mail_counts(session, SEKDES, hour, day, "KLR") == (4, 4)
        assert intake_queries.mail_counts(session, SEKDES, hour, day, "TGL") == (3, 3)
        assert intake_queries.mail_counts_many(session, [SEKDES], hour, day, "TGL") == {
            SEKDES: (3, 3)}
    engine.dispose()
