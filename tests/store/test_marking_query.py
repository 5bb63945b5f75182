"""Every poll asks which taken records are not marked yet: that question reads only those.

Before revision 0013 the only index the query could use was (mailbox, uidvalidity, uid), so
each poll, idle or not, read every record the mailbox ever had (19 ms over 200,000 on SQLite),
including those never to be marked, which stay unmarked for good.
The test reads the plan of the very statement `queries.unmarked_intake` sends (real SQLite and
PostgreSQL) and the answer it gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from mailflow.store import queries
from mailflow.store.db import Session, make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.plans import asked
from tests.harness.plans import plan as statement_plan
from tests.harness.postgres import store_url

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
BOX = "pengaduan@desa.test@127.0.0.1/INBOX"


def _records(engine: Engine) -> None:
    """3,000 taken and marked; five taken and not yet marked; between them 3,000 that are
    never marked (recorded before the first start, ignored), which stay unmarked for good."""
    rows: list[dict[str, Any]] = []
    never = (IntakeOutcome.BEFORE_START, IntakeOutcome.IGNORED)
    for uid in range(1, 6001):
        taken = uid % 2 == 0
        unmarked_taken = uid % 1200 == 0
        rows.append({"mailbox": BOX, "uidvalidity": 7, "uid": uid, "message_key": f"mid:<{uid}@w>",
                     "decision": IntakeOutcome.TICKET if taken else never[uid % 4 == 1],
                     "marked": taken and not unmarked_taken, "created_at": NOW})
    with transaction(engine) as session:
        session.execute(insert(IntakeRecord), rows)


def test_the_unmarked_question_reads_only_the_unmarked_records(tmp_path: Path) -> None:
    engine = make_engine(store_url(tmp_path))
    prepare(engine)
    try:
        _records(engine)
        page, statement, parameters = asked(
            engine, lambda session: queries.unmarked_intake(session, BOX, 7), "FROM intake")
        assert [uid for uid, _ in page] == [1200, 2400, 3600, 4800, 6000]
        with Session(engine) as session:  # a later page, of two
            page = queries.unmarked_intake(session, BOX, 7, after_uid=2400, limit=2)
        assert [uid for uid, _ in page] == [3600, 4800]
        plan = statement_plan(engine, statement, parameters, "intake")
        # Each seek goes by the outcome too, so the unmarked records of other outcomes are
        # never read; the unique (mailbox, uidvalidity, uid) index is not used.
        if engine.dialect.name == "sqlite":
            seek = "(mailbox=? AND uidvalidity=? AND marked=? AND decision=? AND uid>?)"
            assert f"ix_intake_unmarked {seek}" in plan, plan
            assert "autoindex" not in plan, plan
        else:
            assert "ix_intake_unmarked" in plan and "decision" in plan, plan
            assert "intake_mailbox_uidvalidity_uid_key" not in plan, plan
    finally:
        engine.dispose()
