"""The outbox's sending rate against a loopback SMTP server, beside the raw ceiling (issue 10).

Fills a fresh SQLite database with `--mails` pending acknowledgements (realistic bytes: a
multipart text + HTML acknowledgement of about 4 kB, one resident per row) and runs the
real outbox passes as the daemon does (`Outbox.send_pass`, one after the other while more
is due, with the daemon's half-second pause between two passes), then prints the rate, the
time beside the target (10,000 in under 60 s) and the ratio. The raw ceiling is aiosmtplib
sending the same bytes in a tight loop over one connection, without the database.

The SMTP server (aiosmtpd, accepting everything) runs in a subprocess, so the bench measures
the client, not the server sharing its CPU; it counts what it received and the distinct
Message-IDs, which must equal the rows sent.

    .venv/bin/python bench/outbox_bench.py --mails 10000
    .venv/bin/python bench/outbox_bench.py --instances 2   # two processes share the outbox
    .venv/bin/python bench/outbox_bench.py --instances 3 --database-url postgresql+psycopg://...

Works on the code before issue 10's outbox changes too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib

from mailflow.adapters.smtp import SmtpSender
from mailflow.config import Config
from mailflow.runners.outbox import Outbox
from mailflow.store.db import Session, make_engine
from mailflow.store.migrate import prepare
from mailflow.store.models import OutboxMessage
from mailflow.vocabulary import OutboxKind, OutboxState
from tests.harness.village import INBOX, config_for

TARGET_SECONDS = 60.0
TARGET_MAILS = 10_000
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

# aiosmtpd accepting every message; on SIGTERM it prints how many it took and how many
# distinct Message-IDs they carried.
_AIOSMTPD = r"""
import asyncio, re, signal, sys
from aiosmtpd.smtp import SMTP
seen, total = set(), [0]
MID = re.compile(rb"^Message-ID: *(\S+)", re.M | re.I)
class Sink:
    async def handle_DATA(self, server, session, envelope):
        total[0] += 1
        found = MID.search(envelope.original_content or b"")
        seen.add(found.group(1) if found else b"")
        return "250 2.0.0 OK"
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), decode_data=False), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(total[0], len(seen), flush=True)
asyncio.run(main())
"""

# The same as a bare asyncio protocol (a line-based SMTP answering machine, PIPELINING
# offered): several times faster than aiosmtpd, so the client's own limit shows.
_FAST = r"""
import asyncio, re, signal
seen, total = set(), [0]
MID = re.compile(rb"^Message-ID: *(\S+)", re.M | re.I)
class Sink(asyncio.Protocol):
    def connection_made(self, transport):
        self.t, self.buf, self.data = transport, b"", None
        transport.write(b"220 sink ESMTP\r\n")
    def data_received(self, chunk):
        self.buf += chunk
        out = []
        while True:
            if self.data is not None:
                end = self.buf.find(b"\r\n.\r\n")
                if end < 0:
                    break
                body, self.buf, self.data = self.buf[:end], self.buf[end + 5:], None
                total[0] += 1
                found = MID.search(body)
                seen.add(found.group(1) if found else b"")
                out.append(b"250 2.0.0 OK\r\n")
                continue
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            line, self.buf = self.buf[:end].upper(), self.buf[end + 2:]
            if line.startswith((b"EHLO", b"HELO")):
                out.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                           b"250-SMTPUTF8\r\n250 SIZE 52428800\r\n")
            elif line.startswith(b"DATA"):
                self.data = True
                out.append(b"354 go on\r\n")
            elif line.startswith(b"QUIT"):
                out.append(b"221 bye\r\n")
            else:
                out.append(b"250 2.0.0 OK\r\n")
        if out:
            self.t.write(b"".join(out))
