"""Issue 7 items 6-7, end to end on Dovecot: no identity reaches anyone without identity rights.

The fixture's 108 complaints (tests/fixtures/identity_complaints.py) are taken in one poll;
the verifier then assigns each to an officer (petugas), the village head (kepala_desa) or the
administrator (admin) by replying to her notification, and each resident replies with more
identity; a second poll applies both. Then every mail those three received, `mailflow
tickets` (text and --json) and `mailflow show` for every ticket, and every log record are
searched for every identity string of every complaint: there must be none, and each
complaint's substance must still be there for the people who act on it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.cli import main as mailflow_main
from mailflow.demo.mail import to_toml
from mailflow.service import Service
from mailflow.store.models import OutboxMessage, Ticket
from tests.e2e.leaks import Leak, Secrets, all_leaks, mail_text
from tests.e2e.support import ADMIN, INBOX, KADES, KASI, SEKDES, STAFF, config_for, rows
from tests.e2e.test_workflow_mail import staff_reply
from tests.fixtures.identity_complaints import REPLY_SUBSTANCE, Complaint, complaints
from tests.harness import zygote

pytestmark = pytest.mark.e2e

RECEIVED = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta"))
ROOT = Path(__file__).resolve().parents[2]
ALL_ROLES = [*STAFF, {"email": ADMIN, "name": "Administrator", "roles": ["admin"]}]
# Who follows each ticket up, by turn: every role without identity rights gets tickets.
ASSIGNEES = (KASI, KADES, ADMIN)
_NUMBER = re.compile(r"ADU-\d{4}-\d{5}")


def _poll(cfg: Any) -> None:
    """One poll, then outbox passes until everything is sent (a pass sends at most 200)."""
    service = Service(cfg)
    try:
        sent = service.poll_once().outbox.sent
        while sent:
            sent = service.outbox.send_pass(service.clock()).sent
    finally:
        service.engine.dispose()


def _read(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=default)  # type: ignore[return-value]


def _resident_reply(item: Complaint, number: str, ack: OutboxMessage) -> bytes:
    """What the resident's mail program sends on Reply to the acknowledgement."""
    ack_id, to = ack.message_id, _read(ack.raw)["Reply-To"] or INBOX
    msg = EmailMessage()
    msg["From"] = f"{item.person.name} <{item.person.email}>"
    msg["To"] = str(to)
    msg["Subject"] = f"Re: [{number}] Pengaduan Anda telah diterima"
    msg["Message-ID"] = make_msgid(domain="warga.example")
    msg["In-Reply-To"] = ack_id
    msg.set_content(f"{item.reply}\n\nPada Jum, 27 Nov 2026 Pemerintah Desa Klero <{INBOX}> "
                    f"menulis:\n> Terima kasih, pengaduan Anda telah kami terima.\n")
    return msg.as_bytes()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run(list(args), timeout=120, cwd=ROOT, env=dict(os.environ))


