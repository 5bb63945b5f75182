"""`mailflow db` and `mailflow check` on PostgreSQL: the schema from empty to head, the
password from a libpq password file, and a server that is down or refuses mailflow.

Runs whenever PostgreSQL's server is installed (the session's private cluster), whatever
MAILFLOW_TEST_DB says: these are about PostgreSQL itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailflow.demo.loopback import free_port
from mailflow.store import migrate
from tests.e2e.test_cli_db import mailflow, write_config
from tests.harness.postgres import PostgresCluster

pytestmark = pytest.mark.e2e
HEAD = migrate.head()


@pytest.fixture
def database(postgres_cluster: PostgresCluster) -> Iterator[str]:
    name = postgres_cluster.create_database()
    yield name
    postgres_cluster.drop_database(name)


def _config(tmp_path: Path, url: str) -> Path:
    path = write_config(tmp_path)
    path.write_text(path.read_text() + f'\n[database]\nurl = "{url}"\n')
    return path


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.split()[1:2] == [name])


def test_db_upgrade_and_check_on_an_empty_postgresql_database(
        postgres_cluster: PostgresCluster, database: str, tmp_path: Path) -> None:
    config = _config(tmp_path, postgres_cluster.url(database))

    current = mailflow(config, "db", "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.startswith("none (empty database;")
    check = mailflow(config, "check", "--offline")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "PostgreSQL postgresql+psycopg://postgres@/" in _line(check.stdout, "database")
    assert "new database" in _line(check.stdout, "database")

    upgraded = mailflow(config, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.splitlines() == [f"none (empty database) -> {HEAD}"]
    assert mailflow(config, "db", "current").stdout.strip() == f"{HEAD} (head)"
    again = mailflow(config, "db", "upgrade")
    assert again.returncode == 0 and "already at head" in again.stdout
    check = mailflow(config, "check", "--offline")
    assert f"schema revision {HEAD} (this mailflow's)" in _line(check.stdout, "database")


def test_the_password_comes_from_a_libpq_password_file(
        postgres_cluster: PostgresCluster, database: str, tmp_path: Path) -> None:
    role, secret = "mailflow_app", "kata-sandi-basis-data"
    postgres_cluster.admin(f"DROP ROLE IF EXISTS {role}",
                           f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'",
                           f'ALTER DATABASE "{database}" OWNER TO {role}')
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{postgres_cluster.port}:{database}:{role}:{secret}\n")
    passfile.chmod(0o600)
    url = postgres_cluster.url(database, user=role, tcp=True)

    without = mailflow(_config(tmp_path, url), "db", "upgrade")
    assert without.returncode == 78, without.stdout + without.stderr
    assert "refused mailflow" in without.stderr and "password" in without.stderr
    assert "Traceback" not in without.stderr

    upgraded = mailflow(_config(tmp_path, f"{url}?passfile={passfile}"), "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.splitlines() == [f"none (empty database) -> {HEAD}"]
    assert secret not in upgraded.stdout + upgraded.stderr


def test_a_password_in_the_url_is_refused_and_not_repeated(tmp_path: Path) -> None:
    config = _config(tmp_path, "postgresql://mailflow:rahasia-sekali@127.0.0.1/mailflow")

    result = mailflow(config, "db", "current")

    assert result.returncode == 78
    assert "[database] url: holds a password" in result.stderr
    assert "rahasia-sekali" not in result.stdout + result.stderr


def test_a_server_that_is_down_is_a_storage_failure_not_a_traceback(tmp_path: Path) -> None:
    config = _config(tmp_path, f"postgresql://mailflow@127.0.0.1:{free_port()}/mailflow")

    check = mailflow(config, "check", "--offline")
    assert check.returncode == 74, check.stdout + check.stderr
    assert _line(check.stdout, "database").startswith("FAIL")
    assert "cannot reach the database" in check.stdout
    upgrade = mailflow(config, "db", "upgrade")
    assert upgrade.returncode == 74, upgrade.stdout + upgrade.stderr
    assert "Traceback" not in check.stderr + upgrade.stderr
