"""What mailflow stores is created private whatever the umask; what it finds is left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from mailflow.store.db import make_engine
from mailflow.store.files import FileStore


@pytest.fixture
def umask_000() -> Iterator[None]:
    """The most permissive umask: whatever stays private here is private by mailflow's doing."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_000")
def test_new_files_are_0600_and_new_directories_0700(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "state"
    files = FileStore(root)

    stored = files.save_attachment(b"\x89PNG ktp")
    quarantined = files.save_quarantined("7-42", b"Subject: x\r\n\r\nisi")
    engine = make_engine(f"sqlite:///{root / 'db' / 'mailflow.sqlite3'}")
    with engine.connect() as conn:
        conn.execute(text("PRAGMA journal_mode=WAL"))
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.commit()
        created = [root / stored.path, root / quarantined, root / "db" / "mailflow.sqlite3",
                   root / "db" / "mailflow.sqlite3-wal", root / "db" / "mailflow.sqlite3-shm"]
        modes = {path.name: _mode(path) for path in created}
    engine.dispose()

    assert set(modes.values()) == {0o600}, modes
    for directory in (tmp_path / "a", tmp_path / "a" / "b", root, root / "attachments",
                      (root / stored.path).parent, root / "quarantine", root / "db"):
        assert _mode(directory) == 0o700, directory


@pytest.mark.usefixtures("umask_000")
def test_an_existing_directory_keeps_the_mode_its_administrator_gave_it(tmp_path: Path) -> None:
    root = tmp_path / "state"
    root.mkdir(mode=0o750)
    FileStore(root).save_quarantined("7-43", b"isi")
    assert _mode(root) == 0o750
    assert _mode(root / "quarantine" / "7-43.eml") == 0o600
