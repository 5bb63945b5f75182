"""The crash harness: real daemons killed at random moments while they work, then checked.

Several mailboxes (villages) on one private Dovecot, one shared database, and for each
mailbox one or more `mailflow run` processes. While complaints arrive (each from its own
resident, some delivered twice), a seeded random schedule SIGKILLs daemons and starts them
again, kills Dovecot and starts it on the same port, and makes the SMTP server refuse for
a while. Then everything is left to settle and the promises are checked from the outside:

- tickets equal the distinct complaints, per mailbox (none lost, none made twice);
- each resident got exactly one acknowledgement (one Message-ID; a resend of the same
  message after a kill between the server's "250" and the database's "sent" is counted
  and reported, since no SMTP client can close that window);
- every message in every mailbox has an intake record (nothing left untaken);
- nothing is left pending or parked in the outbox.

The seed fixes the complaints, the schedule of faults and every random choice; how far a
daemon got when the SIGKILL lands depends on timing, which is the point. A failing seed is
rerun with `bench/crash_harness.py --seed N` (the seed is printed with every result).
"""

from __future__ import annotations

import imaplib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from mailflow.config import Config
from mailflow.demo.mail import to_toml
from mailflow.demo.smtp import LoopbackSMTP
from mailflow.store.db import make_engine
from mailflow.store.models import IntakeRecord, OutboxMessage, Ticket
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.harness.postgres import PostgresCluster
from tests.harness.servers import DovecotServer
from tests.harness.village import ADMIN, INBOX, STAFF, complaint, config_for

ROOT = Path(__file__).resolve().parents[2]
#: Exit statuses a daemon may end with by itself, which systemd's Restart=on-failure answers
#: (the unit prevents a restart only for 78): 0 (stopped), 69 (the mail server unavailable at
#: start), 74 (the database unavailable at start: PostgreSQL being restarted), 75 (temporary
#: failure). Others, 70 above all, are bugs.
_EXPECTED_EXITS = {0, 69, 74, 75, -signal.SIGKILL, -signal.SIGTERM}
_PASSWORD = "chaos-pw"


@dataclass(frozen=True)
class ChaosPlan:
    """What one run does; `seed` decides everything random in it."""

    seed: int
    mailboxes: int = 2
    instances: int = 1  # daemons per mailbox, or fleets in all (`fleet`)
    # One configuration file with every mailbox as a [[mailboxes]] entry, served by `instances`
    # fleet processes (`mailflow run` without --mailbox, mailflow/fleet.py) that share them.
    fleet: bool = False
    complaints: int = 30  # in all, spread over the mailboxes
    duplicate_every: int = 5  # every n-th complaint is delivered twice
    chaos_seconds: float = 10.0
    pause: tuple[float, float] = (0.2, 1.2)  # between two faults
    imap_restarts: bool = True
    smtp_refusals: bool = True
    settle_seconds: float = 120.0
    #: "sqlite" (a file in the work directory) or "postgresql" (a private cluster there,
    #: which the faults then also kill and start again)
    database: str = "sqlite"


@dataclass
class ChaosResult:
    plan: ChaosPlan
    complaints: int = 0
    tickets: int = 0
    deliveries: int = 0
    kills: int = 0
    imap_restarts: int = 0
    smtp_refusals: int = 0
    database_restarts: int = 0
    own_exits: Counter[int] = field(default_factory=Counter)
    resent: int = 0
    # When each daemon was SIGKILLed and each database server crashed (time.monotonic()):
    # what may explain a message sent again (_check_received).
    kill_times: list[float] = field(default_factory=list)
    database_down: list[tuple[float, float]] = field(default_factory=list)  # (crashed, back)
    # Lines of the daemons' logs that are a bug's, not an outage's ("poll failed unexpectedly",
    # tracebacks): reported for a person to read, not a failure by themselves.
    unexpected_lines: int = 0
    settle_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        plan = self.plan
        exits = ", ".join(f"{code}x{n}" for code, n in sorted(self.own_exits.items())) or "none"
        verdict = "PASS" if self.ok else "FAIL"
        return (f"{verdict} seed={plan.seed} mailboxes={plan.mailboxes} "
                f"instances={plan.instances}{' fleets' if plan.fleet else ''} "
                f"complaints={self.complaints} "
                f"deliveries={self.deliveries} tickets={self.tickets} kills={self.kills} "
                f"imap_restarts={self.imap_restarts} smtp_refusals={self.smtp_refusals} "
                f"database={plan.database} database_restarts={self.database_restarts} "
                f"own_exits={exits} resent_acks={self.resent} "
                f"unexpected_log_lines={self.unexpected_lines} "
                f"settled_in={self.settle_seconds:.1f}s"
                + "".join(f"\n  problem: {p}" for p in self.problems))


