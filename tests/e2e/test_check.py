"""`mailflow check` tries everything the service needs against the real servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import INBOX, config_for
from tests.e2e.test_cli import mailflow, write_config
from tests.harness import postgres

pytestmark = pytest.mark.e2e


def _check(cfg: Any, tmp_path: Path) -> Any:
    return mailflow("check", "--config", str(write_config(cfg, tmp_path / "config.toml")))


def _lines(result: Any) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()}


def test_every_check_passes_on_a_working_setup(mail_world: Any, tmp_path: Path) -> None:
    # An empty database, as a new installation has (config_for's PostgreSQL one is migrated).
    empty = {"database": {"url": postgres.database_url(tmp_path)}} if postgres.on_postgresql() else {}
    result = _check(config_for(mail_world, tmp_path, **empty), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _lines(result) == {name: "ok" for name in
                              ("configuration", "storage", "database", "tls", "priority",
                               "lease", "imap", "smtp")}
    assert "folder 'INBOX'" in result.stdout
    assert "new database" in result.stdout


def test_a_wrong_imap_password_is_a_refused_login_not_an_outage(mail_world: Any,
                                                                tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, imap={"password": "wrong-password"})

    result = _check(cfg, tmp_path)

    assert result.returncode == 78
    assert _lines(result)["imap"] == "FAIL"
    assert "refused the login" in result.stdout and "[imap] username and the password" in result.stdout
    assert "wrong-password" not in result.stdout + result.stderr
    assert _lines(result)["smtp"] == "ok"


def test_an_unreachable_server_is_an_outage(mail_world: Any, tmp_path: Path) -> None:
    from mailflow.demo.loopback import free_port

    cfg = config_for(mail_world, tmp_path, smtp={"port": free_port()})

    result = _check(cfg, tmp_path)

    assert result.returncode == 69
    assert _lines(result)["smtp"] == "FAIL" and _lines(result)["imap"] == "ok"
    assert "Traceback" not in result.stderr


def test_an_unwritable_storage_directory_is_named(mail_world: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    cfg = config_for(mail_world, tmp_path, storage={"directory": str(blocker / "state")})

    result = _check(cfg, tmp_path)

    assert result.returncode in (74, 78)  # storage fails; the database beside it too
    assert _lines(result)["storage"] == "FAIL"
    assert f"[storage] directory '{blocker / 'state'}' cannot be written" in result.stdout


def test_a_database_that_needs_an_upgrade_is_a_configuration_matter(mail_world: Any,
                                                                    tmp_path: Path) -> None:
    import shutil

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "db-v0.1.0.sqlite3"
    database = tmp_path / "old.sqlite3"
    shutil.copy(fixture, database)
    cfg = config_for(mail_world, tmp_path, database={"url": f"sqlite:///{database}"})

    result = _check(cfg, tmp_path)

    assert result.returncode == 78
    assert _lines(result)["database"] == "FAIL"
    assert "mailflow db upgrade" in result.stdout
    assert INBOX not in result.stderr


def test_offline_leaves_the_mail_servers_out(mail_world: Any, tmp_path: Path) -> None:
    from mailflow.demo.loopback import free_port

    cfg = config_for(mail_world, tmp_path, smtp={"port": free_port()})
    path = write_config(cfg, tmp_path / "config.toml")

    result = mailflow("check", "--offline", "--config", str(path))

    assert result.returncode == 0, result.stdout
    assert set(_lines(result)) == {"configuration", "storage", "database", "tls", "priority"}


def test_poll_with_a_refused_imap_login_still_sends_and_says_what_to_fix(mail_world: Any,
                                                                         tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, imap={"password": "wrong-password"})
    path = write_config(cfg, tmp_path / "config.toml")

    result = mailflow("poll", "--once", "--config", str(path))

    assert result.returncode == 78, result.stderr
    assert "imap login refused" in result.stderr
    assert "Traceback" not in result.stderr
