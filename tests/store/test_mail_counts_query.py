"""The per-address limits, and the coalesced mail, read only the asked address's rows.

Each intake group asks how much mail its senders got in the last hour and day
(`intake_queries.mail_counts_many`; `mail_counts` for one address). Before revision 0014
there was no index on the recipient, so each question read every outbox row the day
created, for anyone: on SQLite 17 us an address over 2,000 rows, 180 us over 40,000. The
test reads the plan of the very statements sent (real SQLite and PostgreSQL) and the
answers they give.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from mailflow.store import intake_queries, queries
from mailflow.store.db import make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind
from tests.harness.plans import asked, plan
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
HOUR, DAY = NOW - timedelta(hours=1), NOW - timedelta(days=1)
WARGA = "Warga.Klero@Example.id"


def _rows(engine: Engine) -> None:
    """3,000 rows of the day for other people; for WARGA (written in mixed case): two in
    the hour, one earlier in the day, one two days old, and one receipt, which is not counted."""
    def row(n: int, recipient: str, at: datetime, kind: OutboxKind = OutboxKind.ACK
            ) -> dict[str, Any]:
        return intake_queries.outbox_row(kind=kind, recipient=recipient, raw=b"x",
                                         message_id=f"<{n}@desa.id>", next_attempt_at=at,
                                         created_at=at, scope=None)

    rows = [row(n, f"warga{n}@example.id", NOW - timedelta(seconds=n)) for n in range(3000)]
    rows += [row(3001, WARGA, NOW - timedelta(minutes=5)),
             row(3002, WARGA.lower(), NOW - timedelta(minutes=50)),
             row(3003, WARGA.upper(), NOW - timedelta(hours=5)),
             row(3004, WARGA, NOW - timedelta(days=2)),
             row(3005, WARGA, NOW - timedelta(minutes=1), OutboxKind.RECEIPT)]
    with transaction(engine) as session:
        session.execute(insert(OutboxMessage), rows)


def _seeks_by_recipient(engine: Engine, plan: str) -> None:
    if engine.dialect.name == "sqlite":
        assert "ix_outbox_recipient_day (<expr>=? AND created_at>?)" in plan, plan
    else:
        assert "ix_outbox_recipient_day" in plan and "Seq Scan" not in plan, plan


def test_one_address_is_counted_from_its_own_rows(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    try:
        _rows(engine)
        counts, statement, parameters = asked(engine, lambda s: intake_queries.mail_counts(
            s, WARGA.lower(), HOUR, DAY, None), "FROM outbox")
        assert counts == (2, 3)
        _seeks_by_recipient(engine, plan(engine, statement, parameters, "outbox"))
    finally:
        engine.dispose()


def test_a_group_s_addresses_are_counted_from_their_own_rows(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    try:
        _rows(engine)
        addresses = [WARGA, "baru@example.id", "warga7@example.id"]
        counts, statement, parameters = asked(engine, lambda s: intake_queries.mail_counts_many(
            s, addresses, HOUR, DAY, "KLR"), "FROM outbox")
        assert counts == {WARGA.lower(): (2, 3), "baru@example.id": (0, 0),
                          "warga7@example.id": (1, 1)}
        _seeks_by_recipient(engine, plan(engine, statement, parameters, "outbox"))
    finally:
        engine.dispose()


def test_the_newest_coalesced_row_is_read_from_the_end_of_its_key(tmp_path: Path) -> None:
    """`last_with_topic` (each security alert, each verifier's limit notice) asks for one
    address's newest row of a topic. With only the recipient's index SQLite took every row
    ever sent to the address (a verifier's, one per ticket) and sorted them: 37 ms over
    100,000 tickets."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    sekdes = "Sekdes@Klero.desa.id"
    rows = [intake_queries.outbox_row(kind=OutboxKind.NOTIFY, recipient=sekdes, raw=b"x",
                                      message_id=f"<n{n}@desa.id>", created_at=NOW,
                                      next_attempt_at=NOW, scope="KLR") for n in range(3000)]
    for n, (topic, scope) in enumerate([("security-alert", "KLR"), ("security-alert", "KLR"),
                                        ("security-alert", "TGL"), ("limit:x", "KLR")]):
        rows.insert(1000 * n, intake_queries.outbox_row(
            kind=OutboxKind.STAFF_NOTE, recipient=sekdes.lower(), raw=b"x", topic=topic,
            message_id=f"<t{n}@desa.id>", created_at=NOW, next_attempt_at=NOW, scope=scope))
    with transaction(engine) as session:
        session.execute(insert(OutboxMessage), rows)
    try:
        found, statement, parameters = asked(engine, lambda s: queries.last_with_topic(
            s, "security-alert", sekdes, "KLR"), "FROM outbox")
        assert found is not None and found.message_id == "<t1@desa.id>"
        shown = plan(engine, statement, parameters, "outbox")
        if engine.dialect.name == "sqlite":
            assert "USING INDEX ix_outbox_topic_recipient (topic=? AND <expr>=?)" in shown, shown
            assert "TEMP B-TREE" not in shown, shown
        else:
            assert "ix_outbox_topic_recipient" in shown and "Seq Scan" not in shown, shown
    finally:
        engine.dispose()