@dataclass(frozen=True)
class _Complaint:
    mailbox: int
    resident: str
    raw: bytes
    copies: int


def inbox_of(mailbox: int) -> str:
    return INBOX if mailbox == 0 else f"pengaduan@desa{mailbox}.example"


def _complaints(plan: ChaosPlan, rng: random.Random) -> list[_Complaint]:
    made = []
    for n in range(plan.complaints):
        mailbox = rng.randrange(plan.mailboxes)
        resident = f"warga{n}@warga.example"
        body = (f"Lampu jalan nomor {n} di dusun {rng.choice(['Krajan', 'Ngasem', 'Sawahan'])} "
                f"padam sejak {rng.randint(2, 30)} hari. Mohon diperbaiki.\n")
        raw = complaint(sender=f"Warga {n} <{resident}>", body=body, to=inbox_of(mailbox),
                        message_id=f"<chaos-{plan.seed}-{n}@warga.example>")
        copies = 2 if plan.duplicate_every and n % plan.duplicate_every == 0 else 1
        made.append(_Complaint(mailbox, resident, raw, copies))
    return made


class _World:
    """What `config_for` reads, for one mailbox."""

    def __init__(self, imap: DovecotServer, smtp: LoopbackSMTP, inbox: str) -> None:
        self.imap_host, self.imap_port = imap.host, imap.port
        self.smtp_host, self.smtp_port = smtp.host, smtp.port
        self.users = {INBOX: _PASSWORD, inbox: _PASSWORD}


class _Instance:
    """One `mailflow run` process; started again after each kill, its log appended to."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mailflow", "--config", str(self.config), "run"],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env={**os.environ, "MAILFLOW_CONFIG": "", "NOTIFY_SOCKET": ""})

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class _Recorder:
    """The SMTP server's side: every accepted message, by recipient."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, bytes, float]] = []  # (recipient, message, when)

    def deliver(self, rcpt: str, raw: bytes) -> None:
        with self.lock:
            self.received.append((rcpt, raw, time.monotonic()))


def _configs(plan: ChaosPlan, workdir: Path, imap: DovecotServer, smtp: LoopbackSMTP,
             url: str) -> list[Config]:
    shared = workdir / "state"
    return [config_for(_World(imap, smtp, inbox_of(m)), workdir,
                       imap={"username": inbox_of(m), "password": _PASSWORD},
                       smtp={"from_address": inbox_of(m)},
                       tickets={"prefix": f"D{m}"},
                       storage={"directory": str(shared)}, database={"url": url},
                       intake={"poll_seconds": 1.0},
                       outbox={"first_retry_seconds": 1, "max_retry_seconds": 2,
                               "max_attempts": 100})
            for m in range(plan.mailboxes)]


@contextmanager
def _servers(workdir: Path, plan: ChaosPlan) -> Iterator[tuple[DovecotServer, LoopbackSMTP,
                                                                 _Recorder]]:
    users = {inbox_of(m): _PASSWORD for m in range(plan.mailboxes)}
    imap = DovecotServer(workdir / "dovecot", users)
    recorder = _Recorder()
    smtp = LoopbackSMTP(deliver=recorder.deliver, knows=lambda _address: True)
    imap.start()
    try:
        smtp.start()
        try:
            yield imap, smtp, recorder
        finally:
            smtp.stop()
    finally:
        imap.stop(graceful=False)


