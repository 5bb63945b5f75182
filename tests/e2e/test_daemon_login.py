"""A refused login is not an outage: the daemon keeps running, paces its retries so that the
provider does not lock the account, logs one line per change, and mails the administrator
once per episode; a fixed password file and SIGHUP bring intake back at once."""

from __future__ import annotations

import re
import signal
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from tests.e2e.support import ADMIN, INBOX, SITI, complaint, config_for, rows, tickets
from tests.e2e.test_daemon import LONG_POLL, daemon, is_ready

REFUSED = "imap login refused, intake waits"
AGAIN = "imap login refused again"


def test_a_wrong_imap_password_is_retried_a_few_times_an_hour_and_mailed_once(
        mail_world: Any, tmp_path: Path) -> None:
    password = tmp_path / "imap-password"
    password.write_text("not-the-password\n")
    cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL},
                     imap={"password": None, "password_file": str(password)},
                     retry={"login_waits_seconds": [0.2], "login_attempts_per_hour": 3})
    mail_world.deliver(INBOX, complaint())

    with daemon(cfg, tmp_path, "-v") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        assert any(line.startswith("STATUS=IMAP login refused: ") for line in notify.lines())
        # Attempts 2 and 3 come after 0.2 s each; the fourth would be the fourth in an hour.
        running.wait_for_log(f"{AGAIN} (refusal 3)", notify=notify)
        # The waits say 0.2 s, the cap says not before the first attempt is an hour old.
        assert re.search(rf"{AGAIN} \(refusal 3\), next try in 3(59\d|600)s", running.text())
        _wait_until(lambda: len(mail_world.messages(ADMIN)) == 1, "the administrator's mail")
        log = running.text()
        assert log.count(AGAIN) == 2, log
        assert log.count(REFUSED) == 1, log
        [line] = [line for line in log.splitlines() if REFUSED in line]
        assert " ERROR " in line and str(password) in line and "not-the-password" not in line
        assert "at most 3 attempts an hour" in line
        notify.wait_for(lambda line: line.startswith("STATUS=IMAP login refused (fix the "
                                                     "password, then reload) since "), "STATUS")
        assert running.process.poll() is None
        assert tickets(cfg) == []

        [stored] = mail_world.messages(ADMIN)
        mail = message_from_bytes(stored.raw, policy=default)
        text = str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert "Login IMAP ditolak" in str(mail["Subject"])
        assert INBOX in text and str(password) in text and "[imap] password_file" in text
        assert "not-the-password" not in text

        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0

    # A restart within the same episode: refused again, but no second mail.
    with daemon(cfg, tmp_path, "-v") as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(lambda line: line.startswith("STATUS=IMAP login refused (fix"), "STATUS")
        running.wait_for_log(f"{AGAIN} (refusal 2)", notify=notify)
        assert len(mail_world.messages(ADMIN)) == 1

        # The administrator fixes the file and reloads: tried at once, intake resumes.
        password.write_text(mail_world.users[INBOX] + "\n")
        running.signal(signal.SIGHUP)
        running.wait_for_log("imap login works again", notify=notify)
        _wait_until(lambda: len(mail_world.messages(SITI)) == 1, "the complaint's acknowledgement")
        notify.wait_for(lambda line: line.startswith("STATUS=idle; last pass "), "idle STATUS")
        log = running.text()
        assert "imap credentials changed, trying the login at once" in log
        assert log.count("imap login works again") == 1
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0
    assert len(tickets(cfg)) == 1
    assert len(mail_world.messages(ADMIN)) == 1


def _wait_until(condition: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class _Refusing:
    """An SMTP server that offers AUTH and refuses every login (a wrong SMTP password)."""

    def __enter__(self) -> int:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        from mailflow.demo.loopback import free_port

        port = free_port()
        self.controller = Controller(object(), hostname="127.0.0.1", port=port,
                                     auth_require_tls=False,
                                     authenticator=lambda *_args: AuthResult(success=False,
                                                                                 handled=False))
        self.controller.start()
        return port

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


def test_a_refused_smtp_login_keeps_the_administrators_mail_waiting_until_it_works(
        mail_world: Any, tmp_path: Path) -> None:
    from mailflow.service import Service
    from mailflow.store.models import JobRun

    mail_world.deliver(INBOX, complaint())  # something to send: an acknowledgement
    with _Refusing() as port:
        refused = config_for(mail_world, tmp_path, smtp={"port": port, "username": INBOX,
                                                         "password": "not-the-password"})
        service = Service(refused)
        first, second = service.poll_once(), service.poll_once()
        service.engine.dispose()
        service = Service(refused)  # a restart within the same episode
        third = service.poll_once()
        service.engine.dispose()
    assert first.smtp_refused and second.smtp_refused and third.smtp_refused
    assert "[smtp] username and the password" in first.smtp_refused
    waiting = outbox_rows(refused)
    assert {row.state for row in waiting} == {"pending"}
    [alert] = [row for row in waiting if row.recipient == ADMIN]
    assert "Login SMTP ditolak" in _subject(alert.raw)

    fixed = config_for(mail_world, tmp_path)  # the loopback server, which needs no login
    service = Service(fixed)
    assert service.poll_once().outbox.sent == len(waiting)
    service.engine.dispose()
    [mail] = mail_world.messages(ADMIN)
    assert "Login SMTP ditolak" in _subject(mail.raw)
    [episode] = rows(fixed, JobRun)
    assert " ended " in episode.run_key  # closed: the next refusal mails again


def outbox_rows(cfg: Any) -> list[Any]:
    from tests.e2e.support import outbox

    return outbox(cfg)


def _subject(raw: bytes) -> str:
    return str(message_from_bytes(raw, policy=default)["Subject"])


def test_the_daemon_paces_a_refused_smtp_login_and_says_so_in_status(
        mail_world: Any, tmp_path: Path) -> None:
    mail_world.deliver(INBOX, complaint())
    with _Refusing() as port:
        cfg = config_for(mail_world, tmp_path, intake={"poll_seconds": LONG_POLL},
                         smtp={"port": port, "username": INBOX, "password": "not-the-password"},
                         retry={"login_waits_seconds": [0.2], "login_attempts_per_hour": 2})
        with daemon(cfg, tmp_path, "-v") as (running, notify):
            notify.wait_for(is_ready, "READY=1")
            running.wait_for_log("smtp login refused again (refusal 2)", notify=notify)
            notify.wait_for(lambda line: "SMTP login refused (fix the password, then reload)"
                            in line and line.endswith("; mail waits in the outbox"), "STATUS")
            log = running.text()
            assert log.count("smtp login refused, mail waits in the outbox") == 1
            assert re.search(r"smtp login refused again \(refusal 2\), next try in 3(59\d|600)s",
                             log), log
            assert "[smtp] password" in log and "not-the-password" not in log
            assert len(tickets(cfg)) == 1  # intake goes on
            running.signal(signal.SIGTERM)
            assert running.process.wait(timeout=10) == 0
    assert mail_world.messages(ADMIN) == []  # the administrator's mail waits in the outbox
    assert any(row.recipient == ADMIN and row.state == "pending" for row in outbox_rows(cfg))
