"""`mailflow db current` / `db upgrade`, and commands refusing a database that needs upgrading.

Real processes as an administrator runs them; no mail server is needed (none is contacted
before the database is checked).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from mailflow.config import load_config
from mailflow.errors import SchemaError
from mailflow.service import Service
from mailflow.store import migrate
from tests.harness import zygote

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "db-v0.1.0.sqlite3"
UPGRADE_HINT = "run `mailflow db upgrade`"
HEAD = migrate.head()


def mailflow(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run(["--config", str(config), *args], timeout=60, cwd=ROOT,
                      env={**os.environ, "MAILFLOW_CONFIG": ""})


def write_config(tmp_path: Path) -> Path:
    """A valid configuration whose storage (and so the database) is under tmp_path/state."""
    path = tmp_path / "config.toml"
    path.write_text(f"""
[village]
name = "Desa Klero"

[imap]
host = "127.0.0.1"
port = 1
security = "plain"
username = "pengaduan@klero.desa.id"
password = "x"

[smtp]
host = "127.0.0.1"
port = 1
security = "plain"
from_address = "pengaduan@klero.desa.id"

[storage]
directory = "{tmp_path / 'state'}"

[[staff]]
email = "sekdes@klero.desa.id"
name = "Sekretaris Desa"
roles = ["verifikator"]
""")
    return path


def database(tmp_path: Path) -> Path:
    return tmp_path / "state" / "mailflow.sqlite3"


def old_database(tmp_path: Path) -> Path:
    """The database mailflow 0.1.0 made (tests/fixtures/README.md), where the config expects it."""
    path = database(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE, path)
    return path


def test_a_new_install_needs_no_upgrade(tmp_path: Path) -> None:
    config = write_config(tmp_path)

    current = mailflow(config, "db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.startswith("none (no database yet at ")
    assert not database(tmp_path).exists()  # looking creates nothing

    upgraded = mailflow(config, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.splitlines() == [f"none (empty database) -> {HEAD}"]


def test_a_0_1_0_database_is_refused_until_upgraded(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    old_database(tmp_path)

    for command in (["tickets"], ["show", "ADU-2026-00001"]):
        refused = mailflow(config, *command)
        assert refused.returncode == 78, (command, refused.stderr)
        assert "before schema migrations" in refused.stderr and UPGRADE_HINT in refused.stderr
    current = mailflow(config, "db", "current")
    assert current.returncode == 78
    assert current.stdout == f"none (made before migrations by mailflow 0.1.0; head is {HEAD})\n"
    assert UPGRADE_HINT in current.stderr

    upgraded = mailflow(config, "db", "upgrade")

    assert upgraded.returncode == 0, upgraded.stderr
    first, second = upgraded.stdout.splitlines()
    assert first == f"none (made before migrations, taken as 0001) -> {HEAD}"
    assert second.startswith("copy of the database before the upgrade: ")
    copy = Path(second.split(": ", 1)[1])
    assert copy.parent == database(tmp_path).parent and copy.is_file()
    current = mailflow(config, "db", "current")
    assert (current.returncode, current.stdout) == (0, f"{HEAD} (head)\n")
    again = mailflow(config, "db", "upgrade")
    assert (again.returncode, again.stdout) == (0, f"{HEAD} -> {HEAD}: already at head, nothing to do\n")
    listed = mailflow(config, "tickets", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [
        "ADU-2026-00001", "ADU-2026-00002", "ADU-2026-00003"]


def test_a_database_newer_than_this_mailflow_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    path = old_database(tmp_path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")

    current = mailflow(config, "db", "current")
    assert current.returncode == 78
    assert current.stdout.startswith("9999 (unknown to this mailflow")
    upgraded = mailflow(config, "db", "upgrade")
    assert upgraded.returncode == 78
    assert "newer than this mailflow" in upgraded.stderr


def test_the_service_refuses_to_start_on_a_0_1_0_database(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    old_database(tmp_path)

    with pytest.raises(SchemaError, match=UPGRADE_HINT):
        Service(cfg)


def test_the_service_creates_a_new_database(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))

    service = Service(cfg)
    service.engine.dispose()

    with closing(sqlite3.connect(database(tmp_path))) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