def _deliver_until_taken(imap: DovecotServer, user: str, raw: bytes, stop: threading.Event) -> None:
    """APPEND, retried while Dovecot is down (a restart may land in the middle)."""
    while not stop.is_set():
        try:
            imap.deliver(user, raw)
            return
        except (OSError, imaplib.IMAP4.error, RuntimeError):  # Dovecot is being restarted
            time.sleep(0.1)


def run_chaos(plan: ChaosPlan, workdir: Path, log: Callable[[str], None] = lambda _l: None
              ) -> ChaosResult:
    rng = random.Random(plan.seed)
    result = ChaosResult(plan)
    complaints = _complaints(plan, rng)
    result.complaints = len(complaints)
    result.deliveries = sum(c.copies for c in complaints)
    with _servers(workdir, plan) as (imap, smtp, recorder), _database(workdir, plan) as (url, pg):
        configs = _configs(plan, workdir, imap, smtp, url)
        instances = _instances(plan, configs, workdir)
        if pg is not None:
            # As README "PostgreSQL" has the administrator do: the schema is made once with
            # `mailflow db upgrade` before the instances start.
            subprocess.run([sys.executable, "-m", "mailflow", "--config",
                            str(instances[0].config), "db", "upgrade"], cwd=ROOT,
                           check=True, capture_output=True,
                           env={**os.environ, "MAILFLOW_CONFIG": ""})
        for instance in instances:
            instance.start()
        try:
            _chaos(plan, rng, complaints, _Faults(imap, smtp, pg), instances, result, log)
            started = time.monotonic()
            settled = _settle(configs, imap, instances, result, plan.settle_seconds)
            result.settle_seconds = time.monotonic() - started
            if not settled:
                result.problems.append(f"did not settle within {plan.settle_seconds:.0f} s")
        finally:
            for instance in instances:
                instance.stop()
        _check(configs, complaints, recorder, imap, result)
        _unexpected_exits(result, instances)
        result.unexpected_lines = sum(
            line.startswith("Traceback") or "failed unexpectedly" in line
            for instance in instances if instance.log.exists()
            for line in instance.log.read_text(errors="replace").splitlines())
    return result


def _instances(plan: ChaosPlan, configs: list[Config], workdir: Path) -> list[_Instance]:
    """The processes: per mailbox its own file and daemons, or one file and its fleets."""
    if not plan.fleet:
        instances = []
        for m, cfg in enumerate(configs):
            path = workdir / f"mailbox{m}.toml"
            path.write_text(to_toml(cfg.model_dump(mode="json")))
            instances += [_Instance(path, workdir / f"mailbox{m}-{i}.log")
                          for i in range(plan.instances)]
        return instances
    lines = [to_toml(configs[0].model_dump(mode="json"))]
    for m, cfg in enumerate(configs):
        lines += ["[[mailboxes]]", f'name = "m{m}"',
                  f"imap.username = {json.dumps(cfg.imap.username)}",
                  f"imap.password = {json.dumps(cfg.imap.password)}",
                  f"smtp.from_address = {json.dumps(cfg.smtp.from_address)}",
                  f"tickets.prefix = {json.dumps(cfg.tickets.prefix)}", ""]
    path = workdir / "regency.toml"
    path.write_text("\n".join(lines))
    return [_Instance(path, workdir / f"fleet-{i}.log") for i in range(plan.instances)]


@contextmanager
def _database(workdir: Path, plan: ChaosPlan) -> Iterator[tuple[str, PostgresCluster | None]]:
    """The shared database's URL, and the PostgreSQL cluster when there is one."""
    if plan.database == "sqlite":
        yield f"sqlite:///{workdir / 'state' / 'mailflow.sqlite3'}", None
        return
    cluster = PostgresCluster(workdir / "postgres")
    (workdir / "postgres").mkdir()
    try:
        cluster.initdb()
        cluster.start()
        yield cluster.url(cluster.create_database()), cluster
    finally:
        cluster.stop()


@dataclass(frozen=True)
class _Faults:
    imap: DovecotServer
    smtp: LoopbackSMTP
    pg: PostgresCluster | None


