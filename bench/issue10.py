"""Every figure of issue 10 beside its target, in one run (and django-helpdesk side by side).

Runs the benchmarks below as subprocesses, one after the other, each writing its figures to a
JSON file (`--json`), then prints one table: figure, measured, target, verdict (met or not,
by how much). The machine's load average is printed beside each step (wall-clock figures on
a shared machine vary with it; CPU times are given where the bench has them).

    .venv/bin/python bench/issue10.py                 # the issue's sizes (some 15 minutes)
    .venv/bin/python bench/issue10.py --quick         # small sizes: a smoke run in minutes
    .venv/bin/python bench/issue10.py --only intake helpdesk
    .venv/bin/python bench/issue10.py --database postgresql

Steps: intake (intake_bench.py: mailflow vs imap-tools vs raw fetch), backlog (its peak RSS
over 10,000 messages), attachment (its peak RSS with one 25 MB attachment), outbox
(outbox_bench.py: 10,000 acknowledgements to loopback SMTP), poll (poll_bench.py: the idle
pass over 100,000 old messages vs over 100, and over 100,000 tickets of history vs 100 with
the daemon's jobs due), append (append_to_ack.py: APPEND to
acknowledgement with IDLE), helpdesk (helpdesk_bench.py: django-helpdesk's `get_email` on
intake's messages), regency (regency_bench.py, if present: 250 mailboxes, 2 instances).

`--database postgresql` starts one private PostgreSQL cluster (tests/harness/postgres.py) and
gives each step a database of its own; django-helpdesk stays on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Row:
    figure: str
    measured: str
    target: str
    verdict: str


@dataclass
class Step:
    name: str
    script: str
    full: list[str]
    quick: list[str]
    database: str = "url"  # "url": --database-url URL; "name": --database NAME; "": none
    result: dict[str, Any] = field(default_factory=dict)
    output: str = ""
    error: str = ""
    load: tuple[float, float] = (0.0, 0.0)
    seconds: float = 0.0


# -- verdicts (pure) ------------------------------------------------------------------------

def at_least(measured: float, target: float) -> str:
    """Verdict for a figure that must reach `target` (a rate or a ratio)."""
    if measured >= target:
        return f"met ({measured / target:.2f} x the target)"
    short = target / measured if measured > 0 else float("inf")
    return f"NOT met ({measured / target:.3f} x the target; {short:.0f} x short)"


def at_most(measured: float, limit: float, unit: str = "") -> str:
    """Verdict for a figure that must stay under `limit` (a time, memory or cost ratio)."""
    digits = 2 if unit == " x" else 1
    if measured <= limit:
        return f"met ({limit - measured:.{digits}f}{unit} under)"
    return (f"NOT met ({measured - limit:.{digits}f}{unit} over, {measured / limit:.2f} x "
            "the limit)")


def table(rows: list[Row]) -> str:
    """Rows as a Markdown table (readable as text, pasteable into a README)."""
    head = Row("figure", "measured", "target", "verdict")
    lines = [f"| {head.figure} | {head.measured} | {head.target} | {head.verdict} |",
             "| --- | ---: | ---: | --- |"]
    lines += [f"| {r.figure} | {r.measured} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def regency_from_text(text: str) -> dict[str, Any]:
    """regency_bench.py's figures from what it prints, for a version without --json. Tolerant:
    a figure not found is left out (the table then says so)."""
    found: dict[str, Any] = {}
    rate = re.search(r"tickets:\s*(\d+)\s+in\s+([\d.]+)\s*s\s*=\s*([\d.]+)\s*tickets/s", text)
    if rate:
        found.update(tickets=int(rate[1]), seconds=float(rate[2]), tickets_per_s=float(rate[3]))
    lag = re.search(r"lag[^\n]*?median\s+([\d.]+)\s*s[^\n]*?p95\s+([\d.]+)\s*s[^\n]*?slowest\s+"
                    r"([\d.]+)\s*s", text)
    if lag:
        found.update(lag_median_s=float(lag[1]), lag_p95_s=float(lag[2]),
                     lag_slowest_s=float(lag[3]))
    rss = [float(x) for x in re.findall(r"peak RSS\s+([\d.]+)\s*MB", text)]
    if rss:
        found["peak_rss_mb"] = rss
    return found


# -- rows per step (pure: a step's result -> rows) ------------------------------------------

def _missing(step: Step, figure: str) -> Row:
    return Row(figure, f"not measured: {step.error or 'no figures'}", "", "")


def intake_rows(intake: Step, helpdesk: Step | None) -> list[Row]:
    r = intake.result
    if not r or "msg_per_s" not in r:
        return [_missing(intake, "intake vs imap-tools")]
    n = f"{r['messages']:,} messages, {r['tickets']:,} tickets"
    floors = [f"{r['ceiling_ratio']:.2f} x if it only fetched and wrote each complaint's rows"
              ] if "ceiling_ratio" in r else []
    if "read_ceiling_ratio" in r:
        floors.append(f"{r['read_ceiling_ratio']:.2f} x if it also read each message through "
                      "imap-tools")
    ceiling = f" (a pass would reach {'; '.join(floors)})" if floors else ""
    rows = [
        Row(f"intake vs imap-tools bulk fetch ({n})",
            f"{r['msg_per_s']:,.0f} / {r['imap_tools_msg_per_s']:,.0f} msg/s = "
            f"{r['ratio_imap_tools']:.3f} x{ceiling}", ">= 0.5 x",
            at_least(r["ratio_imap_tools"], 0.5)),
        Row("intake vs raw `UID FETCH 1:*` (the server's limit)",
            f"{r['msg_per_s']:,.0f} / {r['raw_msg_per_s']:,.0f} msg/s = {r['ratio_raw']:.4f} x",
            "(none)", ""),
        Row("intake: tickets/s (wall); CPU of the pass",
            f"{r['tickets_per_s']:,.0f} tickets/s; {r['cpu_seconds']:.1f} s CPU, "
            f"{r['tickets'] / r['cpu_seconds']:.0f} tickets per CPU s", "(none)", ""),
    ]
    if helpdesk is None:
        return rows
    h = helpdesk.result
    if not h or "msg_per_s" not in h:
        rows.append(Row("intake vs django-helpdesk `get_email`",
                        f"not measured: {helpdesk.error or h.get('error', 'no figures')}",
                        ">= 10 x", ""))
        return rows
    same = "" if h["messages"] == r["messages"] else f" (helpdesk over {h['messages']:,})"
    ratio = r["msg_per_s"] / h["msg_per_s"]
    rows.append(Row(f"intake vs django-helpdesk {h.get('helpdesk_version', '')} `get_email` "
                    f"(same messages{same})",
                    f"{r['msg_per_s']:,.0f} / {h['msg_per_s']:,.1f} msg/s = {ratio:.1f} x "
                    f"(helpdesk: {h['tickets']:,} tickets, CPU {h['cpu_seconds']:.1f} s)",
                    ">= 10 x", at_least(ratio, 10.0)))
    # The same per CPU second: what the two rates are apart from the machine's other work
    # and from waits (django-helpdesk's SQLite commits each wait for the disk).
    cpu_ratio = (r["messages"] / r["cpu_seconds"]) / (h["messages"] / h["cpu_seconds"])
    rows.append(Row("same, per CPU second (mailflow / django-helpdesk)",
                    f"{r['messages'] / r['cpu_seconds']:,.0f} / "
                    f"{h['messages'] / h['cpu_seconds']:,.0f} msg per CPU s = {cpu_ratio:.1f} x",
                    "(>= 10 x is on wall clock)", ""))
    return rows


def rss_rows(step: Step, limit: float, what: str) -> list[Row]:
    r = step.result
    if not r or "peak_rss_mb" not in r:
        return [_missing(step, what)]
    floor = (f"; the libraries alone {r['stack_rss_mb']:.1f}" if "stack_rss_mb" in r else "")
    return [Row(f"{what} ({r['messages']:,} messages)",
                f"{r['peak_rss_mb']:.1f} MB ({r['ready_rss_mb']:.1f} before the pass{floor})",
                f"< {limit:.0f} MB", at_most(r["peak_rss_mb"], limit, " MB"))]


def outbox_rows(step: Step) -> list[Row]:
    r = step.result
    rows = []
    for server, label in (("aiosmtpd", "aiosmtpd"), ("fast", "a bare sink")):
        if server not in r:
            continue
        s, raw = r[server], r.get(f"{server}_raw", {})
        ceiling = f"; raw aiosmtplib {raw['seconds_for_10k']:.1f} s" if raw else ""
        exact = "" if s["exact"] else "; NOT each exactly once"
        sent = (f"{s['mails']:,} sent" if s["mails"] == 10_000
                else f"extrapolated from {s['mails']:,}")
        rows.append(Row(f"outbox: 10,000 acknowledgements to {label} ({sent})",
                        f"{s['seconds_for_10k']:.1f} s ({s['mails_per_s']:.0f} mails/s, "
                        f"{s['cpu_ms_per_mail']:.2f} ms CPU/mail{ceiling}{exact})",
                        "< 60 s", at_most(s["seconds_for_10k"], 60.0, " s")))
    return rows or [_missing(step, "outbox: 10,000 acknowledgements")]


def poll_rows(step: Step) -> list[Row]:
    figures = step.result.get("sizes", {})
    sizes = {int(k): v for k, v in figures.items() if k.isdigit()}
    if len(sizes) < 2:
        return [_missing(step, "idle pass 100,000 / 100")]
    rows = [_idle_row(sizes, "old messages", "")]
    # The same over a database's history of tickets, with the daemon's jobs due (--history).
    past = {int(k.split(":")[1]): v for k, v in figures.items() if k.startswith("history:")}
    if len(past) > 1:
        rows.append(_idle_row(past, "tickets of history", ", jobs due"))
    return rows


def _idle_row(figures: dict[int, dict[str, float]], what: str, extra: str) -> Row:
    small, large = min(figures), max(figures)
    a, b = figures[small]["idle_median_s"], figures[large]["idle_median_s"]
    return Row(f"idle pass over {large:,} / over {small:,} {what}{extra}",
               f"{b * 1000:.1f} / {a * 1000:.1f} ms = {b / a:.2f} x", "<= 1.5 x",
               at_most(b / a, 1.5, " x"))


def append_rows(step: Step) -> list[Row]:
    r = step.result
    if "median_s" not in r:
        return [_missing(step, "APPEND to acknowledgement, IDLE")]
    return [Row(f"APPEND to acknowledgement, IDLE ({r['count']} complaints)",
                f"median {r['median_s']:.2f} s (p90 {r['p90_s']:.2f}, max {r['max_s']:.2f})",
                "(none: median)", "")]


def regency_rows(step: Step) -> list[Row]:
    r = step.result
    if step.error == "not present":
        return [Row("regency (250 mailboxes, 2 instances)", "not present: bench/regency_bench.py "
                    "is not in this checkout", "(none)", "")]
    if "tickets_per_s" not in r:
        return [_missing(step, "regency")]
    lag = (f"; lag median {r['lag_median_s']:.1f} s, p95 {r['lag_p95_s']:.1f} s, slowest "
           f"mailbox {r['lag_slowest_s']:.1f} s" if "lag_slowest_s" in r else "; lag not found")
    rss = "; peak RSS " + ", ".join(f"{mb:.0f}" for mb in r["peak_rss_mb"]) + " MB" \
        if r.get("peak_rss_mb") else ""
    return [Row(f"regency ({step.result.get('label', '')})",
                f"{r['tickets_per_s']:.1f} tickets/s ({r.get('tickets', '?')} tickets){lag}{rss}",
                "(none)", "")]


# -- running ---------------------------------------------------------------------------------

def steps(quick: bool, database: str) -> list[Step]:
    n = "300" if quick else "2000"
    regency = (["--mailboxes", "20", "--complaints", "200"] if quick
               else ["--mailboxes", "250", "--complaints", "2000"])
    return [
        Step("intake", "intake_bench.py", ["--messages", n], ["--messages", n]),
        Step("backlog", "intake_bench.py", ["--backlog", "10000"], ["--backlog", "1000"]),
        Step("attachment", "intake_bench.py", ["--messages", "200", "--attachment-mb", "25"],
             ["--messages", "50", "--attachment-mb", "25"]),
        Step("outbox", "outbox_bench.py", ["--mails", "10000"], ["--mails", "1000"]),
        Step("poll", "poll_bench.py",
             ["--sizes", "100", "100000", "--fast-fill", "--history", "100", "100000"],
             ["--sizes", "100", "5000", "--fast-fill", "--repeats", "3",
              "--history", "100", "5000"]),
        Step("append", "append_to_ack.py", ["--count", "20"], ["--count", "5"]),
        Step("helpdesk", "helpdesk_bench.py", ["--messages", n], ["--messages", n], database=""),
        Step("regency", "regency_bench.py", [*regency, "--instances", "2"],
             [*regency, "--instances", "2"], database="name"),
    ]


def _accepts_json(script: Path) -> bool:
    shown = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                           text=True, check=False, cwd=ROOT)
    return "--json" in shown.stdout


def run_step(step: Step, quick: bool, workdir: Path, database_url: Callable[[], str],
             database: str) -> None:
    script = HERE / step.script
    if not script.exists():
        step.error = "not present"
        print(f"== {step.name}: not present ({script.relative_to(ROOT)} is not in this "
              f"checkout): skipped", flush=True)
        return
    argv = [sys.executable, str(script), *(step.quick if quick else step.full)]
    out = workdir / f"{step.name}.json"
    if _accepts_json(script):
        argv += ["--json", str(out)]
    if step.database == "url" and database == "postgresql":
        argv += ["--database-url", database_url()]
    elif step.database == "name":
        argv += ["--database", database]
    print(f"== {step.name}: {' '.join(argv[1:])}  (load {os.getloadavg()[0]:.1f})", flush=True)
    before, started = os.getloadavg()[0], time.perf_counter()
    lines = []
    errors = workdir / f"{step.name}.stderr"  # the benches' logs: shown only if a step fails
    with errors.open("w") as log, subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE,
                                                   stderr=log, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"   {line}", end="", flush=True)
            lines.append(line)
    step.seconds, step.load = time.perf_counter() - started, (before, os.getloadavg()[0])
    step.output = "".join(lines)
    if out.exists():
        step.result = json.loads(out.read_text())
    if step.name == "regency":  # its printed figures, for whatever its JSON (if any) lacks
        step.result = {**regency_from_text(step.output), **step.result}
    if proc.returncode != 0 and not step.result.get("error"):
        step.error = f"exit {proc.returncode}"
        tail = errors.read_text(errors="replace").splitlines()[-25:]
        print("\n".join(f"   ! {line}" for line in tail), flush=True)
    elif step.result.get("error"):
        step.error = str(step.result["error"])
    if step.name == "regency":
        step.result["label"] = " ".join(argv[2:]).split(" --json")[0]


def report(done: dict[str, Step], database: str, quick: bool) -> str:
    rows: list[Row] = []
    if "intake" in done:
        rows += intake_rows(done["intake"], done.get("helpdesk"))
    elif "helpdesk" in done:
        h = done["helpdesk"].result
        rows.append(Row("django-helpdesk `get_email`", f"{h.get('msg_per_s', 0):.1f} msg/s "
                        f"({h.get('error', '')})", "(intake >= 10 x)", ""))
    if "backlog" in done:
        rows += rss_rows(done["backlog"], 60.0, "peak RSS over a complaint backlog")
    if "attachment" in done:
        rows += rss_rows(done["attachment"], 100.0, "peak RSS with one 25 MB attachment")
    for name, make in (("outbox", outbox_rows), ("poll", poll_rows), ("append", append_rows),
                       ("regency", regency_rows)):
        if name in done:
            rows += make(done[name])
    loads = ", ".join(f"{s.name} {s.load[0]:.1f}-{s.load[1]:.1f} ({s.seconds:.0f} s)"
                      for s in done.values() if s.seconds)
    head = (f"issue 10 figures{' (--quick: small sizes)' if quick else ''}; database "
            f"{database}; {os.cpu_count()} cores; load average (1 min) before-after each step: "
            f"{loads}")
    return head + "\n\n" + table(rows)


def _cluster(stack: list[Any], workdir: Path) -> Callable[[], str]:
    """A private PostgreSQL; returns a maker of fresh database URLs."""
    from tests.harness.postgres import PostgresCluster

    (workdir / "postgres").mkdir()
    cluster = PostgresCluster(workdir / "postgres")
    cluster.initdb()
    cluster.start()
    stack.append(cluster)
    return lambda: cluster.url(cluster.create_database())


def main() -> int:
    names = [s.name for s in steps(False, "sqlite")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME",
                        help=f"only these steps: {' '.join(names)}")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    chosen = [s for s in steps(args.quick, args.database) if not args.only or s.name in args.only]
    workdir = Path(tempfile.mkdtemp(prefix="mailflow-issue10-"))
    workdir.chmod(0o755)  # PostgreSQL's unprivileged account must reach its directory
    clusters: list[Any] = []
    try:
        url = (_cluster(clusters, workdir) if args.database == "postgresql"
               else lambda: "")
        for step in chosen:
            run_step(step, args.quick, workdir, url, args.database)
    finally:
        for cluster in clusters:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    text = report({s.name: s for s in chosen}, args.database, args.quick)
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n")
    return 1 if any(s.error and s.error != "not present" for s in chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
