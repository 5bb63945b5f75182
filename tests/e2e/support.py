"""Building blocks for end-to-end tests: the test village (from tests.harness), and reading
the database back for assertions."""

from __future__ import annotations

from typing import Any

import pytest
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
    "SITI_SECRETS", "STAFF", "FixedClock", "complaint", "config_for", "fail_on_marker",
    "intake_only", "intake_records", "outbox", "reporters", "rows", "tickets",
]

#: A complaint whose text holds this fails inside the intake (`fail_on_marker`).
FAIL_MARKER = "MEMICU-GALAT"


def intake_only(cfg: Config) -> Any:
    """One intake pass and nothing else: the outbox would address the senders."""
    from mailflow.service import Service

    service = Service(cfg)
    try:
        return service.intake.run(service.source)
    finally:
        service.engine.dispose()


def fail_on_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the middle of taking a complaint that holds FAIL_MARKER: the crash barrier's
    case (reading the identity raises, after the ticket's number and rows were begun)."""
    import mailflow.core.new_ticket

    real = mailflow.core.new_ticket.extract_identity

    def explode_on_marker(text: str) -> Any:
        if FAIL_MARKER in text:
            raise RuntimeError("simulated bug")
        return real(text)

    monkeypatch.setattr(mailflow.core.new_ticket, "extract_identity", explode_on_marker)

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