def _chaos(plan: ChaosPlan, rng: random.Random, complaints: list[_Complaint], faults: _Faults,
           instances: list[_Instance], result: ChaosResult, log: Callable[[str], None]) -> None:
    """Deliver the complaints at random moments while faults happen at others."""
    imap, smtp = faults.imap, faults.smtp
    stop = threading.Event()
    deliveries = [(c, copy) for c in complaints for copy in range(c.copies)]
    rng.shuffle(deliveries)
    # Delivered over the first two thirds of the chaos, at seeded moments.
    moments = sorted(rng.uniform(0, plan.chaos_seconds * 2 / 3) for _ in deliveries)

    def feed() -> None:
        begun = time.monotonic()
        for moment, (item, _copy) in zip(moments, deliveries, strict=True):
            time.sleep(max(0.0, begun + moment - time.monotonic()))
            _deliver_until_taken(imap, inbox_of(item.mailbox), item.raw, stop)

    feeder = threading.Thread(target=feed, name="chaos-feeder", daemon=True)
    feeder.start()
    actions = (["kill"] * 6 + ["imap"] * plan.imap_restarts + ["smtp"] * plan.smtp_refusals * 2
               + ["database"] * (faults.pg is not None))
    deadline = time.monotonic() + plan.chaos_seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(*plan.pause))
            _restart_exited(instances, result)
            action = rng.choice(actions)
            if action == "kill":
                victim = rng.choice(instances)
                victim.kill()
                result.kills += 1
                result.kill_times.append(time.monotonic())
                time.sleep(rng.uniform(0, 0.5))
                victim.start()
            elif action == "database" and faults.pg is not None:
                crashed = time.monotonic()
                faults.pg.kill()
                result.database_restarts += 1
                time.sleep(rng.uniform(0.1, 1.0))
                faults.pg.start()
                result.database_down.append((crashed, time.monotonic()))
            elif action == "imap":
                imap.stop(graceful=False)
                result.imap_restarts += 1
                time.sleep(rng.uniform(0.1, 1.0))
                imap.start()
            else:
                smtp.tempfail = True
                result.smtp_refusals += 1
                time.sleep(rng.uniform(0.3, 1.5))
                smtp.tempfail = False
            log(f"seed={plan.seed} {action}")
        feeder.join(timeout=120)
    finally:
        stop.set()
        smtp.tempfail = False
        if not imap.running:
            imap.start()
        if faults.pg is not None and faults.pg.pid is None:
            faults.pg.start()


def _restart_exited(instances: list[_Instance], result: ChaosResult) -> None:
    """A daemon that ended by itself is started again, as systemd's Restart= would."""
    for instance in instances:
        code = instance.exited()
        if code is not None:
            result.own_exits[code] += 1
            instance.start()


