"""Marking taken mail never blocks intake, and every marking command is bounded (issue 10).

Issue 10: after an 80,000-complaint pass, one `UID STORE` carried every UID, Dovecot answered
`BAD ... Too long argument`, and since the marks were tried first in a pass, every later pass
failed before it fetched anything. Here Dovecot refuses marks for real (a keyword over its
50-character limit, a folder name it will not create) and intake goes on; and the issue's
backlog (12,000 scattered UIDs, over 64 kB as one list) is marked in bounded commands.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mailflow.service import Service
from mailflow.store.db import Session
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.e2e.support import INBOX, FixedClock, complaint, config_for, intake_records, tickets

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 11, 27, 3, 5, tzinfo=UTC)
LONG_KEYWORD = "$" + "Diambil" * 8  # 57 characters: the configuration takes it, Dovecot not


def _dovecot_only(world: Any) -> None:
    if world.backend != "dovecot":
        pytest.skip("the refusals are Dovecot's (pymap drops keywords silently)")


def _body(n: int) -> str:
    return f"Nama: Warga {n}\n\nSaluran air di RT 0{n} tersumbat sejak pekan lalu, mohon dibantu.\n"


def _keyword_seen(world: Any, keyword: str) -> Callable[[], int]:
    return lambda: sum(keyword in m.flags for m in world.messages(INBOX))


def _in_folder(world: Any, folder: str) -> int:
    """How many messages `folder` holds; 0 when it does not exist (yet)."""
    client = imaplib.IMAP4(world.imap_host, world.imap_port)
    try:
        client.login(INBOX, world.users[INBOX])
        typ, data = client.select(f'"{folder}"', readonly=True)
        return int(data[0]) if typ == "OK" else 0
    finally:
        client.logout()


REFUSALS = {
    # (the refused [imap] keys, the keys of the fix, how many messages show the mark)
    "keyword-too-long": ({"keyword": LONG_KEYWORD}, {"keyword": "$Diambil"},
                         lambda world: _keyword_seen(world, "$Diambil")()),
    "folder-refused": ({"mark": "move", "move_to_folder": "~Diambil"},
                       {"mark": "move", "move_to_folder": "Diambil"},
                       lambda world: _in_folder(world, "Diambil")),
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_mark_never_stops_intake_and_is_tried_again(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, refusal: str) -> None:
    _dovecot_only(mail_world)
    refused, fixed, shown = REFUSALS[refusal]
    caplog.set_level(logging.DEBUG, logger="mailflow.runners.marking")
    clock = FixedClock(NOW)
    service = Service(config_for(mail_world, tmp_path, imap=refused), clock=clock)

    def poll(n: int) -> Any:
        mail_world.deliver(INBOX, complaint(body=_body(n)))
        caplog.clear()
        return service.poll_once()

    def failures(level: int) -> int:
        return sum("imap marking failed" in r.getMessage() and r.levelno == level
                   for r in caplog.records)

    try:
        first = poll(1)
        assert first.imap_error is None and first.intake is not None  # not "imap unavailable"
        assert first.intake.tickets == 1
        assert failures(logging.WARNING) == 1  # said once, with the reason
        assert "1 taken message(s) stay unmarked" in caplog.text

        clock.advance(minutes=1)  # within the first rest (2 min): marking is not even tried
        second = poll(2)
        assert second.imap_error is None and second.intake.tickets == 1
        assert failures(logging.WARNING) == failures(logging.DEBUG) == 0

        clock.advance(minutes=2)  # rested: tried again, refused again, not said again at WARNING
        third = poll(3)
        assert third.imap_error is None and third.intake.tickets == 1
        assert (failures(logging.WARNING), failures(logging.DEBUG)) == (0, 1)
        assert "3 taken message(s) stay unmarked" in caplog.text
    finally:
        service.engine.dispose()
    cfg = config_for(mail_world, tmp_path, imap=refused)
    assert len(tickets(cfg)) == 3
    assert [r.marked for r in intake_records(cfg)] == [False, False, False]
    assert shown(mail_world) == 0

    # The administrator fixes the key and reloads: the next pass marks all that waited.
    fixed_cfg = config_for(mail_world, tmp_path, imap=fixed)
    service = Service(fixed_cfg, clock=clock)
    try:
        caplog.clear()
        assert service.poll_once().imap_error is None
    finally:
        service.engine.dispose()
    assert [r.marked for r in intake_records(fixed_cfg)] == [True, True, True]
    assert shown(mail_world) == 3
    assert "imap marked taken messages count=3" in caplog.text


def test_the_issues_backlog_of_scattered_uids_is_marked_in_bounded_commands(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """12,000 taken messages at every other UID: as one list, 71 kB (Dovecot refuses over
    64 kB: `BAD ... Too long argument`); as bounded sets, commands of at most 8 kB that all
    succeed. Only the first 20 UIDs exist (filling 24,000 takes minutes): a UID set may name
    UIDs that are gone, and the server answers for the command line all the same."""
    _dovecot_only(mail_world)
    for n in range(20):
        mail_world.deliver(INBOX, b"Subject: info %d\r\n\r\nx\r\n" % n)
    taken = list(range(2, 24_001, 2))
    assert len(",".join(map(str, taken))) > 64 * 1024  # the issue's STORE would be refused
    cfg = config_for(mail_world, tmp_path)
    service = Service(cfg, clock=FixedClock(NOW))
    sent: list[str] = []
    try:
        with service.source.session() as imap:
            key, validity = imap.mailbox_key, imap.uidvalidity
            with Session(service.engine) as session:
                session.add_all(IntakeRecord(mailbox=key, uidvalidity=validity, uid=uid,
                                             message_key=f"k{uid}", decision=IntakeOutcome.TICKET,
                                             created_at=NOW) for uid in taken)
                session.commit()
            real_uid = imap.client.uid

            def uid(command: str, *args: Any) -> Any:
                sent.append(" ".join(str(a) for a in (command, *args)))
                return real_uid(command, *args)

            imap.client.uid = uid  # records what goes to the server; the server answers
            with caplog.at_level(logging.INFO, logger="mailflow.runners.marking"):
                assert service.intake.marker.mark_pending(imap) == len(taken)
    finally:
        service.engine.dispose()
    assert "imap marking failed" not in caplog.text
    assert len(sent) >= 9 and max(len(line) for line in sent) <= 8192 + 64
    assert all(r.marked for r in intake_records(cfg))
    flagged = [m.uid for m in mail_world.messages(INBOX) if "$MailflowTaken" in m.flags]
    assert flagged == list(range(2, 21, 2))


def test_marking_waits_for_new_mail(mail_world: Any, tmp_path: Path) -> None:
    """A pass takes new mail first and marks last: what it took is marked in the same pass."""
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, complaint(body=_body(1)))
    service = Service(cfg, clock=FixedClock(NOW + timedelta(minutes=1)))
    try:
        assert service.poll_once().intake.tickets == 1
    finally:
        service.engine.dispose()
    assert [r.marked for r in intake_records(cfg)] == [True]
