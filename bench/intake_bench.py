"""Intake throughput side by side (issue 10): raw IMAP, imap-tools, and mailflow's intake.

Starts a private Dovecot, APPENDs `--messages` messages (mostly complaints from many
residents with varied bodies, some other mail), then in one run against the same mailbox:

- raw `UID FETCH 1:* (BODY.PEEK[])` through imaplib (the mail server's limit);
- imap-tools `fetch(bulk=500, mark_seen=False)` (what a plain IMAP client gets), each the
  median of ROUNDS fetches; then the CPU of reading, through imap-tools' accessors, what
  any intake must read of each message;
- mailflow's intake pass (`poll --once` without the outbox: tickets committed with their
  acknowledgement and notification queued, not sent), in a subprocess whose peak RSS is
  reported.

    .venv/bin/python bench/intake_bench.py                      # 2,000 messages
    .venv/bin/python bench/intake_bench.py --backlog 10000      # the 60 MB target
    .venv/bin/python bench/intake_bench.py --attachment-mb 25   # the 100 MB target
    .venv/bin/python bench/intake_bench.py --profile 25         # cProfile's top items
    MAILFLOW_PROFILE_OUT=/tmp/intake.prof .venv/bin/python bench/intake_bench.py --profile 1
                                                  # ... and the whole profile, for pstats

Targets: mailflow >= 0.5 x imap-tools; peak RSS < 60 MB over 10,000 complaints, < 100 MB with
one 25 MB attachment. Beside the peak RSS it prints the floor under it: a fresh interpreter
that imports the design card's libraries (and psycopg on PostgreSQL) and nothing else. Needs
Dovecot (`scripts/install-test-deps.sh`).
"""

from __future__ import annotations

import argparse
import imaplib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness.fresh import printed_by
from tests.harness.village import INBOX, SENT_AT, complaint, config_for

NON_COMPLAINT_EVERY = 6  # one message in six is other mail (about 1,666 of 2,000 complaints)
_PLACES = ["Krajan", "Ngablak", "Sidomulyo", "Gondang", "Karangrejo", "Wonosari", "Tegalsari"]
_TOPICS = ["jalan berlubang", "lampu jalan mati", "saluran air tersumbat", "sampah menumpuk",
           "jembatan retak", "air PDAM keruh", "pohon tumbang", "bantuan sosial belum cair"]
# Residents' names, 41 x 43 of them: each complaint's reporter has a name of their own (as in a
# village's mail, where the name patterns that hide it are new for most tickets), made of
# given names and family names that recur.
_GIVEN = ["Siti", "Budi", "Agus", "Sri", "Dwi", "Eko", "Joko", "Wahyu", "Rina", "Dewi", "Slamet",
          "Tri", "Yuli", "Bambang", "Endang", "Heru", "Lestari", "Sugeng", "Suparmi", "Teguh",
          "Wulan", "Yanto", "Ani", "Rudi", "Sukarni", "Darmo", "Ratna", "Hadi", "Puji", "Nur",
          "Fitri", "Indah", "Arif", "Kartini", "Supri", "Tumini", "Parno", "Marsih", "Giyanto",
          "Sumarni", "Paijo"]
_FAMILY = ["Aminah", "Santoso", "Rahayu", "Wibowo", "Lestari", "Susanto", "Handayani", "Prasetyo",
           "Wahyuni", "Setiawan", "Kurniawan", "Purnomo", "Suryani", "Hartono", "Utami", "Nugroho",
           "Saputra", "Mulyani", "Hidayat", "Sulistyo", "Wijaya", "Rahmawati", "Sutrisno",
           "Haryanto", "Pratiwi", "Gunawan", "Suharto", "Ningsih", "Firmansyah", "Yulianti",
           "Budiman", "Kusuma", "Permana", "Astuti", "Riyanto", "Safitri", "Hermawan", "Anggraini",
           "Suwarno", "Maryati", "Purwanto", "Sumarno", "Widodo"]


class _World:
    """Just what `config_for` reads."""

    def __init__(self, host: str, imap_port: int, smtp_port: int, password: str) -> None:
        self.imap_host = self.smtp_host = host
        self.imap_port, self.smtp_port = imap_port, smtp_port
        self.users = {INBOX: password}


