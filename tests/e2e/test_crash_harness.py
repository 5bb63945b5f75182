"""The crash harness (tests/harness/chaos.py), small enough for CI: daemons SIGKILLed at
seeded random moments, Dovecot killed and restarted, SMTP refusing for a while, and then
nothing lost, nothing made or sent twice; on PostgreSQL (MAILFLOW_TEST_DB=postgresql) the
database server is killed and restarted too. `bench/crash_harness.py` runs the large version."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.chaos import ChaosPlan, run_chaos
from tests.harness.postgres import chosen_database
from tests.harness.servers import dovecot_available

pytestmark = pytest.mark.skipif(not dovecot_available(), reason="needs Dovecot")


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mailflow-chaos-"))
    path.chmod(0o755)  # Dovecot's mail user must enter it
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("seed, instances, fleet", [(1, 1, False), (2, 3, False), (3, 2, True)],
                         ids=["one-daemon-each", "three-daemons-each", "two-fleets"])
def test_nothing_lost_or_doubled_under_random_kills(workdir: Path, seed: int, instances: int,
                                                    fleet: bool) -> None:
    plan = ChaosPlan(seed=seed, mailboxes=2, instances=instances, complaints=24,
                     chaos_seconds=8.0, database=chosen_database(), fleet=fleet)
    result = run_chaos(plan, workdir)
    assert result.ok, result.summary()
    # The run did what it claims: faults happened and every complaint made its ticket.
    assert result.kills >= 3 and result.tickets == result.complaints == 24, result.summary()
