"""Consistent copies of mailflow's state: the SQLite database and the files beside it.

A live SQLite database in WAL mode is not one file: committed transactions may still sit in
`-wal` until a checkpoint, so copying `mailflow.sqlite3` alone can lose them, and copying it
while a transaction commits can give a torn file. SQLite's online backup API copies the
database as one snapshot instead, while the service goes on reading and writing (in WAL
mode a reader blocks no writer). `mailflow db upgrade` uses it to copy the database aside
(mailflow.store.migrate) and `mailflow backup` to copy it away.

Everything copied holds residents' identities: files are 0600 and directories 0700 (see
mailflow.store.files).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from mailflow.store.files import PRIVATE_DIRECTORY, PRIVATE_FILE


@dataclass(frozen=True)
class Copied:
    """What one step of a backup wrote."""

    path: Path
    files: int
    size: int  # bytes


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for another database (or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def libpq_url(url: str) -> str:
    """`url` as pg_dump reads it: no SQLAlchemy driver (`+psycopg`), no password."""
    parsed = make_url(url)
    # URL.set() keeps the password when given None; the named tuple's _replace drops it.
    bare = parsed._replace(drivername=parsed.get_backend_name(), password=None)
    return bare.render_as_string(hide_password=False)


def copy_sqlite(source: Path, target: Path, *, mode: int = PRIVATE_FILE) -> None:
    """Copy the database `source` to the new file `target` as one consistent snapshot.

    `target` is created exclusively (an existing file is an error, FileExistsError) with
    `mode`. Raises OSError or sqlite3.Error; a failed copy leaves no `target` behind.
    """
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE))
    try:
        os.chmod(target, mode)
        # mode=rw: a missing source is an error, not a new empty database. Not mode=ro: a
        # read-only connection to a WAL database leaves -wal and -shm behind when it closes.
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True,
                                     timeout=30)) as src, \
                closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise sqlite3.DatabaseError(f"the copy fails SQLite's quick_check: {problem}")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def copy_private_tree(source: Path, target: Path) -> Copied:
    """Copy the directory `source` to the new directory `target`: files 0600, directories 0700.

    Files being written (`*.part`, renamed into place when complete) are left out. Raises
    OSError.
    """
    files = size = 0
    target.mkdir(mode=PRIVATE_DIRECTORY)
    os.chmod(target, PRIVATE_DIRECTORY)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or entry.name.endswith(".part"):
            continue
        if entry.is_dir():
            below = copy_private_tree(entry, target / entry.name)
            files, size = files + below.files, size + below.size
        elif entry.is_file():
            descriptor = os.open(target / entry.name,
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
            with entry.open("rb") as reading, os.fdopen(descriptor, "wb") as writing:
                os.fchmod(descriptor, PRIVATE_FILE)
                shutil.copyfileobj(reading, writing)
            files, size = files + 1, size + entry.stat().st_size
    return Copied(target, files, size)
