"""PostgreSQL itself: the migrations from empty, the upgrade lock, and which errors are the
server's fault. Run whenever PostgreSQL's server is installed (a private cluster,
tests/harness/postgres.py), whatever MAILFLOW_TEST_DB says."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, select

from mailflow.core.lease import LeaseRules
from mailflow.errors import ConfigError, StorageUnavailable
from mailflow.store import migrate
from mailflow.store.db import Engine, IntegrityError, make_engine, storage_failure, transaction
from mailflow.store.lease import Lease, install_fence
from mailflow.store.models import IntakeRecord, JobRun, MailboxState, OutboxMessage
from mailflow.vocabulary import IntakeOutcome, OutboxKind
from tests.harness.postgres import PostgresCluster

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    if postgres_cluster.pid is not None:
        postgres_cluster.drop_database(name)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def test_plain_postgresql_urls_use_psycopg_3(pg_url: str) -> None:
    engine = make_engine(pg_url)
    assert engine.dialect.name == "postgresql"
    assert engine.dialect.driver == "psycopg"
    with pytest.raises(ConfigError, match=r"\[database\] url"):
        make_engine("mysql://mailflow@127.0.0.1/mailflow")
    with pytest.raises(ConfigError, match=r"\[database\] url"):
        make_engine("postgresql+psycopg2://mailflow@127.0.0.1/mailflow")


def test_an_empty_database_is_migrated_to_head(pg_engine: Engine) -> None:
    assert migrate.status(pg_engine).kind == "empty"
    migrate.prepare(pg_engine)
    assert migrate.current(pg_engine) == migrate.head()
    tables = set(inspect(pg_engine).get_table_names())
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    migrate.prepare(pg_engine)  # at head: a second start changes nothing
    assert migrate.status(pg_engine).kind == "head"


def test_head_matches_the_models_on_postgresql(pg_engine: Engine) -> None:
    """The revisions make on PostgreSQL exactly what the models describe."""
    migrate.prepare(pg_engine)
    with pg_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_two_upgrades_at_once_run_one_after_the_other(pg_url: str) -> None:
    """Two instances starting together: the advisory lock makes the second wait, then find
    the database at head, instead of both creating the tables."""
    start = threading.Barrier(2)
    results: list[object] = []

    def upgrade() -> None:
        start.wait()
        try:
            results.append(migrate.upgrade(pg_url))
        except Exception as exc:  # reported below  # noqa: BLE001
            results.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2, "an upgrade hung (deadlocked on the other's tables)"
    assert all(isinstance(r, migrate.Upgrade) for r in results), results
    done = [r for r in results if isinstance(r, migrate.Upgrade)]
    assert sorted(u.changed for u in done) == [False, True]
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (migrate.head(),)]
    engine.dispose()


def test_times_come_back_as_the_same_instant_whatever_the_session_time_zone(
        pg_engine: Engine) -> None:
    migrate.prepare(pg_engine)
    jakarta = timezone(timedelta(hours=7))
    with transaction(pg_engine) as session:
        session.connection().execute(text("SET TIME ZONE 'America/New_York'"))
        session.add(JobRun(job="tz", run_key="k", done_at=NOW.astimezone(jakarta)))
    with pg_engine.connect() as conn:
        stored = conn.execute(text("SELECT done_at AT TIME ZONE 'UTC' FROM job_run")).scalar_one()
    assert stored == NOW.replace(tzinfo=None)
    with transaction(pg_engine) as session:
        found = session.exec(select(JobRun)).one()
    assert found.done_at == NOW and found.done_at.tzinfo is not None


def test_a_unique_violation_is_the_messages_fault(pg_engine: Engine) -> None:
    migrate.prepare(pg_engine)
    with transaction(pg_engine) as session:
        session.add(JobRun(job="digest", run_key="2026-11-27", done_at=NOW))
    with pytest.raises(IntegrityError) as caught, transaction(pg_engine) as session:
        session.add(JobRun(job="digest", run_key="2026-11-27", done_at=NOW))
    assert not storage_failure(caught.value)


def test_a_killed_server_is_a_storage_failure_and_a_restarted_one_is_used_again(
        postgres_cluster: PostgresCluster, pg_engine: Engine) -> None:
    migrate.prepare(pg_engine)
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
        postgres_cluster.kill()
        try:
            with pytest.raises(DBAPIError) as caught:
                conn.execute(text("SELECT count(*) FROM job_run"))
            assert storage_failure(caught.value)
            with pytest.raises(StorageUnavailable, match=r"(cannot reach|lost) the database"):
                migrate.status(pg_engine)
        finally:
            postgres_cluster.start()
    # The pool's pre-ping replaces the dead connections: the service carries on.
    with transaction(pg_engine) as session:
        session.add(JobRun(job="after", run_key="restart", done_at=NOW))
    assert migrate.status(pg_engine).kind == "head"


def test_a_start_that_sees_another_instance_mid_creation_waits_for_it(
        pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the crash harness: three instances starting on an empty database. One look
    without the lock (several reads, each of the latest commit) can see the creator's tables
    but not yet its revision, which once stopped the instance as "made before migrations".
    prepare decides again under the schema lock, where the creator has finished."""
    migrate.prepare(pg_engine)  # the other instance, done by the time the lock is ours
    real_status = migrate.status
    looks: list[str] = []

    def mid_creation(engine: Engine) -> migrate.Status:
        found = real_status(engine)
        looks.append(found.kind)
        return found if len(looks) > 1 else migrate.Status(**{**vars(found),
                                                                "kind": "unversioned"})

    monkeypatch.setattr(migrate, "status", mid_creation)
    migrate.prepare(pg_engine)  # no SchemaError
    assert looks == ["head"]  # the unlocked look only; the locked one reads in its transaction
    assert real_status(pg_engine).kind == "head"


