"""Building blocks for end-to-end tests: the test village (from tests.harness), and reading
the database back for assertions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mailflow.adapters.clock import FixedClock
from mailflow.config import Config
from mailflow.store.models import IntakeRecord, OutboxMessage, Reporter, Ticket
from tests.harness.village import (
    ADMIN,
    BUDI,
    COMPLETE_BODY,
    INBOX,
    KADES,
    KASI,
    SECRET,
    SEKDES,
    SITI,
    STAFF,
    complaint,
    config_for,
)

# Re-exported so that a test imports everything it builds its scenes from in one place.
__all__ = [
    "ADMIN", "BUDI", "COMPLETE_BODY", "INBOX", "KADES", "KASI", "SECRET", "SEKDES", "SITI",
    "SITI_SECRETS", "STAFF", "FixedClock", "complaint", "config_for", "intake_records", "outbox",
    "reporters", "rows", "tickets",
]

SITI_SECRETS = ("Siti Aminah", "3322114506890002", "Krajan RT 02", "0812-3456-7890",
                "81234567890", SITI)


def tickets(cfg: Config) -> list[Ticket]:
    from mailflow.store.db import make_engine

    with Session(make_engine(cfg.database_url)) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)).all())  # type: ignore[arg-type]


def rows(cfg: Config, model: type[Any]) -> list[Any]:
    from mailflow.store.db import make_engine

    with Session(make_engine(cfg.database_url)) as session:
        return list(session.exec(select(model)).all())


def intake_records(cfg: Config) -> list[IntakeRecord]:
    return rows(cfg, IntakeRecord)


def outbox(cfg: Config) -> list[OutboxMessage]:
    return rows(cfg, OutboxMessage)


def reporters(cfg: Config) -> list[Reporter]:
    return rows(cfg, Reporter)


