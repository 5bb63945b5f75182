"""Issue 9's priority through Dovecot: suggested with its reason, overruled by staff, configured.

A flood complaint becomes `darurat` with its reason in `tickets --json`, `show` and the
verifier's notification; a staff member's `#prioritas rendah` wins and is recorded; a
village's own word file changes the suggestion; a word file that is wrong stops `check`,
`poll` and `run` with exit 78 naming the file and the entry; a reload (SIGHUP) reads an
edited file, and refuses a wrong one while the running lists stay.
"""

from __future__ import annotations

import json
import signal
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.adapters.priority_words import default_text
from mailflow.demo.mail import to_toml
from mailflow.service import Service
from mailflow.store.models import TicketEvent
from tests.e2e.leaks import Secrets, all_leaks
from tests.e2e.support import INBOX, SEKDES, SITI_SECRETS, complaint, config_for, rows, tickets
from tests.e2e.test_cli import mailflow, write_config
from tests.e2e.test_daemon import NOWHERE, daemon, is_ready
from tests.e2e.test_workflow_mail import _read, _text, staff_reply
from tests.fixtures.identity_complaints import Complaint, Person

pytestmark = pytest.mark.e2e
RECEIVED = datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("Asia/Jakarta"))
NUMBER = "ADU-2026-00001"
FLOOD = ("Nama: Siti Aminah\nNIK: 3322114506890002\nAlamat: Dusun Krajan RT 02/RW 05\n"
         "No. HP: 0812-3456-7890\n\n"
         "Banjir di rumah Siti Aminah dan tetangga, air sudah masuk rumah setinggi lutut dan "
         "terus naik. Banyak lansia belum dievakuasi, mohon bantuan perahu.\n\n"
         "Hormat saya,\nSiti Aminah\n0812-3456-7890\n")
LAMP = ("Nama: Siti Aminah\nNIK: 3322114506890002\n\n"
        "Lampu penerangan di gang Melati mati sejak seminggu yang lalu, gang jadi gelap.\n")


def _poll(cfg: Any) -> None:
    service = Service(cfg)
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _json(path: Path) -> list[dict[str, Any]]:
    listed = mailflow("--config", str(path), "tickets", "--json")
    assert listed.returncode == 0, listed.stderr
    rows_: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows_


def _siti() -> Secrets:
    """Siti's identity strings, in the form tests/e2e/leaks.py looks for."""
    person = Person("Siti Aminah", ("Siti", "Aminah"), "3322114506890002", "3322114506890002",
                    "0812-3456-7890", "81234567890", "Dusun Krajan RT 02/RW 05", "RT 02/RW 05",
                    None, "Krajan", "siti@warga.example", "siti@warga.example")
    return Secrets([Complaint(0, person, "", FLOOD, None, (), "", "", True,
                              secrets=(*SITI_SECRETS[:3], "siti@warga.example"),
                              digits=("3322114506890002", "81234567890"))])


def test_a_flood_is_darurat_with_its_reason_and_staff_overrule_it(mail_world: Any,
                                                                  tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    path = write_config(cfg, tmp_path / "config.toml")
    mail_world.deliver(INBOX, complaint(body=FLOOD), internaldate=RECEIVED)
    _poll(cfg)

    [row] = _json(path)
    assert (row["priority"], row["priority_set_by"]) == ("darurat", "system")
    assert row["priority_reason"].startswith("darurat (urgensi segera, ")
    assert "'banjir' (banjir) -> urgensi segera" in row["priority_reason"]
    shown = mailflow("--config", str(path), "show", NUMBER).stdout
    assert "Prioritas  : Darurat (disarankan sistem: darurat (urgensi segera" in shown

    [note] = [_read(m) for m in mail_world.messages(SEKDES)]
    assert str(note["Subject"]).startswith(f"[{NUMBER}] DARURAT - Pengaduan baru")
    text = _text(note)
    assert "PERHATIAN - DARURAT" in text and "'banjir' (banjir)" in text
    # The reason names no one: not in the JSON, the page, or the notification's priority lines.
    secrets = _siti()
    priority_lines = [line for line in text.splitlines() if "DARURAT" in line or "Alasan" in line]
    _, leaks = all_leaks(secrets, [("tickets --json", json.dumps(row)), ("show", shown),
                                   ("notification", "\n".join(priority_lines))])
    assert leaks == []

    # The staff word wins, is recorded, and keeps the system's reason as history.
    mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#prioritas rendah\n#internal\nSudah "
                                          "surut, hanya genangan kecil."))
    _poll(cfg)
    [ticket] = tickets(cfg)
    assert (ticket.priority, ticket.priority_set_by) == ("rendah", SEKDES)
    assert "'banjir' (banjir)" in ticket.priority_reason
    [event] = [e for e in rows(cfg, TicketEvent) if e.kind == "priority"]
    assert (event.actor, event.auth) == (SEKDES, "signed_reply")
    assert event.note.startswith("darurat -> rendah; saran sistem: darurat (urgensi segera")
    [row] = _json(path)
    assert (row["priority"], row["priority_set_by"]) == ("rendah", SEKDES)
    shown = mailflow("--config", str(path), "show", NUMBER).stdout
    assert f"Prioritas  : Rendah (ditetapkan oleh {SEKDES}; saran sistem: darurat" in shown
    assert all_leaks(secrets, [("tickets --json", json.dumps(row)), ("show", shown)])[1] == []


