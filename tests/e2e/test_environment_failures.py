"""When the environment fails, no good complaint is blamed: it waits, and is taken later.

The crash barrier quarantines a message only for its own fault. A disk that cannot be
written ends the pass with the message unrecorded, so the next pass takes it; a secret
file that is missing is a configuration error before anything is read.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailflow.service import Service
from mailflow.store.models import Quarantine
from tests.e2e.support import COMPLETE_BODY, INBOX, SITI, config_for, rows, tickets
from tests.e2e.test_cli import mailflow, write_config

pytestmark = pytest.mark.e2e


def _with_photo() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = f"Siti Aminah <{SITI}>", INBOX, "Pengaduan Masyarakat"
    msg.set_content(COMPLETE_BODY)
    msg.add_attachment(b"\x89PNG foto jalan", maintype="image", subtype="png", filename="jalan.png")
    return msg.as_bytes()


def _poll(cfg: Any) -> Any:
    service = Service(cfg)
    try:
        return service.poll_once()
    finally:
        service.engine.dispose()


def test_an_unwritable_attachment_store_holds_the_complaint_back_instead_of_quarantining_it(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, _with_photo())
    cfg.storage_dir.mkdir(parents=True)
    blocker = cfg.storage_dir / "attachments"
    blocker.write_text("not a directory")  # root ignores permission bits; this fails for it too

    first = _poll(cfg)

    assert first.storage_error is not None and "attachment" in first.storage_error
    assert tickets(cfg) == [] and rows(cfg, Quarantine) == []
    assert mail_world.messages(SITI) == []

    blocker.unlink()
    second = _poll(cfg)

    assert second.storage_error is None
    assert [t.number for t in tickets(cfg)] == ["ADU-2026-00001"]
    assert rows(cfg, Quarantine) == []
    assert len(mail_world.messages(SITI)) == 1  # the acknowledgement, once


def test_poll_reports_a_storage_failure_with_its_own_exit_status(mail_world: Any,
                                                                tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, _with_photo())
    cfg.storage_dir.mkdir(parents=True)
    (cfg.storage_dir / "attachments").write_text("not a directory")

    result = mailflow("poll", "--once", "--config", str(write_config(cfg, tmp_path / "c.toml")))

    assert result.returncode == 74, result.stderr
    assert "storage unavailable" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("check",), ("poll", "--once"), ("run",)])
def test_a_missing_secret_file_is_a_configuration_error_for_every_command(
        mail_world: Any, tmp_path: Path, command: tuple[str, ...]) -> None:
    secret = tmp_path / "reply-secret"
    secret.write_text("a-reply-secret-of-enough-length\n")
    cfg = config_for(mail_world, tmp_path, commands={"secret": None, "secret_file": str(secret)})
    path = write_config(cfg, tmp_path / "config.toml")
    secret.unlink()

    result = mailflow(*command, "--config", str(path), timeout=30)

    assert result.returncode == 78, result.stderr
    assert f"[commands]: cannot read secret_file '{secret}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_gone_as_an_intake_group_begins_is_an_outage_and_the_complaint_waits(
        mail_world: Any, postgres_cluster: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """Found by the crash harness: PostgreSQL restarting just as an intake group opened its
    transaction (the group's first statement, outside any message's savepoint) ended a fleet's
    pass as "poll failed unexpectedly", with a traceback. It is an outage like the others: the
    pass says so in one line, nothing of the group is kept, and the next pass takes it."""
    cfg = config_for(mail_world, tmp_path, database={
        "url": postgres_cluster.url(postgres_cluster.create_database())})
    mail_world.deliver(INBOX, _with_photo())
    killed: list[bool] = []

    def kill_at_the_first_message() -> bool:  # asked just before the group's first statement
        if not killed:
            postgres_cluster.kill()
            killed.append(True)
        return False

    service = Service(cfg, stop_requested=kill_at_the_first_message)
    try:
        try:
            result = service.poll_once(outbox=False)
        finally:
            postgres_cluster.start()
        assert killed and result.storage_error and result.intake is None, result
        assert "storage unavailable, intake paused until the next poll: database:" in caplog.text
        assert "unexpected" not in caplog.text
        # The same service's next pass (its lease could not be released while the server was
        # down, so a new process would wait for it to run out).
        again = service.poll_once(outbox=False)
    finally:
        service.engine.dispose()
    assert again.intake is not None and again.intake.tickets == 1, again
    assert len(tickets(cfg)) == 1
