"""The first start's boundary as the store keeps it (real SQLite): first sight, a second mailbox
key, and a database from before the boundary was recorded (revision 0005)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from mailflow.core.first_start import before_start, skipped
from mailflow.runners.first_start import backlog_due, boundary_of, first_sight
from mailflow.store import migrate
from mailflow.store.db import make_engine, transaction
from mailflow.store.models import MailboxState
from tests.harness.postgres import store_url

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "db-v0.1.0.sqlite3"
NOW = datetime(2026, 11, 29, 5, 0, 0, 700000, tzinfo=UTC)
WIB = ZoneInfo("Asia/Jakarta")
INBOX = "pengaduan@klero.desa.id@127.0.0.1/INBOX"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(store_url(tmp_path, "mailflow.sqlite3"))
    migrate.prepare(made)
    yield made
    made.dispose()


def _state(engine: Engine, mailbox: str) -> MailboxState:
    with Session(engine) as session:
        found = session.exec(select(MailboxState).where(MailboxState.mailbox == mailbox)).one()
        session.expunge(found)
        return found


def test_first_sight_records_uidnext_and_the_moment_in_whole_seconds(engine: Engine) -> None:
    with transaction(engine) as session:
        first_sight(session, INBOX, 77, 16, None, NOW)
    state = _state(engine, INBOX)
    assert (state.uidvalidity, state.first_uid, state.last_uid) == (77, 16, 0)
    assert state.first_seen_at == NOW.replace(microsecond=0)
    assert state.backlog_since is None
    boundary = boundary_of(state, None, WIB)
    assert before_start(boundary, 15, NOW + timedelta(days=1))
    assert not before_start(boundary, 16, NOW - timedelta(days=1))


def test_take_since_at_first_sight_needs_no_second_look(engine: Engine) -> None:
    """The first pass itself reads every old message, so the backlog is already looked at."""
    with transaction(engine) as session:
        first_sight(session, INBOX, 77, 16, date(2026, 8, 1), NOW)
    state = _state(engine, INBOX)
    assert state.backlog_since == date(2026, 8, 1)
    assert not backlog_due(state, date(2026, 8, 1))
    assert not backlog_due(state, date(2026, 9, 1))
    assert backlog_due(state, date(2026, 7, 1))  # an earlier day: look again


def test_a_second_mailbox_key_is_not_a_first_start(engine: Engine) -> None:
    """The folder renamed in the configuration: mail in it from before the installation's
    first start stays old, mail since then is taken (duplicates are known by Message-ID)."""
    with transaction(engine) as session:
        first_sight(session, INBOX, 77, 16, None, NOW)
    later = NOW + timedelta(days=30)
    with transaction(engine) as session:
        first_sight(session, "pengaduan@klero.desa.id@127.0.0.1/Pengaduan", 91, 5, None, later)
    state = _state(engine, "pengaduan@klero.desa.id@127.0.0.1/Pengaduan")
    assert state.first_uid is None  # its UIDs say nothing about when mailflow began
    assert state.first_seen_at == NOW.replace(microsecond=0)
    boundary = boundary_of(state, None, WIB)
    assert skipped(boundary, 1, NOW - timedelta(days=1))
    assert not skipped(boundary, 1, NOW + timedelta(days=1))


def test_a_regencys_villages_first_seen_together_are_one_first_start(
        engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A new regency's file: its villages are first seen one after another in the first
    minutes. That is mailflow's first start, said at INFO; a key added a month later is a
    change the administrator made, and a WARNING says what it means for its old mail."""
    caplog.set_level(logging.INFO, logger="mailflow.runners.first_start")
    with transaction(engine) as session:
        first_sight(session, INBOX, 77, 16, None, NOW)
    with transaction(engine) as session:
        first_sight(session, "pengaduan@tegal.desa.id@127.0.0.1/INBOX", 12, 3, None,
                    NOW + timedelta(seconds=40))
    with transaction(engine) as session:
        first_sight(session, "pengaduan@suruh.desa.id@127.0.0.1/INBOX", 5, 9, None,
                    NOW + timedelta(days=30))
    said = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert said == [
        ("INFO", f"mailbox first seen mailbox={INBOX} uidvalidity=77"),
        ("INFO", "mailbox first seen, with the others of mailflow's first start, "
                 "pengaduan@tegal.desa.id@127.0.0.1/INBOX"),
        ("WARNING", "a new mailbox key beside the ones served before "
                    "pengaduan@suruh.desa.id@127.0.0.1/INBOX")]


@pytest.mark.usefixtures("sqlite_only")  # the 0.1.0 fixture is a SQLite file
def test_a_database_from_before_revision_0005_takes_its_mailbox_as_before(tmp_path: Path) -> None:
    path = tmp_path / "mailflow.sqlite3"
    shutil.copyfile(FIXTURE, path)
    migrate.upgrade(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    try:
        state = _state(engine, INBOX)
        assert (state.last_uid, state.first_uid, state.first_seen_at) == (107, None, None)
        boundary = boundary_of(state, date(2026, 8, 1), WIB)
        assert not before_start(boundary, 1, datetime(2020, 1, 1, tzinfo=UTC))
        assert not backlog_due(state, date(2026, 8, 1))  # nothing was left behind to take
        # A second key beside it: the installation's start is unknown, so "now" is the line.
        with transaction(engine) as session:
            first_sight(session, "desa@other/INBOX", 5, 9, None, NOW)
        other = _state(engine, "desa@other/INBOX")
        assert (other.first_uid, other.first_seen_at) == (None, NOW.replace(microsecond=0))
    finally:
        engine.dispose()
