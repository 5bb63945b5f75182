"""`mailflow backup DEST`: a consistent copy of a live database and its files, restorable as
README.md ("Backup and restore") says."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from mailflow.demo.mail import to_toml
from tests.e2e.conftest import MailWorld
from tests.e2e.support import INBOX, SITI, complaint, config_for
from tests.harness import zygote
from tests.harness.village import COMPLETE_BODY

ROOT = Path(__file__).resolve().parents[2]
#: Where config_for points a configuration when no mail server is needed (a backup needs none).
NO_SERVERS = SimpleNamespace(imap_host="127.0.0.1", imap_port=1, smtp_host="127.0.0.1",
                             smtp_port=1, users={INBOX: "unused"})


def mailflow(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run(["--config", str(config), *args], timeout=60, cwd=ROOT,
                      env={**os.environ, "MAILFLOW_CONFIG": ""})


def write_config(cfg_data: dict[str, object], path: Path) -> Path:
    path.write_text(to_toml(cfg_data))
    return path


def with_photo(body: str) -> bytes:
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(complaint(body=body), policy=default)
    msg.add_attachment(b"\x89PNG fake photo of the road", maintype="image", subtype="png",
                       filename="jalan.png")
    return msg.as_bytes()


@pytest.mark.usefixtures("sqlite_only")
def test_backup_of_a_database_being_written_restores_and_reads(mail_world: MailWorld,
                                                                tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    data = cfg.model_dump(mode="json")
    config = write_config(data, tmp_path / "config.toml")
    database = cfg.storage_dir / "mailflow.sqlite3"
    mail_world.deliver(INBOX, with_photo(COMPLETE_BODY))
    mail_world.deliver(INBOX, complaint(body=COMPLETE_BODY + "\nLampu jalan juga mati."))
    assert mailflow(config, "poll", "--once").returncode == 0
    # Another process keeps the database open, as the service does: what it committed last is
    # in -wal, not yet checkpointed into the main file (a copy of that file alone would lose
    # it), and it holds the write lock mid-transaction, whose change must not reach the copy.
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("UPDATE ticket SET subject = 'Pengaduan Masyarakat - lampu' WHERE id = 2")
        assert Path(f"{database}-wal").stat().st_size > 0
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE ticket SET subject = 'UNCOMMITTED'")
        dest = tmp_path / "backups" / "2026-11-29"
        dest.parent.mkdir()

        result = mailflow(config, "backup", str(dest))
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert result.returncode == 0, result.stderr
    assert f"database     {dest / 'mailflow.sqlite3'}" in result.stdout
    assert f"attachments  {dest / 'attachments'} (1 file," in result.stdout
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    copied = [p for p in dest.rglob("*")]
    assert {stat.S_IMODE(p.stat().st_mode) for p in copied if p.is_file()} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in copied if p.is_dir()} == {0o700}

    # Restore as the README says, into a fresh storage directory.
    restored = tmp_path / "restored"
    shutil.copytree(dest, restored)  # cp -r DEST/. /var/lib/mailflow/
    data["storage"] = {**data["storage"], "directory": str(restored)}  # type: ignore[dict-item]
    config2 = write_config(data, tmp_path / "restored.toml")
    current = mailflow(config2, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "(head)" in current.stdout
    shown = mailflow(config2, "show", "ADU-2026-00001")
    assert shown.returncode == 0, shown.stderr
    assert "jalan.png" in shown.stdout
    assert "UNCOMMITTED" not in shown.stdout
    listed = mailflow(config2, "tickets")
    assert "ADU-2026-00002" in listed.stdout
    assert "Pengaduan Masyarakat - lampu" in listed.stdout
    stored = [p for p in (restored / "attachments").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [b"\x89PNG fake photo of the road"]
    assert SITI not in result.stdout + shown.stdout
    # The senders' digest key came along: trace --from still finds what was taken before.
    assert "sender key" in result.stdout
    traced = mailflow(config2, "trace", "--from", SITI)
    assert traced.returncode == 0, traced.stderr
    assert "ADU-2026-00001" in traced.stdout


@pytest.fixture
def offline_config(tmp_path: Path) -> Path:
    """A configuration whose database exists (servers are not needed for a backup)."""
    cfg = config_for(NO_SERVERS, tmp_path)
    config = write_config(cfg.model_dump(mode="json"), tmp_path / "config.toml")
    assert mailflow(config, "tickets").returncode == 0  # creates the database
    return config


@pytest.mark.usefixtures("sqlite_only")
def test_an_existing_non_empty_dest_is_refused(offline_config: Path, tmp_path: Path) -> None:
    dest = tmp_path / "full"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")

    result = mailflow(offline_config, "backup", str(dest))

    assert result.returncode == 73
    assert f"{dest} exists and is not empty" in result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["mine.txt"]


@pytest.mark.usefixtures("sqlite_only")
def test_an_unwritable_dest_is_a_storage_error(offline_config: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    dest = tmp_path / "a-file" / "backup"

    result = mailflow(offline_config, "backup", str(dest))

    assert result.returncode == 74
    assert f"cannot write the backup to {dest}" in result.stderr
    assert "Traceback" not in result.stderr


def test_postgresql_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    pgpass = "/etc/mailflow/pgpass"
    cfg = config_for(NO_SERVERS, tmp_path,
                     database={"url": f"postgresql+psycopg://mf@db/mailflow?passfile={pgpass}"})
    config = write_config(cfg.model_dump(mode="json"), tmp_path / "config.toml")

    result = mailflow(config, "backup", str(tmp_path / "b"))

    assert result.returncode == 78
    assert "pg_dump --format=custom" in result.stderr
    # Percent-encoded, which libpq decodes: the password stays in the file it names.
    assert "--dbname='postgresql://mf@db/mailflow?passfile=%2Fetc%2Fmailflow%2Fpgpass'" in result.stderr
    assert not (tmp_path / "b").exists()
