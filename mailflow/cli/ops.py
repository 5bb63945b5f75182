"""`mailflow backup DEST`: a consistent copy of the live state, for the administrator.

    mailflow backup DEST   makes the new directory DEST (0700) and copies into it the SQLite
                           database (SQLite's online backup: one consistent snapshot, taken
                           while the service runs; mailflow.store.backup), then the
                           attachments/ and quarantine/ directories of [storage]
                           directory and the key of the senders' digests, every file
                           0600. Prints what it wrote. The database is copied first: an
                           attachment is written before the ticket that refers to it is
                           committed, so every attachment the copy refers to is copied.

Exit statuses: 0 written; 73 DEST exists and is not empty (nothing is written); 74 DEST or a
file in it could not be written, or the database could not be read; 78 the configuration
cannot be loaded, or the database is not a SQLite file (PostgreSQL: the message gives the
pg_dump command). Restoring is described in README.md, "Backup and restore".
"""

from __future__ import annotations

import argparse
import os
import pwd
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from mailflow.config import load_configs, resolve_path
from mailflow.errors import ConfigError, StorageUnavailable

EX_CANTCREAT = 73
#: The state directories copied beside the database, as mailflow.store.files names them.
STATE_DIRECTORIES = ("attachments", "quarantine")


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    backup = add("backup", "copy the database and stored files of the running service to DEST")
    backup.epilog = ("DEST must not exist yet (or be empty) and be writable by the user running "
                     "mailflow (the service user, when run as root through /usr/local/bin/"
                     "mailflow). See README.md, \"Backup and restore\", for restoring.")
    backup.add_argument("dest", metavar="DEST", help="the new directory to write the backup into")
    backup.set_defaults(handler=cmd_backup)


def cmd_backup(args: argparse.Namespace) -> int:
    from mailflow.store.backup import copy_sqlite, sqlite_file

    cfg = load_configs(resolve_path(args.config))[0]  # the database and storage are shared
    database = sqlite_file(cfg.database_url)
    if database is None:
        raise ConfigError(_not_sqlite(cfg.database_url, Path(args.dest).absolute()))
    dest = Path(args.dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        print(f"mailflow: {dest} exists and is not empty; give a new directory for the backup "
              "(nothing was written)", file=sys.stderr)
        return EX_CANTCREAT
    if not database.is_file():
        raise StorageUnavailable(f"there is no database at {database} to back up "
                                 "([storage] directory or [database] url)")
    try:
        dest.mkdir(mode=0o700, exist_ok=True)
        os.chmod(dest, 0o700)
        copy_sqlite(database, dest / database.name)
    except sqlite3.Error as exc:
        raise StorageUnavailable(f"cannot read the database {database}: {exc}") from exc
    except OSError as exc:
        raise _unwritable(Path(exc.filename or dest), exc) from exc
    print(f"database     {dest / database.name} "
          f"({_size((dest / database.name).stat().st_size)}, SQLite online backup)")
    _copy_state(cfg.storage_dir, dest)
    print(f"backup complete in {dest} (files 0600, directories 0700, owned by {_effective_user()})")
    return os.EX_OK


def _copy_state(storage: Path, dest: Path) -> None:
    from mailflow.store.backup import copy_private_tree

    for name in STATE_DIRECTORIES:
        if not (storage / name).is_dir():
            print(f"{name:<12} (none in {storage})")
            continue
        try:
            copied = copy_private_tree(storage / name, dest / name)
        except OSError as exc:
            raise _unwritable(Path(exc.filename or dest / name), exc) from exc
        files = f"{copied.files} file" + ("" if copied.files == 1 else "s")
        print(f"{name:<12} {copied.path} ({files}, {_size(copied.size)})")
    _copy_sender_key(storage, dest)


def _copy_sender_key(storage: Path, dest: Path) -> None:
    """The key of the senders' digests lives beside the database, not in it (so a copy of the
    database alone cannot test guessed addresses); without it `mailflow trace --from` finds
    nothing that was taken before a restore."""
    from mailflow.store.files import SENDER_KEY_FILE

    source = storage / SENDER_KEY_FILE
    if not source.is_file():
        return
    target = dest / SENDER_KEY_FILE
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(source.read_bytes())
    except OSError as exc:
        raise _unwritable(target, exc) from exc
    print(f"{'sender key':<12} {target} (for `mailflow trace --from`)")


def _unwritable(path: Path, exc: OSError) -> StorageUnavailable:
    return StorageUnavailable(
        f"cannot write the backup to {path}: {exc.strerror or exc} (the backup runs as the user "
        f"{_effective_user()}: give a DEST that user may create, e.g. inside a directory made "
        "with `install -d -m 0700 -o mailflow /var/backups/mailflow`)")


def _effective_user() -> str:
    """Who the files belong to (not $LOGNAME: the wrapper keeps the administrator's name there)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _not_sqlite(url: str, dest: Path) -> str:
    from mailflow.store.backup import libpq_url

    return (f"[database] url: mailflow backup copies only a SQLite database. Back up PostgreSQL "
            f"with pg_dump (the password from ~/.pgpass or PGPASSWORD), e.g.\n"
            f"  pg_dump --format=custom --file={dest}.pgdump --dbname='{libpq_url(url)}'\n"
            "and copy the attachments/ and quarantine/ directories of [storage] directory beside "
            "it; restore with pg_restore --clean --dbname=...")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"
