"""A stop (the daemon's SIGTERM) ends a poll between two messages: the one in hand is finished,
the others wait for the next start, and none is lost or taken twice.

In-process, with a `stop_requested` that says "stop" at a chosen question, so the moment of
the stop is exact; tests/e2e/test_daemon.py sends the real signal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailflow.service import Service
from tests.e2e.support import (
    BUDI,
    COMPLETE_BODY,
    INBOX,
    SITI,
    complaint,
    config_for,
    outbox,
    tickets,
)


def _stop_after(calls: int) -> Callable[[], bool]:
    """A stop_requested that says "stop" from its (calls + 1)-th question on."""
    asked: list[int] = []

    def stop_requested() -> bool:
        asked.append(1)
        return len(asked) > calls

    return stop_requested


def test_a_stop_ends_intake_after_the_message_in_hand(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    for place in ("balai dusun", "masjid", "sekolah"):  # three complaints, not one repeated
        mail_world.deliver(INBOX, complaint(body=COMPLETE_BODY.replace("balai dusun", place)))
    stopping = Service(cfg, stop_requested=_stop_after(1))
    result = stopping.poll_once()
    stopping.engine.dispose()

    assert result.intake is not None and result.intake.examined == 1
    assert len(tickets(cfg)) == 1
    assert result.outbox.sent == 0 and mail_world.messages(SITI) == []  # no outbox pass

    after = Service(cfg).poll_once()  # the next start takes the two left, and no one twice
    assert after.intake is not None and after.intake.tickets == 2
    assert after.intake.examined == 2  # it went on after the one taken
    assert len(tickets(cfg)) == 3 and len(mail_world.messages(SITI)) == 3


def test_a_stop_ends_the_outbox_pass_after_the_message_in_hand(mail_world: Any,
                                                               tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint())
    mail_world.deliver(INBOX, complaint(sender=f"Budi <{BUDI}>"))
    service = Service(cfg, stop_requested=_stop_after(2))  # both messages of the intake pass
    service.intake.run(service.source)
    assert len([o for o in outbox(cfg) if o.state == "pending"]) == 4

    stats = service.outbox.send_pass(datetime.now(UTC))

    assert stats.sent == 1
    assert [o.state for o in outbox(cfg)].count("pending") == 3
    assert Service(cfg).outbox.send_pass(datetime.now(UTC)).sent == 3