async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    print(total[0], len(seen), flush=True)
asyncio.run(main())
"""
SERVERS = {"aiosmtpd": _AIOSMTPD, "fast": _FAST}


class SmtpSink:
    def __init__(self, kind: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", SERVERS[kind]], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def stop(self) -> tuple[int, int]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        total, distinct = out.split()
        return int(total), int(distinct)


class _World:
    """Just what `config_for` reads (no IMAP server: the outbox alone is measured)."""

    def __init__(self, port: int) -> None:
        self.imap_host, self.imap_port = "127.0.0.1", 9
        self.smtp_host, self.smtp_port = "127.0.0.1", port
        self.users = {INBOX: "bench"}


def acknowledgement(n: int) -> bytes:
    """An acknowledgement like the one mailflow composes: text and HTML, about 4 kB."""
    number = f"ADU-2026-{n:05d}"
    text = ("Yth. Bapak/Ibu,\r\n\r\nPengaduan Anda telah kami terima dan dicatat dengan nomor "
            f"{number}.\r\nKami akan menindaklanjutinya paling lambat 9 Desember 2026 "
            "(7 hari kerja).\r\n\r\n" + "Balas surel ini untuk menambahkan keterangan atau "
            "foto; jangan ubah baris subjek.\r\n" * 6 + "\r\nHormat kami,\r\nPemerintah Desa "
            "Klero\r\n")
    html = ("<html><body><p>Yth. Bapak/Ibu,</p><p>Pengaduan Anda telah kami terima dan "
            f"dicatat dengan nomor <b>{number}</b>.</p>" + "<p>Balas surel ini untuk "
            "menambahkan keterangan atau foto; jangan ubah baris subjek.</p>\r\n" * 12
            + "<p>Hormat kami,<br>Pemerintah Desa Klero</p></body></html>\r\n")
    return (f"From: Pemerintah Desa Klero <{INBOX}>\r\nTo: warga{n}@contoh.id\r\n"
            f"Subject: [{number}] Pengaduan Anda telah diterima\r\n"
            "Date: Mon, 30 Nov 2026 10:00:00 +0700\r\n"
            f"Message-ID: <ack{n}.{number}@klero.desa.id>\r\n"
            "In-Reply-To: <keluhan@contoh.id>\r\nAuto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + text
            + "--b1\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + html + "--b1--\r\n").encode()


def fill(cfg: Config, mails: int) -> None:
    engine = make_engine(cfg.database_url)
    prepare(engine)
    table: Any = OutboxMessage.__table__
    rows = [{"kind": OutboxKind.ACK, "message_id": f"<ack{n}@klero.desa.id>",
             "recipient": f"warga{n}@contoh.id", "raw": acknowledgement(n),
             "state": OutboxState.PENDING, "attempts": 0, "next_attempt_at": NOW,
             "last_error": "", "created_at": NOW} for n in range(mails)]
    with Session(engine) as session:
        session.connection().execute(table.delete())  # a database given by --database-url
        session.connection().execute(table.insert(), rows)
        session.commit()
    engine.dispose()


def drain(cfg: Config) -> tuple[int, int, float]:
    """Outbox passes as the daemon runs them, until nothing is due: (sent, passes, CPU s)."""
    engine = make_engine(cfg.database_url)
    outbox = Outbox(engine, SmtpSender(cfg.smtp), cfg.outbox)
    sent = passes = 0
    cpu = time.process_time()
    while True:
        stats = outbox.send_pass(NOW)
        sent, passes = sent + stats.sent, passes + 1
        if stats.smtp_unavailable:
            raise SystemExit("bench: the SMTP server is unavailable")
        due = outbox.next_due()
        if due is None or due > NOW:
            break
        time.sleep(0.5)  # the daemon's shortest pause between two passes (daemon._pause)
    engine.dispose()
    return sent, passes, time.process_time() - cpu


def _drain_into(cfg: Config, results: Any) -> None:
    results.put(drain(cfg))


def raw_ceiling(port: int, mails: int) -> tuple[float, float]:
    """aiosmtplib alone: the same bytes over one connection, no database; (seconds, CPU s)."""
    letters = [(f"warga{n}@contoh.id", acknowledgement(n)) for n in range(mails)]

    async def send() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
        await client.connect()
        for recipient, raw in letters:
            await client.sendmail(INBOX, [recipient], raw)
        await client.quit()

    started, cpu = time.perf_counter(), time.process_time()
    asyncio.run(send())
    return time.perf_counter() - started, time.process_time() - cpu


def line(what: str, mails: int, seconds: float, cpu: float) -> dict[str, float]:
    """Prints one result; returns its figures (for --json)."""
    rate = mails / seconds
    at_target = TARGET_MAILS / rate
    print(f"  {what:<40} {mails:6d} mails {seconds:6.2f} s {rate:6.0f} mails/s  client CPU "
          f"{cpu * 1000 / mails:5.2f} ms/mail  10k in {at_target:5.1f} s (target "
          f"{TARGET_SECONDS:.0f} s, ratio {TARGET_SECONDS / at_target:5.2f})")
    return {"mails": mails, "seconds": seconds, "mails_per_s": rate,
            "cpu_ms_per_mail": cpu * 1000 / mails, "seconds_for_10k": at_target}


def outbox_rate(server: str, mails: int, instances: int, pass_seconds: float,
                database_url: str, figures: dict[str, Any] | None = None) -> bool:
    """The real passes against `server`; whether every row reached it exactly once."""
    sink = SmtpSink(server)
    with tempfile.TemporaryDirectory(prefix="mailflow-bench-") as tmp:
        cfg = config_for(_World(sink.port), Path(tmp), outbox={"pass_seconds": pass_seconds},
                         database={"url": database_url})
        fill(cfg, mails)
        started = time.perf_counter()
        if instances == 1:
            outcomes = [drain(cfg)]
        else:
            context = multiprocessing.get_context("fork")
            results: Any = context.Queue()
            workers = [context.Process(target=_drain_into, args=(cfg, results))
                       for _ in range(instances)]
            for worker in workers:
                worker.start()
            outcomes = [results.get() for _ in workers]
            for worker in workers:
                worker.join()
        elapsed = time.perf_counter() - started
    sent, passes = sum(o[0] for o in outcomes), sum(o[1] for o in outcomes)
    measured = line(f"mailflow outbox, {instances} instance(s), {passes} pass(es)", sent,
                    elapsed, sum(o[2] for o in outcomes))
    received, distinct = sink.stop()
    exact = received == distinct == sent == mails
    print(f"  server received {received}, distinct Message-IDs {distinct}, rows sent {sent}"
          f"{'' if exact else '  MISMATCH: every row must be sent exactly once'}")
    if figures is not None:
        figures[server] = {**measured, "received": received, "distinct": distinct, "exact": exact}
    return exact


def run(mails: int, instances: int, pass_seconds: float, servers: list[str],
        database_url: str, json_path: str = "") -> int:
    failed = 0
    figures: dict[str, Any] = {"instances": instances,
                               "database": database_url.split("://")[0] or "sqlite"}
    print(f"database: {database_url.split('://')[0] if database_url else 'sqlite'}")
    for server in servers:
        print(f"{server} server (subprocess):")
        failed |= not outbox_rate(server, mails, instances, pass_seconds, database_url, figures)
        sink = SmtpSink(server)
        try:
            figures[f"{server}_raw"] = line("raw ceiling: aiosmtplib loop, no database", mails,
                                            *raw_ceiling(sink.port, mails))
        finally:
            sink.stop()
    if json_path:  # for bench/issue10.py
        Path(json_path).write_text(json.dumps(figures))
    return failed

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=TARGET_MAILS)
    parser.add_argument("--instances", type=int, default=1,
                        help="outbox processes draining the same database at once")
    parser.add_argument("--pass-seconds", type=float, default=30.0,
                        help="[outbox] pass_seconds (the default configuration's 30)")
    parser.add_argument("--server", choices=[*SERVERS, "both"], default="both",
                        help="aiosmtpd (a real server), fast (a bare sink, the client's limit)")
    parser.add_argument("--database-url", default="",
                        help="e.g. postgresql+psycopg://user@127.0.0.1:5432/db (its outbox "
                        "table is emptied); default a fresh SQLite file")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    servers = list(SERVERS) if args.server == "both" else [args.server]
    return run(args.mails, args.instances, args.pass_seconds, servers, args.database_url,
               args.json)


if __name__ == "__main__":
    sys.exit(main())
