"""Fixtures for the whole suite: the database a test's mailflow uses.

MAILFLOW_TEST_DB=postgresql runs the store and end-to-end tests on a private PostgreSQL
cluster (tests/harness/postgres.py); unset or `sqlite`, on SQLite files under tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import postgres


def pytest_report_header(config: pytest.Config) -> str:
    return f"mailflow test database: {postgres.chosen_database()} ({postgres.ENV})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `no_test_database` never reach the database this run chose (the demo and
    the installer make their own SQLite file, the servers' and the browser's tests none): the
    PostgreSQL run would repeat them exactly, so only the SQLite run has them."""
    if not postgres.on_postgresql():
        return
    skip = pytest.mark.skip(reason="uses no test database: run once, on SQLite")
    for item in items:
        if item.get_closest_marker("no_test_database") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _postgres_cluster() -> Iterator[None]:
    """Stops this session's (this worker's) cluster, if one was started, at the end."""
    yield
    postgres.stop_cluster()


@pytest.fixture(autouse=True)
def _fresh_databases() -> Iterator[None]:
    """Drops the PostgreSQL databases a test made, once it is over."""
    yield
    postgres.drop_databases()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The URL of a new, empty database for this test: a SQLite file under tmp_path, or a
    database of its own in the session's PostgreSQL cluster."""
    if postgres.on_postgresql():
        return postgres.database_url(tmp_path)
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


@pytest.fixture
def sqlite_only() -> None:
    """For tests about SQLite itself (its file, its copy, its modes): skipped on PostgreSQL."""
    if postgres.on_postgresql():
        pytest.skip("about the SQLite file; this run uses PostgreSQL (MAILFLOW_TEST_DB)")


@pytest.fixture
def postgres_cluster() -> postgres.PostgresCluster:
    """The session's PostgreSQL cluster, for tests about PostgreSQL itself (skipped when the
    server is not installed, unless the run was asked for PostgreSQL)."""
    if postgres.postgres_bindir() is None:
        if postgres.on_postgresql():
            pytest.fail("MAILFLOW_TEST_DB=postgresql, but PostgreSQL's server is not installed "
                        "(run scripts/install-test-deps.sh as root)", pytrace=False)
        pytest.skip("PostgreSQL's server is not installed (scripts/install-test-deps.sh)")
    return postgres.cluster()
