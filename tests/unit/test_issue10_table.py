"""bench/issue10.py's pure part: verdicts against issue 10's targets, the rows it makes of each
bench's figures, and its reading of regency_bench.py's printed output. No bench is run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.harness.fresh import printed_by

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "issue10.py"


@pytest.fixture(scope="module")
def issue10() -> ModuleType:
    spec = importlib.util.spec_from_file_location("issue10_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_at_least_says_met_or_by_how_much_short(issue10: ModuleType) -> None:
    assert issue10.at_least(1.0, 0.5) == "met (2.00 x the target)"
    assert issue10.at_least(0.5, 0.5).startswith("met")
    assert issue10.at_least(0.01, 0.5) == "NOT met (0.020 x the target; 50 x short)"
    assert "inf x short" in issue10.at_least(0.0, 0.5)


def test_at_most_says_met_or_by_how_much_over(issue10: ModuleType) -> None:
    assert issue10.at_most(42.0, 60.0, " s") == "met (18.0 s under)"
    assert issue10.at_most(60.0, 60.0, " s").startswith("met")
    assert issue10.at_most(100.0, 60.0, " MB") == "NOT met (40.0 MB over, 1.67 x the limit)"


def test_intake_row_divides_by_helpdesk_on_the_same_messages(issue10: ModuleType) -> None:
    intake = issue10.Step("intake", "intake_bench.py", [], [], result={
        "messages": 2000, "tickets": 1667, "msg_per_s": 400.0, "imap_tools_msg_per_s": 10000.0,
        "raw_msg_per_s": 40000.0, "ratio_imap_tools": 0.04, "ratio_raw": 0.01,
        "tickets_per_s": 333.0, "cpu_seconds": 5.0})
    helpdesk = issue10.Step("helpdesk", "helpdesk_bench.py", [], [], result={
        "messages": 2000, "msg_per_s": 32.0, "tickets": 2000, "cpu_seconds": 20.0,
        "helpdesk_version": "2.6.1"})
    rows = issue10.intake_rows(intake, helpdesk)
    assert rows[0].verdict.startswith("NOT met (0.080 x the target")
    wall, cpu = rows[-2], rows[-1]
    assert "12.5 x" in wall.measured and wall.target == ">= 10 x"
    assert wall.verdict == "met (1.25 x the target)"
    assert "(same messages)" in wall.figure
    assert cpu.measured == "400 / 100 msg per CPU s = 4.0 x"
    assert "rows" not in rows[0].measured  # no ceiling measured: none shown


def test_intake_row_shows_the_ceiling_of_a_pass_that_only_writes_the_rows(issue10: ModuleType
                                                                          ) -> None:
    intake = issue10.Step("intake", "intake_bench.py", [], [], result={
        "messages": 2000, "tickets": 1667, "msg_per_s": 400.0, "imap_tools_msg_per_s": 10000.0,
        "raw_msg_per_s": 40000.0, "ratio_imap_tools": 0.04, "ratio_raw": 0.01,
        "tickets_per_s": 333.0, "cpu_seconds": 5.0, "ceiling_ratio": 0.43})
    (first, *_rest) = issue10.intake_rows(intake, None)
    assert first.measured == ("400 / 10,000 msg/s = 0.040 x (a pass would reach 0.43 x if it "
                              "only fetched and wrote each complaint's rows)")


def test_intake_row_shows_the_ceiling_of_a_pass_that_also_reads_each_message(
        issue10: ModuleType) -> None:
    intake = issue10.Step("intake", "intake_bench.py", [], [], result={
        "messages": 2000, "tickets": 1667, "msg_per_s": 400.0, "imap_tools_msg_per_s": 10000.0,
        "raw_msg_per_s": 40000.0, "ratio_imap_tools": 0.04, "ratio_raw": 0.01,
        "tickets_per_s": 333.0, "cpu_seconds": 5.0, "ceiling_ratio": 0.43,
        "read_ceiling_ratio": 0.21})
    (first, *_rest) = issue10.intake_rows(intake, None)
    assert first.measured.endswith("(a pass would reach 0.43 x if it only fetched and wrote each "
                                   "complaint's rows; 0.21 x if it also read each message "
                                   "through imap-tools)")


def test_helpdesk_that_could_not_run_says_why(issue10: ModuleType) -> None:
    intake = issue10.Step("intake", "intake_bench.py", [], [], result={
        "messages": 2000, "tickets": 1667, "msg_per_s": 400.0, "imap_tools_msg_per_s": 1.0,
        "raw_msg_per_s": 1.0, "ratio_imap_tools": 1.0, "ratio_raw": 1.0,
        "tickets_per_s": 1.0, "cpu_seconds": 1.0})
    helpdesk = issue10.Step("helpdesk", "helpdesk_bench.py", [], [],
                            result={"error": "pip install failed"}, error="pip install failed")
    row = issue10.intake_rows(intake, helpdesk)[-1]
    assert row.measured == "not measured: pip install failed" and row.verdict == ""


def test_idle_ratio_is_largest_over_smallest_mailbox(issue10: ModuleType) -> None:
    step = issue10.Step("poll", "poll_bench.py", [], [], result={"sizes": {
        "100000": {"idle_median_s": 0.006}, "100": {"idle_median_s": 0.003}}})
    (row,) = issue10.poll_rows(step)
    assert row.measured == "6.0 / 3.0 ms = 2.00 x"
    assert row.verdict.startswith("NOT met")


def test_idle_over_ticket_history_is_its_own_row(issue10: ModuleType) -> None:
    step = issue10.Step("poll", "poll_bench.py", [], [], result={"sizes": {
        "100000": {"idle_median_s": 0.004}, "100": {"idle_median_s": 0.004},
        "history:100000": {"idle_median_s": 0.0225}, "history:100": {"idle_median_s": 0.025}}})
    messages, history = issue10.poll_rows(step)
    assert messages.figure == "idle pass over 100,000 / over 100 old messages"
    assert history.figure == "idle pass over 100,000 / over 100 tickets of history, jobs due"
    assert history.measured == "22.5 / 25.0 ms = 0.90 x" and history.verdict.startswith("met")


def test_regency_output_is_read_from_its_text(issue10: ModuleType) -> None:
    text = ("split: {'machine-0': 125, 'machine-1': 125} after 12.0s (fair share 125)\n"
            "tickets: 2000 in 95.3s = 21.0 tickets/s (first delivery to last ticket committed)\n"
            "mailbox lag (APPEND to ticket, each mailbox's slowest): median 40.2s, p95 80.1s, "
            "slowest 91.7s (ADU7, 300 complaints); poll every 5s\n"
            "instance machine-0: peak RSS 120 MB (target: ...)\n"
            "instance machine-1: peak RSS 118 MB (target: ...)\n")
    found = issue10.regency_from_text(text)
    assert found == {"tickets": 2000, "seconds": 95.3, "tickets_per_s": 21.0,
                     "lag_median_s": 40.2, "lag_p95_s": 80.1, "lag_slowest_s": 91.7,
                     "peak_rss_mb": [120.0, 118.0]}
    assert issue10.regency_from_text("something else entirely") == {}


def test_absent_regency_bench_is_one_clear_row(issue10: ModuleType) -> None:
    step = issue10.Step("regency", "regency_bench.py", [], [], error="not present")
    (row,) = issue10.regency_rows(step)
    assert row.measured.startswith("not present")


def test_memory_row_shows_the_libraries_floor_beside_the_peak(issue10: ModuleType) -> None:
    backlog = issue10.Step("backlog", "intake_bench.py", [], [], result={
        "messages": 10_000, "peak_rss_mb": 82.0, "ready_rss_mb": 70.0, "stack_rss_mb": 56.4})
    (row,) = issue10.rss_rows(backlog, 60.0, "peak RSS")
    assert row.measured == "82.0 MB (70.0 before the pass; the libraries alone 56.4)"
    assert row.verdict.startswith("NOT met (22.0 MB over")


def test_the_measured_intake_process_loads_no_test_tooling() -> None:
    """intake_bench.py's child measures mailflow's peak RSS; the test harness it borrows the
    village from once pulled pytest in with it (6.5 MB that no daemon carries)."""
    root = SCRIPT.parents[1]
    code = (f"import sys; sys.path[:0] = [{str(root / 'bench')!r}, {str(root)!r}]\n"
            "import intake_bench\n"
            "print(sorted(m for m in ('pytest', '_pytest', 'pygments', 'pluggy') "
            "if m in sys.modules))")
    assert printed_by(code) == ["[]"]


def test_the_rows_floor_writes_into_a_database_already_at_head(tmp_path: Path) -> None:
    """On PostgreSQL the floor writes beside the pass's rows, into a database at head, which a
    start opens without importing the migrations, nor with them the tables: the floor had none
    to write into (KeyError 'ticket') until it imported them itself. A SQLite file at head,
    opened by a fresh interpreter, is the same case."""
    url = f"sqlite:///{tmp_path / 'at-head.db'}"
    printed_by(f"from mailflow.store.migrate import open_database\nopen_database({url!r})")
    bench = str(SCRIPT.parent)
    (line,) = printed_by(f"import json, sys; sys.path.insert(0, {bench!r})\n"
                         "from rows_floor import rows_floor\n"
                         f"print(json.dumps(rows_floor({url!r}, 150)))")
    assert '"complaints": 150' in line and "cpu_us_per_complaint" in line
