"""Mail of two villages in one database: each refused login is its own episode, and each
village's outbox, parked mail and alerts are its own (real database, real composer)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from mailflow.compose.mime import composer_for
from mailflow.config import Config, parse_configs
from mailflow.runners.login_alerts import LoginAlerts
from mailflow.runners.outbox import retry_parked
from mailflow.store.db import Engine, make_engine, transaction
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.store.outbox_queries import parked_with_numbers
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.harness.postgres import store_url

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _villages(tmp_path: Path) -> tuple[Config, Config, Engine]:
    url = store_url(tmp_path)
    shared = {
        "village": {"name": "Kabupaten Semarang"},
        "imap": {"host": "127.0.0.1", "password": "x", "security": "plain", "username": "x"},
        "smtp": {"host": "127.0.0.1", "from_address": "pengaduan@semarangkab.go.id",
                 "security": "plain"},
        "commands": {"admin_address": "admin@semarangkab.go.id"},
        "staff": [{"email": "camat@semarangkab.go.id", "name": "Camat", "roles": ["verifikator"]}],
        "database": {"url": url},
        "mailboxes": [{"name": name, "imap": {"username": name}, "tickets": {"prefix": prefix}}
                      for name, prefix in (("klero", "KLR"), ("tegal", "TGL"))],
    }
    klero, tegal = parse_configs(shared)
    engine = make_engine(url)
    prepare(engine)
    return klero, tegal, engine


def test_each_villages_refused_login_is_its_own_episode_and_mail(tmp_path: Path) -> None:
    klero, tegal, engine = _villages(tmp_path)
    try:
        alerts = {cfg.name: LoginAlerts(cfg, engine, composer_for(cfg)) for cfg in (klero, tegal)}
        assert alerts["klero"].refused("imap", NOW)
        assert alerts["tegal"].refused("imap", NOW)  # not hidden by Klero's open episode
        assert not alerts["klero"].refused("imap", NOW)  # the same episode: no second mail
        with Session(engine) as session:
            mail = session.exec(select(OutboxMessage)).all()
        assert sorted((row.kind, row.scope) for row in mail) == [
            (OutboxKind.STAFF_NOTE, "KLR"), (OutboxKind.STAFF_NOTE, "TGL")]
    finally:
        engine.dispose()


def test_parked_mail_is_listed_and_put_back_per_village(tmp_path: Path) -> None:
    _, _, engine = _villages(tmp_path)
    try:
        with transaction(engine) as session:
            for n, scope in enumerate(("KLR", "TGL", None)):
                session.add(OutboxMessage(kind=OutboxKind.ACK, message_id=f"<{n}@desa>",
                                          recipient="warga@warga.example", raw=b"x",
                                          state=OutboxState.PARKED, next_attempt_at=NOW,
                                          created_at=NOW, scope=scope))
        with Session(engine) as session:
            listed = [row.message_id for row, _ in parked_with_numbers(session, "KLR")]
        assert listed == ["<0@desa>", "<2@desa>"]  # its own, and the one of no village
        assert retry_parked(engine, NOW, "TGL") == 2
        with Session(engine) as session:
            still = session.exec(select(OutboxMessage.message_id).where(
                OutboxMessage.state == OutboxState.PARKED)).all()
        assert still == ["<0@desa>"]
    finally:
        engine.dispose()