def test_imap_numbers_past_2_to_the_31_are_kept(pg_engine: Engine) -> None:
    """UIDVALIDITY and UIDs are unsigned 32-bit (RFC 9051): PostgreSQL's INTEGER is too small."""
    migrate.prepare(pg_engine)
    largest = 2**32 - 1
    with transaction(pg_engine) as session:
        session.add(MailboxState(mailbox="m", uidvalidity=largest, last_uid=largest,
                                 first_uid=largest))
        session.add(IntakeRecord(mailbox="m", uidvalidity=largest, uid=largest, message_key="k",
                                 decision=IntakeOutcome.IGNORED, created_at=NOW))
    with transaction(pg_engine) as session:
        state = session.exec(select(MailboxState)).one()
        record = session.exec(select(IntakeRecord)).one()
    assert (state.uidvalidity, state.last_uid, state.first_uid) == (largest,) * 3
    assert (record.uidvalidity, record.uid) == (largest, largest)


def test_a_restarted_server_leaves_the_lease_and_its_fence_usable(
        postgres_cluster: PostgresCluster, pg_engine: Engine) -> None:
    """Found by the crash harness: after a restart, a daemon's every lease renewal failed for
    good ("Can't reconnect until invalid transaction is rolled back"): the fence's rollback
    hook read the invalidated connection's info, which broke the rollback itself."""
    migrate.prepare(pg_engine)
    lease = Lease(pg_engine, "box@host/INBOX", "me:1:a", LeaseRules(15, 5))
    install_fence(pg_engine, {lease.mailbox: lease}, lambda: NOW)
    assert lease.take(NOW).held
    # A connection in a transaction when the server dies, as the lease's own renewal uses.
    with pytest.raises(DBAPIError), pg_engine.begin() as conn:
        conn.execute(text("SELECT 1"))
        postgres_cluster.kill()
        try:
            conn.execute(text("SELECT 1"))
        finally:
            postgres_cluster.start()
    assert lease.take(NOW + timedelta(seconds=1)).held  # renewed on a fresh connection
    with transaction(pg_engine) as session:
        session.add(JobRun(job="after", run_key="restart-fenced", done_at=NOW))


def test_the_outbox_next_due_time_is_unknown_not_an_error_while_the_server_is_down(
        postgres_cluster: PostgresCluster, pg_engine: Engine) -> None:
    """Found by the crash harness: asked between passes while PostgreSQL restarted, the
    query raised out of the daemon's loop (exit 1). It is "unknown" now; the next poll
    reports the outage."""
    from mailflow.adapters.smtp import SmtpSender
    from mailflow.runners.outbox import Outbox
    from tests.unit.plan_support import config

    migrate.prepare(pg_engine)
    outbox = Outbox(pg_engine, SmtpSender(config().smtp), config().outbox, scope="ADU")
    assert outbox.next_due() is None  # nothing pending
    with transaction(pg_engine) as session:
        session.add(OutboxMessage(kind=OutboxKind.ACK, message_id="<a@desa>", raw=b"x",
                                  recipient="warga@warga.example", next_attempt_at=NOW,
                                  created_at=NOW, scope="ADU"))
    assert outbox.next_due() == NOW
    postgres_cluster.kill()
    try:
        assert outbox.next_due() is None
    finally:
        postgres_cluster.start()
    assert outbox.next_due() == NOW