def _settle(configs: list[Config], imap: DovecotServer, instances: list[_Instance],
            result: ChaosResult, seconds: float) -> bool:
    """Until every message has an intake record and the outbox is empty of pending mail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _restart_exited(instances, result)
        try:
            if _untaken(configs, imap) == [] and _pending(configs[0]) == 0:
                return True
        except DBAPIError:
            pass  # no daemon has created the database yet (a slow or killed first start)
        time.sleep(0.5)
    return False


def _engine(cfg: Config) -> Any:
    return make_engine(cfg.database_url)


def _untaken(configs: list[Config], imap: DovecotServer) -> list[str]:
    """`mailbox:uid` of each message that has no intake record."""
    missing = []
    engine = _engine(configs[0])
    with Session(engine) as session:
        taken = set(session.exec(select(IntakeRecord.mailbox, IntakeRecord.uid)).all())
    engine.dispose()
    for cfg in configs:
        key = f"{cfg.imap.username}@{cfg.imap.host}/{cfg.imap.folder}"
        for uid in _uids(imap, cfg.imap.username):
            if (key, uid) not in taken:
                missing.append(f"{cfg.imap.username}:{uid}")
    return missing


def _uids(imap: DovecotServer, user: str) -> list[int]:

    client = imaplib.IMAP4(imap.host, imap.port, timeout=30)
    try:
        client.login(user, _PASSWORD)
        client.select("INBOX", readonly=True)
        _typ, data = client.uid("SEARCH", "ALL")
        return [int(u) for u in (data[0] or b"").split()]
    finally:
        with suppress(Exception):
            client.logout()


def _pending(cfg: Config) -> int:
    engine = _engine(cfg)
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.state != OutboxState.SENT)).one()
    engine.dispose()
    return count


def _check(configs: list[Config], complaints: list[_Complaint], recorder: _Recorder,
           imap: DovecotServer, result: ChaosResult) -> None:
    problems = result.problems
    engine = _engine(configs[0])
    with Session(engine) as session:
        tickets = list(session.exec(select(Ticket)).all())
        acks = list(session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.ACK)).all())
    engine.dispose()
    result.tickets = len(tickets)
    by_prefix = Counter(t.number.split("-", 1)[0] for t in tickets)
    wanted = Counter(f"D{c.mailbox}" for c in complaints)
    if by_prefix != wanted:
        problems.append(f"tickets per mailbox {dict(by_prefix)} != complaints {dict(wanted)}")
    acks_per_ticket = Counter(a.ticket_id for a in acks)
    if any(n != 1 for n in acks_per_ticket.values()) or len(acks_per_ticket) != len(tickets):
        problems.append(f"acknowledgement rows per ticket: {sorted(acks_per_ticket.values())}")
    stuck = _pending(configs[0])
    if stuck:
        problems.append(f"{stuck} outbox row(s) not sent")
    untaken = _untaken(configs, imap)
    if untaken:
        problems.append(f"untaken messages: {untaken[:10]}")
    _check_received(complaints, recorder, result)


# How long after a message was accepted a fault can still make it go again: the daemon's
# "sent" commit follows the SMTP server's 250 within milliseconds, and on PostgreSQL that
# commit does not wait for the WAL flush, so a server crash forgets at most its last 0.6 s
# of them (3 x wal_writer_delay; store/outbox_queries.py).
RESEND_WINDOW = 2.0


def _check_received(complaints: list[_Complaint], recorder: _Recorder,
                    result: ChaosResult) -> None:
    """Each resident got one acknowledgement: one Message-ID, however often it arrived; and
    every time it arrived again, a fault just after the time before explains it."""
    parser = BytesHeaderParser()
    arrivals: dict[str, list[tuple[float, str]]] = defaultdict(list)
    residents = {c.resident for c in complaints}
    staff = {member["email"] for member in STAFF} | {ADMIN}
    with recorder.lock:
        received = list(recorder.received)
    for rcpt, raw, when in received:
        if rcpt in residents:
            arrivals[rcpt].append((when, parser.parsebytes(raw).get("Message-ID", "")))
        elif rcpt not in staff:
            result.problems.append(f"mail to an unexpected address: {rcpt}")
    kills = sorted(result.kill_times)
    for resident in sorted(residents):
        seen = sorted(arrivals.get(resident, []))
        if len({message_id for _, message_id in seen}) != 1:
            result.problems.append(f"{resident} got {len({m for _, m in seen})} distinct "
                                   "acknowledgements")
        for (before, _), (again, _) in itertools.pairwise(seen):
            result.resent += 1
            if not _explained(before, again, kills, result.database_down):
                result.problems.append(
                    f"{resident}'s acknowledgement was sent again {again - before:.1f} s later "
                    "with no kill or database crash in between to explain it: mail was sent "
                    "twice")


def _explained(before: float, again: float, kills: list[float],
               database_down: list[tuple[float, float]]) -> bool:
    """Whether a fault soon after the first of two arrivals of one message explains the
    second. A SIGKILLed daemon had at most one message in flight, so each kill explains one
    resend (`kills` loses it). A database crash may forget the outcomes of its last fraction
    of a second, and while it is down no outcome is written: it explains every message
    accepted just before it or while it was down."""
    latest = min(again, before + RESEND_WINDOW)
    if any(crashed <= latest and before <= back for crashed, back in database_down):
        return True
    for index, kill in enumerate(kills):
        if before <= kill <= latest:
            del kills[index]
            return True
    return False


def _unexpected_exits(result: ChaosResult, instances: list[_Instance]) -> None:
    for code in result.own_exits:
        if code not in _EXPECTED_EXITS:
            tails = "\n".join(i.log.read_text(errors="replace")[-1500:] for i in instances)
            result.problems.append(f"a daemon exited with status {code}; logs end:\n{tails}")
            return
