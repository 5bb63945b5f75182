"""A claim takes one page of due rows, and a second instance's claim the next page: on both
databases (MAILFLOW_TEST_DB). On PostgreSQL a page chosen by a subquery in the UPDATE's WHERE
once claimed every due row (the subquery ran again per row, each run locking the next rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailflow.store.db import Engine, make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.store.outbox_queries import OutboxStore
from mailflow.vocabulary import OutboxKind
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def _due_rows(tmp_path: Path, count: int) -> Engine:
    """A new database with `count` pending rows, all due at NOW (ids 1..count)."""
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    with transaction(engine) as session:
        for n in range(count):
            session.add(OutboxMessage(kind=OutboxKind.STAFF_NOTE, message_id=f"<{n}@klero>",
                                      recipient="admin@klero.desa.id", raw=b"x",
                                      next_attempt_at=NOW, created_at=NOW))
    return engine


def test_two_instances_claim_one_page_each(tmp_path: Path) -> None:
    engine = _due_rows(tmp_path, 30)
    until = NOW + timedelta(minutes=5)
    with OutboxStore.connect(engine) as first, OutboxStore.connect(engine) as second:
        mine = [row.id for row in first.claim(owner="a:1:x", now=NOW, until=until, limit=10)]
        theirs = [row.id for row in second.claim(owner="b:2:y", now=NOW, until=until, limit=10)]
        assert mine == list(range(1, 11))
        assert theirs == list(range(11, 21))
        # A live claim is nobody else's: the third page is all that is left for anyone.
        rest = [row.id for row in second.claim(owner="c:3:z", now=NOW, until=until, limit=50)]
        assert rest == list(range(21, 31))
    engine.dispose()


def test_a_claim_left_behind_by_a_failed_pass_is_taken_again_by_its_own_next_pass(
        tmp_path: Path) -> None:
    """Found by the crash harness on PostgreSQL: a pass ended with the database gone could not
    give its page back, and its own next passes skipped those live claims for 330 s."""
    engine = _due_rows(tmp_path, 3)
    until = NOW + timedelta(minutes=5)
    with OutboxStore.connect(engine) as store:
        assert len(store.claim(owner="a:1:x", now=NOW, until=until, limit=10)) == 3
        # No release: the pass died. A second later, another instance still may not take them...
        later = NOW + timedelta(seconds=1)
        assert store.claim(owner="b:2:y", now=later, until=until, limit=10) == []
        # ... and the claimer's own next pass takes them again.
        again = store.claim(owner="a:1:x", now=later, until=until, limit=10)
        assert [row.id for row in again] == [1, 2, 3]
    engine.dispose()
