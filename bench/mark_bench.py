"""What marking taken messages costs, and how many commands it sends (issue 10).

Fills a private Dovecot inbox with `--messages` small messages, records some of them as
taken (every other UID: the scattered case of a mailbox where complaints are mixed with
other mail; or all of them: the contiguous case), and times the marking step alone with a
keyword, counting the commands sent and the longest command line. A backlog far larger
than the mailbox (`--backlog`, UIDs that need not exist: the server reads the command line
all the same) shows the commands stay bounded where one STORE with every UID was refused
(`BAD ... Too long argument` over Dovecot's 64 kB).

    .venv/bin/python bench/mark_bench.py --messages 6000 --backlog 80000

Works on the code before issue 10's fix too (it calls whichever marking step exists).
"""

from __future__ import annotations

import argparse
import imaplib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.adapters.clock import FixedClock
from mailflow.demo.smtp import LoopbackSMTP
from mailflow.service import Service
from mailflow.store.db import Session
from mailflow.store.models import IntakeRecord
from mailflow.vocabulary import IntakeOutcome
from tests.harness.servers import DovecotServer, dovecot_available
from tests.harness.village import INBOX, config_for


class _World:
    """Just what `config_for` reads."""

    def __init__(self, imap: DovecotServer, smtp: LoopbackSMTP, users: dict[str, str]) -> None:
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp_host, self.smtp_port = smtp.host, smtp.port
        self.users = users


def _fill_plain(imap: DovecotServer, password: str, count: int) -> float:
    """`count` small messages by APPEND over one connection (Dovecot: about 200 a second)."""
    started = time.perf_counter()
    client = imaplib.IMAP4(imap.host, imap.port)
    client.login(INBOX, password)
    for n in range(count):
        client.append("INBOX", None, None, b"Subject: info %d\r\n\r\nx\r\n" % n)
    client.logout()
    return time.perf_counter() - started


def _mark_step(service: Service) -> Callable[[Any], object]:
    marker = getattr(service.intake, "marker", None)
    if marker is not None:
        return marker.mark_pending  # type: ignore[no-any-return]
    return service.intake._mark_pending  # type: ignore[attr-defined,no-any-return]


def _case(service: Service, uids: list[int]) -> tuple[float, int, int, str]:
    """Record `uids` as taken, then time the marking: seconds, commands, longest line, error."""
    sent: list[int] = []
    error = ""
    with service.source.session() as imap:
        client = imap.client
        client.uid("STORE", "1:*", "-FLAGS.SILENT", "($MailflowTaken)")  # a fresh start
        with Session(service.engine) as session:
            session.exec(IntakeRecord.__table__.delete())  # type: ignore[attr-defined]
            session.add_all(IntakeRecord(mailbox=imap.mailbox_key, uidvalidity=imap.uidvalidity,
                                         uid=uid, message_key=f"k{uid}",
                                         decision=IntakeOutcome.TICKET,
                                         created_at=service.clock()) for uid in uids)
            session.commit()
        real_uid = client.uid

        def counted(command: str, *args: Any) -> Any:
            sent.append(len(" ".join(str(a) for a in (command, *args))))
            return real_uid(command, *args)

        client.uid = counted
        started = time.perf_counter()
        try:
            _mark_step(service)(imap)
        except Exception as exc:  # noqa: BLE001 - the code before the fix raised here
            error = f"{type(exc).__name__}: {str(exc)[:90]}"
        elapsed = time.perf_counter() - started
        client.uid = real_uid
    return elapsed, len(sent), max(sent, default=0), error


def run(messages: int, backlog: int) -> None:
    users = {INBOX: "bench"}
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        Path(tmp).chmod(0o755)
        imap = DovecotServer(Path(tmp) / "dovecot", users)
        imap.start()
        smtp = LoopbackSMTP(deliver=lambda _user, _raw: None, knows=lambda _addr: True)
        smtp.start()
        try:
            fill = _fill_plain(imap, users[INBOX], messages)
            print(f"inbox of {messages} messages filled in {fill:.1f} s")
            clock = FixedClock(datetime(2026, 11, 27, 3, 0, tzinfo=UTC))
            service = Service(config_for(_World(imap, smtp, users), Path(tmp)), clock=clock)
            cases = {
                f"scattered {messages // 2} (every other UID)": list(range(2, messages + 1, 2)),
                f"contiguous {messages}": list(range(1, messages + 1)),
                f"backlog {backlog} scattered (mostly gone)": list(range(2, 2 * backlog + 1, 2)),
            }
            for name, uids in cases.items():
                elapsed, commands, longest, error = _case(service, uids)
                print(f"{name:<42} {elapsed * 1000:8.1f} ms  {len(uids) / elapsed:9.0f} msg/s  "
                      f"{commands:4d} commands, longest {longest:6d} bytes  {error}")
            service.engine.dispose()
        finally:
            smtp.stop()
            imap.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--backlog", type=int, default=80000)
    args = parser.parse_args()
    if not dovecot_available():
        print("bench: Dovecot is not installed (run scripts/install-test-deps.sh as root)",
              file=sys.stderr)
        return 69
    run(args.messages, args.backlog)
    return 0


if __name__ == "__main__":
    sys.exit(main())