def test_a_failed_rollback_does_not_hide_the_error_that_ended_the_transaction(
        postgres_cluster: PostgresCluster, pg_engine: Engine) -> None:
    """Found by the crash harness: when the server died inside a transaction, the rollback
    failed too, and its error replaced the one that ended the transaction (a storage failure,
    which the daemon waits out, became an unexpected one)."""
    migrate.prepare(pg_engine)

    class Ended(Exception):
        pass

    with pytest.raises(Ended), transaction(pg_engine) as session:
        session.exec(select(JobRun)).all()  # the transaction holds a connection
        postgres_cluster.kill()
        try:
            raise Ended("the error that ended it")
        finally:
            postgres_cluster.start()


def test_a_database_another_instance_creates_between_two_looks_is_never_made_before_migrations(
        pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen as a rare exit 78 when instances started at once on an empty database: the look
    read the revision (none yet), the other instance committed, the look read the tables (all
    there): "made by mailflow 0.1.0, before schema migrations". Here the other instance's
    commit is put exactly between the look's two reads, whichever comes first."""
    creator = pg_engine.connect()
    creation = creator.begin()
    SQLModel.metadata.create_all(creator)
    creator.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
    creator.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": migrate.head()})
    committed: list[str] = []

    def then_commit(read: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            found = read(*args, **kwargs)
            if not committed:
                creation.commit()
                committed.append(read.__name__)
            return found
        return wrapped

    monkeypatch.setattr(migrate, "_revision", then_commit(migrate._revision))
    monkeypatch.setattr(migrate, "inspect", then_commit(migrate.inspect))
    monkeypatch.setattr(migrate, "_status_at_head", lambda _conn, _where: None)  # the full look
    try:
        found = migrate.status(pg_engine)
    finally:
        creator.close()
    assert committed, "the other instance's commit did not happen between the reads"
    assert found.runnable, found.problem()


def test_a_poll_while_the_database_is_down_is_one_line_not_a_failure(
        postgres_cluster: PostgresCluster, pg_url: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """Found by the crash harness: the jobs and the outbox of a poll that met a restarting
    database ended the poll as "poll failed unexpectedly", with a traceback per outage."""
    from mailflow.service import Service
    from tests.unit.plan_support import config

    service = Service(config(database={"url": pg_url}, storage={"directory": str(tmp_path)}))
    try:
        postgres_cluster.kill()
        try:
            result = service.poll_once(intake=False, wait=0)
        finally:
            postgres_cluster.start()
    finally:
        service.engine.dispose()
    assert result.storage_error, result
    assert "database unavailable, the jobs and the outbox wait for the next poll" in caplog.text


def test_a_job_that_meets_a_dead_server_is_an_outage_and_runs_after_it(
        postgres_cluster: PostgresCluster, pg_engine: Engine,
        caplog: pytest.LogCaptureFixture) -> None:
    """Found by the crash harness: a clock job whose run met a restarting database was logged
    as that job's bug ("job run failed" and two tracebacks), once per job and outage."""
    from mailflow.runners.schedule import Schedule

    migrate.prepare(pg_engine)

    class KillsTheServer:
        name = "kills-the-server"
        kill = True

        def due(self, now: datetime) -> list[str]:
            return ["once"]

        def run(self, session: Session, key: str, now: datetime) -> str:
            if self.kill:
                postgres_cluster.kill()
            session.exec(select(JobRun)).all()
            return "ran"

    job = KillsTheServer()
    try:
        with pytest.raises(StorageUnavailable):
            Schedule(pg_engine, [job]).run_due(NOW)
    finally:
        postgres_cluster.start()
    assert "job run failed" not in caplog.text
    job.kill = False
    assert Schedule(pg_engine, [job]).run_due(NOW).ran == ["kills-the-server:once"]
