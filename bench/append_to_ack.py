"""How long a resident waits for the acknowledgement: IMAP APPEND -> ack accepted by SMTP.

Starts a private Dovecot and a loopback SMTP server, runs the real daemon (`mailflow run`,
a process of its own, as systemd runs it), then APPENDs one complaint at a time (each from
another resident, with its own text) and times how long until the daemon's acknowledgement
to that resident reaches the SMTP server. Prints the median, the 90th percentile and the
maximum. With IMAP IDLE (the default) the target is a median under 2 s; `--no-idle` shows
what polling alone gives with the same `--poll-seconds`.

Run with `make bench` (needs Dovecot; `scripts/install-test-deps.sh` installs it as root).
"""

from __future__ import annotations

import argparse
import imaplib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a script, so the checkout's root is not on the path; it holds the test harness.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.demo.mail import to_toml
from mailflow.demo.smtp import LoopbackSMTP
from tests.harness.servers import DovecotServer, dovecot_available
from tests.harness.village import COMPLETE_BODY, INBOX, complaint, config_for

ROOT = Path(__file__).resolve().parents[1]
WAIT_LIMIT = 120.0  # seconds for one acknowledgement before the bench gives up


class _World:
    """Just what `config_for` reads."""

    def __init__(self, imap: DovecotServer, smtp: LoopbackSMTP, users: dict[str, str]) -> None:
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp_host, self.smtp_port = smtp.host, smtp.port
        self.users = users


class _Arrivals:
    """When the SMTP server accepted mail for each recipient (monotonic seconds)."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._changed = threading.Condition()

    def deliver(self, address: str, _raw: bytes) -> None:
        with self._changed:
            self._seen.setdefault(address.lower(), time.monotonic())
            self._changed.notify_all()

    def wait_for(self, address: str, timeout: float) -> float:
        with self._changed:
            if not self._changed.wait_for(lambda: address in self._seen, timeout):
                raise TimeoutError(f"no acknowledgement to {address} within {timeout:g} s")
            return self._seen[address]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MAILFLOW_CONFIG": ""}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.Popen([sys.executable, "-m", "mailflow", "--config", str(config), "run"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env)


def _measure(imap: DovecotServer, password: str, arrivals: _Arrivals, count: int) -> list[float]:
    client = imaplib.IMAP4(imap.host, imap.port)
    client.login(INBOX, password)
    latencies = []
    try:
        for n in range(count):
            resident = f"warga{n}@warga.example"
            raw = complaint(sender=f"Warga {n} <{resident}>",
                            body=COMPLETE_BODY + f"\nLaporan nomor {n} dari RT {n % 9 + 1}.\n")
            started = time.monotonic()
            client.append("INBOX", None, None, raw)
            latencies.append(arrivals.wait_for(resident, WAIT_LIMIT) - started)
            time.sleep(0.2)  # let the daemon settle back into its wait
    finally:
        client.logout()
    return latencies


def run(count: int, idle: bool, poll_seconds: float, database_url: str = "",
        json_path: str = "") -> int:
    users = {INBOX: "bench"}
    arrivals = _Arrivals()
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        Path(tmp).chmod(0o755)  # Dovecot's unprivileged processes must reach the mail
        imap = DovecotServer(Path(tmp) / "dovecot", users)
        imap.start()
        smtp = LoopbackSMTP(deliver=arrivals.deliver, knows=lambda _address: True)
        smtp.start()
        cfg = config_for(_World(imap, smtp, users), Path(tmp),
                         intake={"poll_seconds": poll_seconds, "idle": idle},
                         limits={"resident_per_hour": 1000, "resident_per_day": 1000,
                                 "staff_per_hour": 1000, "staff_per_day": 1000},
                         database={"url": database_url} if database_url else {})
        config = Path(tmp) / "config.toml"
        config.write_text(to_toml(cfg.model_dump(mode="json")))
        log = Path(tmp) / "daemon.log"
        daemon = _start_daemon(config, log)
        try:
            time.sleep(3.0)  # start-up: imports, the database, the first pass
            if daemon.poll() is not None:
                print(f"bench: the daemon exited:\n{log.read_text()}", file=sys.stderr)
                return 70
            latencies = _measure(imap, users[INBOX], arrivals, count)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
            smtp.stop()
            imap.stop()
    print(f"APPEND -> acknowledgement accepted by SMTP, {count} complaints, "
          f"{'IDLE' if idle else 'no IDLE'}, poll_seconds {poll_seconds:g}: "
          f"median {statistics.median(latencies):.3f} s | p90 {_percentile(latencies, 0.9):.3f} s"
          f" | max {max(latencies):.3f} s")
    if json_path:  # for bench/issue10.py
        Path(json_path).write_text(json.dumps({
            "count": count, "idle": idle, "poll_seconds": poll_seconds,
            "median_s": statistics.median(latencies), "p90_s": _percentile(latencies, 0.9),
            "max_s": max(latencies)}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="complaints to append (20)")
    parser.add_argument("--no-idle", action="store_true", help="poll only, no IMAP IDLE")
    parser.add_argument("--poll-seconds", type=float, default=60.0,
                        help="[intake] poll_seconds of the daemon (60, the default)")
    parser.add_argument("--database-url", default="",
                        help="an empty database for the daemon (default a fresh SQLite file)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    if not dovecot_available():
        print("bench: Dovecot is not installed (run scripts/install-test-deps.sh as root)",
              file=sys.stderr)
        return 69
    return run(args.count, not args.no_idle, args.poll_seconds, args.database_url, args.json)


if __name__ == "__main__":
    sys.exit(main())