def _cli_in_process(config: Path, *args: str) -> str:
    """`mailflow ARGS` through the CLI's own entry point, without a new interpreter
    (a process per ticket would take minutes; real processes run for two pages)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert mailflow_main(["--config", str(config), *args]) == 0
    return out.getvalue()


def _take_and_follow_up(world: Any, cfg: Any, fixture: list[Complaint]) -> dict[str, Complaint]:
    """Both polls; returns which complaint each ticket number is."""
    for item in fixture:
        world.deliver(INBOX, item.raw(), internaldate=RECEIVED)
    _poll(cfg)
    by_id = {item.message_id: item for item in fixture}
    tickets = {t.id: t for t in rows(cfg, Ticket)}
    of_number = {t.number: by_id[t.source_message_id] for t in tickets.values()}
    assert len(of_number) == len(fixture), "every complaint is a ticket"
    for stored in world.messages(SEKDES):
        note = _read(stored.raw)
        number = _NUMBER.search(str(note["Subject"])).group()  # type: ignore[union-attr]
        assignee = ASSIGNEES[of_number[number].index % len(ASSIGNEES)]
        # An assignment alone: no status change, so no mail to the resident (time is short).
        world.deliver(INBOX, staff_reply(SEKDES, note, f"#petugas {assignee}"))
    for row in rows(cfg, OutboxMessage):
        if row.kind == "ack":
            number = tickets[row.ticket_id].number
            world.deliver(INBOX, _resident_reply(of_number[number], number, row))
    _poll(cfg)
    return of_number


def test_no_identity_reaches_a_role_without_identity_rights(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fixture = complaints()
    for item in fixture:
        mail_world.add_user(item.person.email, "warga-secret")
    # 108 complaints in one poll is a bulk run, not a storm: the staff limits must not
    # withhold the very notifications this test reads.
    cfg = config_for(mail_world, tmp_path, staff=ALL_ROLES,
                     limits={"staff_per_hour": 1000, "staff_per_day": 1000})
    config = tmp_path / "config.toml"
    config.write_text(to_toml(cfg.model_dump(mode="json")))
    of_number = _take_and_follow_up(mail_world, cfg, fixture)

    outputs: list[tuple[str, str]] = []
    staff_mail: dict[str, list[str]] = {}
    for address in ASSIGNEES:
        texts = [mail_text(m.raw) for m in mail_world.messages(address)]
        staff_mail[address] = texts
        outputs += [(f"mail to {address} #{n}", text) for n, text in enumerate(texts)]
    # Real processes for the export and one page; the CLI's own entry point for the rest.
    processes = [_cli("--config", str(config), "tickets", "--json"),
                 _cli("--config", str(config), "show", min(of_number))]
    for result in processes:
        assert result.returncode == 0, result.stderr
        outputs += [(f"{' '.join(result.args[4:])} (stdout)", result.stdout),
                    (f"{' '.join(result.args[4:])} (stderr)", result.stderr)]
    pages = [("tickets", _cli_in_process(config, "tickets"))]
    pages += [(f"show {number}", _cli_in_process(config, "show", number)) for number in sorted(of_number)]
    outputs += pages
    outputs += [(f"log record {n}: {r.name}", f"{r.getMessage()}\n{r.exc_text or ''}")
                for n, r in enumerate(caplog.records)]

    secrets = Secrets(fixture)
    examined, leaks = all_leaks(secrets, outputs)
    print(f"\nidentity fixture: {len(fixture)} complaints, {secrets.count} identity strings, "
          f"{examined} outputs examined ({sum(map(len, staff_mail.values()))} staff mails, "
          f"{len(processes) + len(pages)} CLI pages, {len(caplog.records)} log "
          f"records), {len(leaks)} leaks")
    assert _summary(leaks) == []

    # Fail closed, but readable: each ticket's assignee still learns what is wrong, from the
    # assignment and from the resident's forwarded reply.
    of_ticket: dict[str, list[str]] = {}
    for texts in staff_mail.values():
        for text in texts:
            of_ticket.setdefault(_NUMBER.findall(text)[0], []).append(text)
    for number, item in of_number.items():
        notice, reply = of_ticket[number]
        assert "Tugas tindak lanjut" in notice and item.substance in notice, (number, item.substance)
        assert "Balasan dari pelapor" in reply and REPLY_SUBSTANCE in reply.casefold(), number

    # Issue 7 item 6: a name given in a sentence or a signature is not asked for again.
    acks = {row.ticket_id: mail_text(row.raw) for row in rows(cfg, OutboxMessage) if row.kind == "ack"}
    numbers = {t.id: t.number for t in rows(cfg, Ticket)}
    asking = [of_number[numbers[ticket_id]].index for ticket_id, text in acks.items()
              if "- nama lengkap" in text and of_number[numbers[ticket_id]].gives_name]
    assert asking == []


def _summary(leaks: list[Leak]) -> list[str]:
    """One line per leaking output and secret, at most 40, for a readable failure."""
    return sorted({f"{leak.where}: complaint {leak.complaint}: {leak.secret!r}" for leak in leaks})[:40]


def test_a_message_that_fails_is_logged_without_what_its_exception_quotes(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # An exception's text may quote the message it choked on; the log keeps its type only
    # (the quarantine row keeps the whole reason, for the administrator).
    from mailflow.runners.handlers import Handlers
    from mailflow.store.models import Quarantine

    item = complaints(1)[0]

    def choke(*_args: Any, **_kwargs: Any) -> None:
        raise ValueError(f"cannot store {item.person.name} {item.person.nik}")

    monkeypatch.setattr(Handlers, "new_ticket", choke)
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, item.raw(), internaldate=RECEIVED)
    caplog.set_level(logging.DEBUG, logger="mailflow")
    _poll(cfg)
    [kept] = rows(cfg, Quarantine)
    assert item.person.nik in kept.reason
    logged = [(f"log record {n}", f"{r.getMessage()}\n{r.exc_text or ''}")
              for n, r in enumerate(caplog.records) if r.levelno >= logging.INFO]
    assert any("quarantined" in text for _, text in logged)
    assert _summary(all_leaks(Secrets([item]), logged)[1]) == []
