"""The spool of large messages (store/spool.py): private files, removed when the message is
done, and what a killed process left swept a day later, never a live one's."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from mailflow.store.spool import SPOOL, MessageSpool


def test_a_spool_is_private_and_leaves_nothing_behind(tmp_path: Path) -> None:
    spool = MessageSpool(tmp_path, uid=7)
    spool.write(b"Subject: x\r\n\r\n" + b"QUJD" * 40 + b"\r\n")
    assert stat.S_IMODE(spool.raw_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / SPOOL).stat().st_mode) == 0o700
    reduced = spool.reduce(min_run=16)
    [spilled] = reduced.spills.values()
    assert Path(spilled.path).read_bytes() == b"ABC" * 40
    spool.close()
    assert list((tmp_path / SPOOL).iterdir()) == []


def test_files_a_killed_process_left_are_swept_after_a_day(tmp_path: Path) -> None:
    directory = tmp_path / SPOOL
    directory.mkdir()
    old, recent = directory / "1-5-dead.eml", directory / "2-6-live.eml"
    old.write_bytes(b"old")
    recent.write_bytes(b"recent")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))

    spool = MessageSpool(tmp_path, uid=8)

    assert not old.exists() and recent.exists()
    spool.close()
