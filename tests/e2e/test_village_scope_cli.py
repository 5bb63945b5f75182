"""The staff's commands on a regency's configuration (two [[mailboxes]], one database), run
through mailflow.cli's `main` on a real database: `--mailbox tegal` lists, shows, exports,
reports and publishes Tegal's tickets only, and Klero's ticket is "no ticket" (66) with the
message of a missing one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.cli import main
from mailflow.store.db import make_engine
from mailflow.store.migrate import prepare
from tests.harness.postgres import store_url
from tests.store.test_village_scope import MARKS, seed
from tests.unit.plan_support import SECRET

REGENCY = """
[village]
name = "Kabupaten Semarang"
[imap]
host = "127.0.0.1"
security = "plain"
password = "x"
[smtp]
host = "127.0.0.1"
security = "plain"
from_address = "pengaduan@semarangkab.go.id"
[storage]
directory = "{state}"
[database]
url = "{url}"
[commands]
accept = ["signed_reply"]
secret = "{secret}"
[[staff]]
email = "kasi@klero.desa.id"
name = "Kasi Pelayanan"
roles = ["verifikator"]

[[mailboxes]]
name = "klero"
imap = {{ username = "pengaduan@klero.desa.id" }}
tickets = {{ prefix = "KLR" }}
[[mailboxes]]
name = "tegal"
imap = {{ username = "pengaduan@tegal.desa.id" }}
tickets = {{ prefix = "TGL" }}
"""


def test_tegals_staff_see_only_tegals_tickets(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    url = store_url(tmp_path)
    engine = make_engine(url)
    prepare(engine)
    klero, tegal = seed(engine, "KLR"), seed(engine, "TGL")
    engine.dispose()
    (tmp_path / "state").mkdir()
    path = tmp_path / "regency.toml"
    path.write_text(REGENCY.format(state=tmp_path / "state", url=url, secret=SECRET))
    site = tmp_path / "site"

    def run(*args: str) -> tuple[int, str, str]:
        status = main(["--config", str(path), "--mailbox", "tegal", *args])
        out, err = capsys.readouterr()
        return status, out, err

    runs = [run("tickets"), run("show", tegal[0]), run("export", "--csv", "-", "--with-subject"),
            run("report", "--month", "2026-11", "--json"), run("publish", str(site))]
    assert [status for status, _, _ in runs] == [0] * 5, runs
    assert all(tegal[0] in out or "2 tiket" in out for _, out, _ in runs), runs
    pages = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*") if p.is_file())
    printed = "".join(out + err for _, out, err in runs) + pages
    assert tegal[1] in printed and [m for m in MARKS["KLR"] if m in printed] == []

    missing = run("show", "TGL-2026-00042")
    elsewhere = run("show", klero[0].lower())
    assert (missing[0], elsewhere[0]) == (66, 66)
    assert elsewhere[2] == missing[2].replace("TGL-2026-00042", klero[0].lower())
    assert "KLR-" not in elsewhere[1]
