"""A simulated regency: many villages' mailboxes, one database, several fleet instances.

    .venv/bin/python bench/regency_bench.py --mailboxes 250 --complaints 2000 \
        --instances 2 --database sqlite

One private Dovecot with one user per village, one configuration file with one
`[[mailboxes]]` entry per village, one database (SQLite in the work directory, or a private
PostgreSQL cluster), and `--instances` `mailflow run` processes on that file (fleet mode,
mailflow/fleet.py), each naming its own machine. Once the instances have split the mailboxes,
a flood arrives: `--complaints` complaints, uneven over the villages (a few get many, as after
a flood: village i gets a share proportional to 1/(i+1)), appended as fast as IMAP takes them.

Printed: tickets per second from the first delivery to the last ticket committed; each
mailbox's lag (its slowest complaint, from its APPEND to its ticket's created_at: median,
p95 and the slowest mailbox); how the mailboxes were split; each instance's peak RSS. Targets
are printed where issue 10 gives one.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from mailflow.config import load_configs
from mailflow.demo.smtp import LoopbackSMTP
from mailflow.store.db import make_engine
from mailflow.store.models import Ticket
from tests.e2e.support import tickets
from tests.harness.postgres import PostgresCluster
from tests.harness.regency import Village, holders, regency_file, village_complaint, villages
from tests.harness.servers import DovecotServer, dovecot_available
from tests.harness.village import INBOX

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "regency-pw"


class _World:
    def __init__(self, imap: DovecotServer, smtp: LoopbackSMTP) -> None:
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp_host, self.smtp_port = smtp.host, smtp.port
        self.users = {INBOX: PASSWORD}


def _flood(places: list[Village], count: int, rng: random.Random) -> list[tuple[Village, int]]:
    weights = [1 / (rank + 1) for rank in range(len(places))]
    order = places[:]
    rng.shuffle(order)  # which villages are hit hardest
    return [(village, n) for n, village in enumerate(rng.choices(order, weights, k=count))]


def _deliver(imap: DovecotServer, flood: list[tuple[Village, int]], threads: int
             ) -> dict[str, float]:
    """APPEND every complaint, `threads` villages at a time (one connection each, so Dovecot
    is not asked for hundreds at once); the wall-clock time of each APPEND by Message-ID."""
    delivered: dict[str, float] = {}
    lock = threading.Lock()
    by_village: dict[str, list[tuple[Village, int]]] = {}
    for village, n in flood:
        by_village.setdefault(village.inbox, []).append((village, n))
    queue = list(by_village.values())

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                part = queue.pop()
            box = imaplib.IMAP4(imap.host, imap.port)
            box.login(part[0][0].inbox, part[0][0].password)
            for village, n in part:
                message_id = f"<regency-{n}@warga.example>"
                raw = village_complaint(village, n, f"warga{n}@warga.example", message_id)
                box.append("INBOX", "", None, raw)  # type: ignore[arg-type]
                with lock:
                    delivered[f"mid:{message_id.lower()}"] = time.time()
            box.logout()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return delivered




def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _start(config: Path, workdir: Path, count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(
        [sys.executable, "-m", "mailflow", "--config", str(config), "run"], cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=(workdir / f"instance{i}.log").open("wb"),
        env={**os.environ, "MAILFLOW_CONFIG": "", "NOTIFY_SOCKET": "",
             "MAILFLOW_HOST": f"machine-{i}"}) for i in range(count)]


def _wait(condition: object, what: str, timeout: float) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)
    return time.monotonic() - started


def run(args: argparse.Namespace, workdir: Path) -> None:
    places = villages(args.mailboxes, PASSWORD)
    rng = random.Random(args.seed)
    with ExitStack() as stack:
        imap = DovecotServer(workdir / "dovecot", {v.inbox: PASSWORD for v in places}
                             | {INBOX: PASSWORD})
        imap.start()
        stack.callback(imap.stop, graceful=False)
        smtp = LoopbackSMTP(deliver=lambda _rcpt, _raw: None, knows=lambda _address: True)
        smtp.start()
        stack.callback(smtp.stop)
        sections: dict[str, dict[str, object]] = {
            "intake": {"poll_seconds": args.poll_seconds, "idle": False},
            "limits": {"resident_per_hour": 1000, "resident_per_day": 1000,
                       "staff_per_hour": 100000, "staff_per_day": 100000}}
        if args.database == "postgresql":
            cluster = PostgresCluster(workdir / "postgres")
            (workdir / "postgres").mkdir()
            cluster.initdb()
            cluster.start()
            stack.callback(cluster.stop)
            sections["database"] = {"url": cluster.url(cluster.create_database())}
        else:
            sections["database"] = {"url": f"sqlite:///{workdir / 'state' / 'mailflow.sqlite3'}"}
        config = regency_file(_World(imap, smtp), workdir, places, workdir / "regency.toml",
                              **sections)
        subprocess.run([sys.executable, "-m", "mailflow", "--config", str(config), "--mailbox",
                        places[0].name, "db", "upgrade"], cwd=ROOT, check=True,
                       capture_output=True, env={**os.environ, "MAILFLOW_CONFIG": ""})
        processes = _start(config, workdir, args.instances)
        for process in processes:
            stack.callback(_stop, process)
        fair = -(-args.mailboxes // args.instances)
        def split() -> bool:
            held = holders(config)
            return sum(held.values()) == args.mailboxes and max(held.values()) <= fair

        split_in = _wait(split, "the split", 300)
        print(f"split: {dict(sorted(holders(config).items()))} after {split_in:.1f}s "
              f"(fair share {fair})", flush=True)
        _measure(args, config, places, imap, rng, processes)


def _measure(args: argparse.Namespace, config: Path, places: list[Village],
             imap: DovecotServer, rng: random.Random,
             processes: list[subprocess.Popen[bytes]]) -> None:
    flood = _flood(places, args.complaints, rng)
    cfg = load_configs(config)[0]
    first = time.time()
    delivered = _deliver(imap, flood, args.deliver_threads)
    appended = time.time() - first
    # Counted on one engine, not read whole each time: the bench's own polling shares the
    # two cores with the instances it measures.
    engine = make_engine(cfg.database_url)
    count = select(func.count()).select_from(Ticket)

    def all_made() -> bool:
        with engine.connect() as conn:
            return int(conn.execute(count).scalar_one()) >= args.complaints

    _wait(all_made, "every ticket", args.timeout)
    engine.dispose()
    made = tickets(cfg)
    last = max(t.created_at.timestamp() for t in made)
    rate = len(made) / (last - first)
    by_box: dict[str, float] = {}
    for ticket in made:
        # The stored key may carry the village's scope ("D3:mid:<...>").
        sent = delivered.get(ticket.message_key[ticket.message_key.find("mid:"):])
        if sent is None:
            continue
        prefix = ticket.number.split("-")[0]
        by_box[prefix] = max(by_box.get(prefix, 0.0), ticket.created_at.timestamp() - sent)
    lags = list(by_box.values())
    if not lags:
        raise SystemExit("no ticket matched a delivered Message-ID; cannot measure the lag")
    per_box = Counter(v.prefix for v, _n in flood)
    slowest = max(by_box, key=lambda p: by_box[p])
    print(f"complaints: {args.complaints} over {len(per_box)} of {args.mailboxes} mailboxes "
          f"(busiest {per_box.most_common(1)[0][1]}, median "
          f"{statistics.median(per_box.values()):.0f}); appended in {appended:.1f}s")
    print(f"tickets: {len(made)} in {last - first:.1f}s = {rate:.1f} tickets/s "
          f"(first delivery to last ticket committed)")
    print(f"mailbox lag (APPEND to ticket, each mailbox's slowest): median "
          f"{statistics.median(lags):.1f}s, p95 {_percentile(lags, 0.95):.1f}s, slowest "
          f"{by_box[slowest]:.1f}s ({slowest}, {per_box[slowest]} complaints); poll every "
          f"{args.poll_seconds:g}s")
    print(f"split at the end: {dict(sorted(holders(config).items()))}")
    for i, process in enumerate(processes):
        print(f"instance machine-{i}: peak RSS {_peak_rss_mb(process.pid):.0f} MB "
              f"(target: under 60 MB per 10,000-complaint backlog, issue 10)")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=250)
    parser.add_argument("--complaints", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--deliver-threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not dovecot_available():
        print("Dovecot is not installed: run scripts/install-test-deps.sh as root")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="mailflow-regency-"))
    workdir.chmod(0o755)  # Dovecot's mail user must enter it
    print(f"regency: {args.mailboxes} mailboxes, {args.instances} instances, "
          f"{args.database}, {args.complaints} complaints; work directory {workdir}", flush=True)
    try:
        run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
