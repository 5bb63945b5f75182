"""`mailflow trace`'s query on real SQLite: filters combine, old rows are found by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailflow.store import trace
from mailflow.store.db import Session, make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.postgres import store_url

DAY = datetime(2026, 11, 26, 17, tzinfo=UTC)  # Friday 27 November, 00:00 in WIB
NEXT = DAY + timedelta(days=1)


def test_filters_combine_and_old_records_are_found_by_day_in_one_mailbox(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        common = {"mailbox": "m", "uidvalidity": 1, "decision": IntakeOutcome.IGNORED}
        session.add(IntakeRecord(uid=1, message_key="a", message_id="<A@x>", sender_digest="s1",
                                 received_at=DAY + timedelta(hours=1), created_at=NEXT, **common))
        session.add(IntakeRecord(uid=2, message_key="b", message_id="<b@x>", sender_digest="s2",
                                 received_at=DAY - timedelta(minutes=1), created_at=DAY,
                                 **common))
        # Written before revision 0006: no arrival, Message-ID or sender; placed by created_at.
        session.add(IntakeRecord(uid=3, message_key="c", created_at=DAY + timedelta(hours=2),
                                 **common))
        trace.add_skipped(session, [
            {"mailbox": "m", "uidvalidity": 1, "uid": 4, "reason": "subject does not match",
             "message_id": "<d@x>", "received_at": DAY + timedelta(hours=3),
             "sender_digest": "s1", "created_at": NEXT}])
        # Another village's mailbox in the same database: never traced from mailbox "m".
        session.add(IntakeRecord(uid=9, message_key="z", message_id="<a@x>", sender_digest="s1",
                                 received_at=DAY + timedelta(hours=1), created_at=NEXT,
                                 **{**common, "mailbox": "other"}))
        trace.add_skipped(session, [
            {"mailbox": "other", "uidvalidity": 1, "uid": 10, "reason": "subject does not match",
             "message_id": "<a@x>", "received_at": DAY + timedelta(hours=3),
             "sender_digest": "s1", "created_at": NEXT}])

    def uids(**filters: object) -> list[int]:
        with Session(engine) as session:
            records, skipped = trace.traced_messages(session, "m", **filters)  # type: ignore[arg-type]
        return sorted([r.uid for r, _ in records] + [s.uid for s in skipped])

    assert uids(since=DAY, until=NEXT) == [1, 3, 4]  # uid 2 arrived the evening before
    assert uids(sender_digest="s1") == [1, 4]
    assert uids(sender_digest="s1", since=DAY, until=NEXT) == [1, 4]
    assert uids(message_id="<a@X>") == [1]  # Message-IDs compared without regard to case
    assert uids(sender_digest="s2", since=DAY, until=NEXT) == []
    engine.dispose()
