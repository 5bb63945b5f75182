"""Kill mailflow daemons at random moments and check that nothing was lost or made twice.

    .venv/bin/python bench/crash_harness.py --seeds 20 --complaints 300 --mailboxes 4 \
        --instances 3 --chaos-seconds 60

runs seeds 1..20 (or `--seed N` for one), each with its own private Dovecot, loopback SMTP
server and database, and prints one line per seed: PASS or FAIL with the faults injected
(SIGKILLs, Dovecot restarts, SMTP refusals), tickets against complaints, acknowledgements
resent after a kill, and how long the daemons took to settle. Exit status 1 if any seed
failed. tests/e2e/test_crash_harness.py runs a small version in CI. The machinery and what
is checked: tests/harness/chaos.py.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.chaos import ChaosPlan, run_chaos
from tests.harness.servers import dovecot_available


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="run this seed only")
    parser.add_argument("--seeds", type=int, default=5, help="run seeds 1..N (default 5)")
    parser.add_argument("--complaints", type=int, default=100)
    parser.add_argument("--mailboxes", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1,
                        help="daemons per mailbox, or fleet processes in all with --fleet")
    parser.add_argument("--fleet", action="store_true",
                        help="one file with every mailbox, served by --instances fleets")
    parser.add_argument("--chaos-seconds", type=float, default=20.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                        help="postgresql: a private cluster per seed, also killed and restarted")
    parser.add_argument("--keep", action="store_true", help="keep each seed's directory")
    args = parser.parse_args()
    if not dovecot_available():
        print("Dovecot is not installed: run scripts/install-test-deps.sh as root")
        return 2
    seeds = [args.seed] if args.seed is not None else list(range(1, args.seeds + 1))
    failed = 0
    for seed in seeds:
        plan = ChaosPlan(seed=seed, mailboxes=args.mailboxes, instances=args.instances,
                         complaints=args.complaints, chaos_seconds=args.chaos_seconds,
                         database=args.database, fleet=args.fleet)
        workdir = Path(tempfile.mkdtemp(prefix=f"mailflow-chaos-{seed}-"))
        workdir.chmod(0o755)  # Dovecot's mail user must enter it
        result = run_chaos(plan, workdir)
        print(result.summary(), flush=True)
        failed += not result.ok
        if args.keep or not result.ok:
            print(f"  kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(seeds) - failed} of {len(seeds)} seed(s) passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