def _message(n: int) -> bytes:
    name = f"{_GIVEN[n % len(_GIVEN)]} {_FAMILY[(n // len(_GIVEN)) % len(_FAMILY)]}"
    sender = f"{name} <warga{n}@warga{n % 97}.example>"
    if n % NON_COMPLAINT_EVERY == 5:
        return complaint(sender=sender, subject=f"Info kegiatan posyandu {n}",
                         body=f"Jadwal kegiatan {n} minggu depan.\n")
    place, topic = _PLACES[n % len(_PLACES)], _TOPICS[(n // 7) % len(_TOPICS)]
    body = (f"Nama: {name}\nNIK: 33221145{n:08d}\nAlamat: Dusun {place} RT {n % 9 + 1:02d}"
            f"/RW {n % 5 + 1:02d}\nNo. HP: 0812-{n % 10000:04d}-{(n * 7) % 10000:04d}\n\n"
            f"Mohon perhatian: {topic} di dusun {place} sejak {n % 28 + 1} hari yang lalu.\n"
            + "Warga sudah melapor ke ketua RT tetapi belum ada tindak lanjut. " * (1 + n % 5)
            + "\nTerima kasih.\n")
    return complaint(sender=sender, subject="Pengaduan Masyarakat", body=body)


def _with_attachment(megabytes: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Warga Lampiran <lampiran@warga.example>"
    msg["To"] = INBOX
    msg["Subject"] = "Pengaduan Masyarakat"
    msg["Date"] = SENT_AT.strftime("%a, %d %b %Y %H:%M:%S +0000")
    msg["Message-ID"] = "<lampiran@warga.example>"
    msg.set_content("Nama: Warga Lampiran\nAlamat: Dusun Krajan\n\nFoto jalan rusak terlampir.\n")
    data = bytes(range(256)) * (megabytes * 4096)
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename="foto.bin")
    return msg.as_bytes()


def _fill(host: str, port: int, password: str, count: int, attachment_mb: int) -> float:
    started = time.perf_counter()
    client = imaplib.IMAP4(host, port)
    client.login(INBOX, password)
    if attachment_mb:
        client.append("INBOX", None, None, _with_attachment(attachment_mb))
    for n in range(count):
        client.append("INBOX", None, None, _message(n))
    client.logout()
    return time.perf_counter() - started


# A fetch of 2,000 small messages over loopback takes a tenth of a second or less, so one
# reading moves by half with whatever else the machine does: each fetch is timed ROUNDS times
# and its median taken (bench/README.md, round 10).
ROUNDS = 5


def _median_of_rounds(fetch: Callable[[], int]) -> tuple[int, float]:
    """What `fetch` returns (the messages it fetched) and the median of ROUNDS timings."""
    times, count = [], 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        count = fetch()
        times.append(time.perf_counter() - started)
    return count, statistics.median(times)


def _raw_fetch(host: str, port: int, password: str) -> tuple[int, float]:
    """The count and the median time of `UID FETCH 1:* (BODY.PEEK[])` through imaplib."""
    client = imaplib.IMAP4(host, port)
    client.login(INBOX, password)
    client.select("INBOX", readonly=True)

    def fetch() -> int:
        _typ, data = client.uid("FETCH", "1:*", "(BODY.PEEK[])")
        return sum(1 for item in data if isinstance(item, tuple))

    count, median = _median_of_rounds(fetch)
    client.logout()
    return count, median


def _imap_tools(host: str, port: int, password: str) -> tuple[int, float, float]:
    """imap-tools' bulk fetch: the count, the median time of ROUNDS fetches, and the CPU per
    message of reading, through imap-tools' own accessors, what any intake must read of a
    message (timed in one more fetch, apart from the fetching)."""
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(host, port).login(INBOX, password, initial_folder="INBOX") as box:
        count, median = _median_of_rounds(
            lambda: sum(1 for _ in box.fetch(bulk=500, mark_seen=False)))
        reading = 0.0
        for message in box.fetch(bulk=500, mark_seen=False):
            started = time.process_time()
            _read(message)
            reading += time.process_time() - started
    return count, median, reading / max(count, 1) * 1e6


def _read(message: Any) -> tuple[Any, ...]:
    """What every intake reads of a message, however little it does with it: who sent it and
    to whom, its subject and date, the ids that thread it, its text, and its attachments."""
    text = message.text or message.html
    files = [(a.filename, a.content_type, len(a.payload)) for a in message.attachments]
    return (message.from_values, message.to_values, message.subject, message.date,
            message.headers.get("message-id"), message.headers.get("in-reply-to"),
            message.headers.get("references"), text, files)


def _peak_rss_mb() -> float:
    """This process's peak RSS. Not getrusage's ru_maxrss: Linux carries over into it the
    RSS the process had before exec, that is the parent's at fork (here the parent has just
    fetched the whole mailbox twice). VmHWM is the peak of this program's memory alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The design card's libraries, and the database driver: what any mailflow process loads
# before a line of its own runs. Imported alone in a fresh interpreter, their peak RSS is the
# floor under the memory targets (how much of the 60 MB is left for mailflow at all).
_STACK = ("sqlmodel", "sqlalchemy.orm", "jinja2", "holidays", "imap_tools", "aiosmtplib",
          "email.policy")


def _stack(database_url: str) -> list[str]:
    return [*_STACK, *(["psycopg"] if database_url.startswith("postgresql") else [])]


def _stack_rss_mb(database_url: str) -> float:
    """Peak RSS of a fresh interpreter that imports the stack and nothing else."""
    code = (f"import {', '.join(_stack(database_url))}\n"
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    return int(printed_by(code)[-1]) / 1024


def _rows_floor(database_url: str, complaints: int) -> dict[str, float]:
    """bench/rows_floor.py in a fresh process: the CPU to write each complaint's rows alone
    (on PostgreSQL into the database the pass used, beside its rows)."""
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "from rows_floor import rows_floor\n"
            f"print(json.dumps(rows_floor({database_url!r}, {max(complaints, 1)})))")
    return json.loads(printed_by(code)[-1])  # type: ignore[no-any-return]


def _child(spec: dict[str, Any]) -> None:
    """The mailflow side: one intake pass in a fresh process, so its peak RSS is its own."""
    from mailflow.service import Service

    world = _World(spec["host"], spec["imap_port"], spec["smtp_port"], spec["password"])
    # Staff limits out of the way: every ticket queues its notification, as the target says;
    # the attachment, if any, within the limit so that it is stored, not dropped.
    storage = {"max_attachment_bytes": (spec["attachment_mb"] + 8) << 20}
    database = {"url": spec["database_url"]} if spec.get("database_url") else {}
    cfg = config_for(world, Path(spec["tmp"]), limits={
        "staff_per_hour": 10_000_000, "staff_per_day": 10_000_000},
        storage=storage if spec["attachment_mb"] else {}, database=database)
    if spec.get("create"):
        # The database is made by a process of its own, as a daemon restarted on it finds
        # it: creating it imports Alembic, which a start on a database at head does not.
        from mailflow.store.migrate import open_database

        open_database(cfg.database_url).dispose()
        return
    service = Service(cfg)
    ready_mb = _peak_rss_mb()  # interpreter, libraries, templates, word lists: before the pass
    profile = None
    if spec["profile"]:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    if spec.get("tracemalloc"):
        import tracemalloc

        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = service.poll_once(outbox=False)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if spec.get("tracemalloc"):
        # What the pass left allocated (grows with the backlog if anything does), and its peak.
        after = tracemalloc.take_snapshot()
        sys.stderr.write(f"tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MB\n")
        for stat in after.compare_to(before, "traceback")[:spec["tracemalloc"]]:
            sys.stderr.write(f"{stat}\n" + "\n".join(stat.traceback.format()[-6:]) + "\n")
    if profile is not None:
        import pstats

        profile.disable()
        if os.environ.get("MAILFLOW_PROFILE_OUT"):
            profile.dump_stats(os.environ["MAILFLOW_PROFILE_OUT"])
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(spec["profile"])
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(
            spec["profile"])
    stats = result.intake
    from sqlalchemy import func, select

    from mailflow.store.db import Session
    from mailflow.store.models import OutboxMessage

    with Session(service.engine) as session:
        queued = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    print(json.dumps({
        "seconds": elapsed, "cpu_seconds": cpu, "examined": stats.examined if stats else 0,
        "tickets": stats.tickets if stats else 0, "quarantined": stats.quarantined if stats else 0,
        "outbox": queued, "error": result.imap_error or result.storage_error,
        "peak_rss_mb": _peak_rss_mb(), "ready_rss_mb": ready_mb,
    }))


def _mailflow(spec: dict[str, Any]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "MAILFLOW_TEST_DB"}  # not config_for's
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"bench: the mailflow pass failed (exit {done.returncode})")
    if spec["profile"] or spec.get("tracemalloc"):
        sys.stderr.write(done.stderr)
    if spec.get("create"):
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(args: argparse.Namespace) -> None:
    from mailflow.demo.smtp import LoopbackSMTP
    from tests.harness.servers import DovecotServer

    count = args.backlog or args.messages
    password = "bench"
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        Path(tmp).chmod(0o755)  # Dovecot's unprivileged processes must reach the mail
        imap = DovecotServer(Path(tmp) / "dovecot", {INBOX: password})
        imap.start()
        smtp = LoopbackSMTP(deliver=lambda _user, _raw: None, knows=lambda _addr: True)
        smtp.start()
        try:
            fill = _fill(imap.host, imap.port, password, count, args.attachment_mb)
            total = count + (1 if args.attachment_mb else 0)
            print(f"mailbox: {total} messages appended in {fill:.1f} s "
                  f"({total - count // NON_COMPLAINT_EVERY} complaints"
                  f"{f', one with a {args.attachment_mb} MB attachment' if args.attachment_mb else ''})")
            raw_n, raw_s = _raw_fetch(imap.host, imap.port, password)
            tools_n, tools_s, read_us = _imap_tools(imap.host, imap.port, password)
            spec = {"host": imap.host, "imap_port": imap.port, "smtp_port": smtp.port,
                    "password": password, "tmp": tmp, "profile": args.profile,
                    "attachment_mb": args.attachment_mb, "tracemalloc": args.tracemalloc,
                    "database_url": args.database_url}
            _mailflow({**spec, "create": True, "profile": 0})
            flow = _mailflow(spec)
            flow["stack_rss_mb"] = _stack_rss_mb(args.database_url)
            flow["rows_floor"] = _rows_floor(args.database_url, flow["tickets"])
        finally:
            smtp.stop()
            imap.stop()
    raw_rate, tools_rate = raw_n / raw_s, tools_n / tools_s
    flow_rate = flow["examined"] / flow["seconds"]
    ticket_rate = flow["tickets"] / flow["seconds"]
    print(f"raw UID FETCH 1:* (BODY.PEEK[])    {raw_n:6d} msg in {raw_s:7.2f} s  "
          f"{raw_rate:9.0f} msg/s  (median of {ROUNDS})")
    print(f"imap-tools fetch(bulk=500)         {tools_n:6d} msg in {tools_s:7.2f} s  "
          f"{tools_rate:9.0f} msg/s  (median of {ROUNDS})")
    print(f"mailflow intake pass               {flow['examined']:6d} msg in {flow['seconds']:7.2f} s  "
          f"{flow_rate:9.0f} msg/s  ({flow['tickets']} tickets: {ticket_rate:.0f} tickets/s; "
          f"{flow['outbox']} outbox rows queued; {flow['quarantined']} quarantined)")
    # The CPU the pass used: what its rate is on a machine that other work does not share.
    print(f"  mailflow CPU time {flow['cpu_seconds']:.2f} s: "
          f"{flow['examined'] / flow['cpu_seconds']:.0f} msg per CPU second, "
          f"{flow['tickets'] / flow['cpu_seconds']:.0f} tickets per CPU second")
    if flow["error"]:
        print(f"  mailflow pass error: {flow['error']}")
    print(f"ratio mailflow/imap-tools          {flow_rate / tools_rate:9.2f}   (target >= 0.5)")
    print(f"ratio mailflow/raw fetch           {flow_rate / raw_rate:9.3f}")
    # What 0.5 x imap-tools leaves for everything but the fetch itself, beside what the pass
    # spends: the gap in time per message, which a profile then divides among the stages.
    budget_us = (1 / (0.5 * tools_rate) - 1 / tools_rate) * 1e6
    print(f"  0.5 x imap-tools leaves {budget_us:.0f} us per message beyond the fetch; the pass "
          f"spends {flow['cpu_seconds'] / flow['examined'] * 1e6:.0f} us of CPU per message")
    # The ceiling of a pass that did nothing but imap-tools' fetch and each complaint's rows.
    rows_us = flow["rows_floor"]["cpu_us_per_complaint"] * flow["tickets"] / max(flow["examined"], 1)
    ceiling = 1 / (1 / tools_rate + rows_us / 1e6)
    flow["ceiling_ratio"] = ceiling / tools_rate
    print(f"  writing each complaint's rows alone (bench/rows_floor.py) costs "
          f"{flow['rows_floor']['cpu_us_per_complaint']:.0f} us of CPU, {rows_us:.0f} us per "
          f"message: a pass that only fetched and wrote them would reach {ceiling:.0f} msg/s = "
          f"{flow['ceiling_ratio']:.2f} x imap-tools")
    # ... and that also read each message as any intake must (imap-tools' own accessors).
    read_ceiling = 1 / (1 / tools_rate + (read_us + rows_us) / 1e6)
    flow["read_us"], flow["read_ceiling_ratio"] = read_us, read_ceiling / tools_rate
    print(f"  reading each message's sender, recipients, subject, date, ids, text and attachments "
          f"through imap-tools' own accessors costs {read_us:.0f} us of CPU: a pass that fetched, "
          f"read and wrote the rows, and did nothing else, would reach {read_ceiling:.0f} msg/s = "
          f"{flow['read_ceiling_ratio']:.2f} x imap-tools")
    target = 100 if args.attachment_mb else 60
    print(f"mailflow peak RSS                  {flow['peak_rss_mb']:9.1f} MB (target < {target} MB "
          f"{'with the attachment' if args.attachment_mb else 'over a 10,000-complaint backlog'}); "
          f"{flow['ready_rss_mb']:.1f} MB before the pass, so the pass itself "
          f"{flow['peak_rss_mb'] - flow['ready_rss_mb']:.1f} MB")
    print(f"  the libraries alone ({', '.join(_stack(args.database_url))}), imported in a "
          f"fresh interpreter: {flow['stack_rss_mb']:.1f} MB, which leaves "
          f"{target - flow['stack_rss_mb']:.1f} MB of the target for mailflow's code, data and pass")
    if args.json:  # for bench/issue10.py: the figures above, machine-readable
        Path(args.json).write_text(json.dumps({
            **flow, "messages": total, "attachment_mb": args.attachment_mb,
            "raw_msg_per_s": raw_rate, "imap_tools_msg_per_s": tools_rate,
            "msg_per_s": flow_rate, "tickets_per_s": ticket_rate,
            "ratio_imap_tools": flow_rate / tools_rate, "ratio_raw": flow_rate / raw_rate,
            "database": args.database_url.split("://")[0] if args.database_url else "sqlite"}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--backlog", type=int, default=0,
                        help="this many messages instead (10000 for the 60 MB target)")
    parser.add_argument("--attachment-mb", type=int, default=0,
                        help="add one complaint with an attachment this large (25: 100 MB target)")
    parser.add_argument("--profile", type=int, default=0,
                        help="print cProfile's top N functions of the mailflow pass (stderr)")
    parser.add_argument("--tracemalloc", type=int, default=0,
                        help="print the N largest allocations the pass left behind (stderr)")
    parser.add_argument("--database-url", default="",
                        help="an empty database for mailflow (default a fresh SQLite file)")
    parser.add_argument("--json", help="also write the figures to this file (bench/issue10.py)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(json.loads(args.child))
        return 0
    from tests.harness.servers import dovecot_available

    if not dovecot_available():
        print("bench: Dovecot is not installed (run scripts/install-test-deps.sh as root)",
              file=sys.stderr)
        return 69
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