def _own_words(tmp_path: Path, family: dict[str, Any]) -> Path:
    data = tomllib.loads(default_text())
    data["urgency"].append(family)
    path = tmp_path / "priority_words.toml"
    path.write_text(to_toml(data))
    return path


def test_a_village_s_own_word_file_changes_the_suggestion(mail_world: Any, tmp_path: Path) -> None:
    words = _own_words(tmp_path, {"family": "lampu jalan mati (Klero)", "level": "segera",
                                  "words": ["lampu ... mati"]})
    shipped = config_for(mail_world, tmp_path / "shipped")
    own = config_for(mail_world, tmp_path / "own", priority={"words": str(words)})
    mail_world.deliver(INBOX, complaint(body=LAMP), internaldate=RECEIVED)
    _poll(shipped)
    assert tickets(shipped)[0].priority != "darurat"

    path = write_config(own, tmp_path / "config.toml")
    assert f'words = "{words}"' in path.read_text()
    _poll(own)
    [row] = _json(path)
    assert row["priority"] == "darurat"
    assert "(lampu jalan mati (Klero)) -> urgensi segera" in row["priority_reason"]


def test_a_wrong_word_file_is_exit_78_naming_it(tmp_path: Path) -> None:
    words = _own_words(tmp_path, {"family": "angin kencang", "level": "kilat",
                                  "words": ["angin kencang"]})
    cfg = config_for(NOWHERE, tmp_path, priority={"words": str(words)},
                     intake={"poll_seconds": 3600.0})
    path = write_config(cfg, tmp_path / "config.toml")
    for command in (["check", "--offline"], ["poll", "--once"]):
        result = mailflow("--config", str(path), *command)
        assert result.returncode == 78, (command, result.stderr)
        said = result.stdout + result.stderr  # `check` prints its FAIL line on stdout
        assert f"[priority] words: {words}: [[urgency]] 'angin kencang'.level = 'kilat'" in (
            said), said
        assert "Traceback" not in said

    with daemon(cfg, tmp_path) as (running, notify):
        assert running.process.wait(timeout=30) == 78
        notify.collect(0.1)
        assert not any(is_ready(line) for line in notify.lines())
        assert f"{words}: [[urgency]] 'angin kencang'" in running.text()

    missing = config_for(NOWHERE, tmp_path, priority={"words": str(tmp_path / "nope.toml")})
    result = mailflow("--config", str(write_config(missing, tmp_path / "config2.toml")), "check")
    assert result.returncode == 78
    assert f"[priority] words: {tmp_path / 'nope.toml'}: cannot read" in result.stdout
    assert "FAIL priority" in result.stdout


def test_sighup_reads_an_edited_word_file_and_refuses_a_wrong_one(mail_world: Any,
                                                                   tmp_path: Path) -> None:
    words = _own_words(tmp_path, {"family": "lampu jalan mati (Klero)", "level": "segera",
                                  "words": ["lampu ... mati"]})
    shipped = config_for(mail_world, tmp_path, intake={"poll_seconds": 3600.0})
    path = tmp_path / "config.toml"
    with daemon(shipped, tmp_path) as (running, notify):
        notify.wait_for(is_ready, "READY=1")
        notify.wait_for(lambda line: line.startswith("STATUS=idle"), "idle STATUS")

        # The village's own file, named at a reload: the next complaint is read with it.
        write_config(config_for(mail_world, tmp_path, intake={"poll_seconds": 3600.0},
                                priority={"words": str(words)}), path)
        mail_world.deliver(INBOX, complaint(body=LAMP))
        running.signal(signal.SIGHUP)
        # Reading systemd's side too: an unread notify socket fills up and blocks the daemon.
        notify.wait_for(is_ready, "READY=1 after the reload", count=2)
        running.wait_for_log(f"configuration reloaded from {path}")
        _wait_until(lambda: len(tickets(shipped)) == 1, "the lamp complaint's ticket")
        assert tickets(shipped)[0].priority == "darurat"

        # A wrong file: the reload is refused, naming it, and the running lists stay.
        words.write_text(words.read_text() + '\n[[impact]]\nfamily = "x"\nlevel = "besar"\n'
                         'words = ["x"]\n')
        running.signal(signal.SIGHUP)
        notify.wait_for(is_ready, "READY=1 after the refused reload", count=3)
        running.wait_for_log("configuration reload refused, the running configuration stays: ")
        assert f"[priority] words: {words}: [[impact]] 'x'" in running.text()
        mail_world.deliver(INBOX, complaint(body=LAMP.replace("seminggu", "dua minggu")))
        running.signal(signal.SIGHUP)  # refused again; the loop polls after it
        notify.wait_for(is_ready, "READY=1 after the second refused reload", count=4)
        _wait_until(lambda: len(tickets(shipped)) == 2, "a ticket with the running lists")
        assert tickets(shipped)[1].priority == "darurat"
        notify.collect(0.2)
        running.signal(signal.SIGTERM)
        assert running.process.wait(timeout=10) == 0


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
