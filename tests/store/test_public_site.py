"""`mailflow publish DIR` on a real SQLite database (runners/publish.py, cli/publish.py).

The 108 identity complaints (tests/harness/publish_db.py) are published: no identity string
of any of them is in any file of the site, while the #publik notes' substance is; the
files are world-readable; DIR is created, re-published in place (stale pages removed), and
refused when it holds files mailflow did not write, with its exit status and nothing changed.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from mailflow.cli import main
from mailflow.demo.mail import to_toml
from mailflow.runners.publish import MARKER, publish, write_site
from tests.e2e.leaks import Secrets, all_leaks
from tests.fixtures.identity_complaints import complaints
from tests.harness.publish_db import NOW, PUBLIC_NOTE, number, publish_db
from tests.unit.plan_support import config

_TAGS = re.compile(r"<[^>]+>")


def _site_texts(site: Path) -> list[tuple[str, str]]:
    return [(p.relative_to(site).as_posix(), p.read_text(encoding="utf-8"))
            for p in sorted(site.rglob("*")) if p.is_file()]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("publish")
    engine = publish_db(where)
    publish(config(), engine, where / "site", NOW)
    engine.dispose()
    return where / "site"


def test_no_identity_of_the_108_complaints_in_any_file_of_the_site(site: Path) -> None:
    fixture = complaints()
    texts = _site_texts(site)
    assert len(texts) == len(fixture) + 4  # a page each, index, list, tickets.json, marker
    examined, leaks = all_leaks(Secrets(fixture), texts)
    assert examined == len(texts)
    assert leaks == []
    everything = "\n".join(text for _, text in texts).casefold()
    for item in fixture:
        assert item.person.email.casefold() not in everything
        # Nothing a resident wrote: not the subject, the complaint, nor the reply.
        assert item.substance.casefold() not in everything
    # The #publik notes are there, scrubbed; the staff's non-public notes are not.
    assert PUBLIC_NOTE.casefold() in everything
    assert "petugas menuju lokasi" not in everything


def test_the_site_has_the_promise_the_counts_and_every_ticket(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    text = _TAGS.sub(" ", index)
    assert "paling lambat 7 hari kerja sejak pengaduan diterima" in text
    assert "<svg" in index and "http://" not in index.replace("http://www.w3.org/2000/svg", "")
    assert re.search(r"WhatsApp\s*</td>\s*<td[^>]*>&lt; 3<", index)  # 2 tickets
    assert re.search(r"telepon\s*</td>\s*<td[^>]*>11<", index)
    lookup = json.loads((site / "tickets.json").read_text(encoding="utf-8"))["tickets"]
    assert len(lookup) == 108
    first = lookup[number(complaints(1)[0])]
    assert first["status"] == "selesai" and PUBLIC_NOTE in first["texts"][0]
    page = (site / "t" / f"{number(complaints(1)[0])}.html").read_text(encoding="utf-8")
    assert PUBLIC_NOTE in page and "Selesai" in page


def test_files_are_world_readable_and_listed_in_the_marker(site: Path) -> None:
    for path in site.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path
    listed = json.loads((site / MARKER).read_text())["files"]
    assert sorted(listed) == sorted(name for name, _ in _site_texts(site) if name != MARKER)


def test_modes_do_not_depend_on_the_umask(tmp_path: Path) -> None:
    """The service runs with UMask=0077; the web server must still read what it writes."""
    old = os.umask(0o077)
    try:
        write_site(tmp_path / "www" / "desa" / "pengaduan", {"index.html": b"x", "t/A-2026-1.html": b"y"})
    finally:
        os.umask(old)
    for path in [tmp_path / "www", *(tmp_path / "www").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path


def test_publishing_again_replaces_the_files_and_removes_stale_pages(tmp_path: Path) -> None:
    site = tmp_path / "a" / "b"
    write_site(site, {"index.html": b"1", "t/X-2026-1.html": b"old", "t/X-2026-2.html": b"2"})
    write_site(site, {"index.html": b"2", "t/X-2026-2.html": b"2"})
    assert (site / "index.html").read_bytes() == b"2"
    assert not (site / "t" / "X-2026-1.html").exists()
    assert sorted(p.name for p in site.iterdir()) == [MARKER, "index.html", "t"]


def _cli(tmp_path: Path, target: Path) -> int:
    if not (tmp_path / "publish.sqlite3").exists():
        publish_db(tmp_path, complaints(6)).dispose()
    cfg = config(database={"url": f"sqlite:///{tmp_path / 'publish.sqlite3'}"},
                 storage={"directory": str(tmp_path / "storage")})
    path = tmp_path / "config.toml"
    path.write_text(to_toml(cfg.model_dump(mode="json")))
    return main(["--config", str(path), "publish", str(target)])


def test_the_cli_writes_a_new_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path, tmp_path / "www" / "pengaduan") == 0
    assert "Halaman publik ditulis" in capsys.readouterr().out
    assert (tmp_path / "www" / "pengaduan" / "t" / "ADU-2026-00006.html").is_file()


def test_the_cli_refuses_a_directory_with_other_files_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "www"
    target.mkdir()
    (target / "foto-kades.jpg").write_bytes(b"jpeg")
    assert _cli(tmp_path, target) == 73
    err = capsys.readouterr().err
    assert "foto-kades.jpg" in err and "not written by `mailflow publish`" in err
    assert [p.name for p in target.iterdir()] == ["foto-kades.jpg"]
    # Once published, a file added later is a stranger too.
    other = tmp_path / "www2"
    assert _cli(tmp_path, other) == 0
    (other / "t" / "catatan.txt").write_text("x")
    assert _cli(tmp_path, other) == 73
    assert "t/catatan.txt" in capsys.readouterr().err


def test_the_cli_refuses_a_file_and_reports_an_unwritable_place(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "berkas").write_text("x")
    assert _cli(tmp_path, tmp_path / "berkas") == 73
    assert "is not a directory" in capsys.readouterr().err
    assert _cli(tmp_path, tmp_path / "berkas" / "site") == 74  # a file where a folder must be
    assert "public page not written" in capsys.readouterr().err
