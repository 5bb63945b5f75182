"""`mailflow db`: the database's schema revision, and upgrading it (mailflow.store.migrate).

    mailflow db current   prints the database's revision and whether it is this mailflow's.
                          Exit 0 when `mailflow run` would start on the database (it is at
                          head, or it is new or empty: the service creates it at head), 78
                          when the service would refuse it (made before migrations, older,
                          newer than this mailflow, or not mailflow's); so a script or an
                          ExecStartPre can ask "does this need `mailflow db upgrade`?".
                          It never creates or changes the database.
    mailflow db upgrade   copies the database aside, then upgrades it to head, and prints
                          `from -> to` and where the copy is. Exit 0 when the database is at
                          head afterwards (also when it already was: nothing is copied then),
                          78 when it cannot be upgraded by this mailflow (newer, or not
                          mailflow's), 70 when the copy or the upgrade failed (then nothing
                          was changed).

Run the upgrade with the service stopped, as the service's user (the copy and SQLite's
side files must stay readable by it).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from mailflow.config import load_configs, resolve_path
from mailflow.errors import MailflowError

log = logging.getLogger(__name__)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    db = add("db", "the database's schema revision: show it, upgrade it")
    db.epilog = ("The database's schema revision. The service creates a new database "
                      "itself but never upgrades one: run `mailflow db upgrade` after "
                      "installing a mailflow that needs a newer schema.")
    db.set_defaults(handler=cmd_db)
    actions = db.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser(
        "current", help="print the schema revision; exit 0 if mailflow can run on it, 78 if not",
        description="Print the database's schema revision and this mailflow's (head). Exit 0 "
                    "when the service would start on the database (at head, or new), 78 when "
                    "it needs `mailflow db upgrade` or is newer than this mailflow. Changes "
                    "nothing.")
    actions.add_parser(
        "upgrade", help="copy the database aside, then upgrade its schema to this mailflow's",
        description="Copy the database next to itself (<file>.before-upgrade-from-<revision>-"
                    "<UTC time>), then upgrade its schema to head in one transaction. Stop the "
                    "service first and run this as its user. Exit 0 when at head afterwards, "
                    "78 when this mailflow cannot upgrade it, 70 when the copy or the upgrade "
                    "failed (nothing was changed).")


def cmd_db(args: argparse.Namespace) -> int:
    # One database for every mailbox of the file (config_file.py SHARED_ONLY).
    url = load_configs(resolve_path(args.config))[0].database_url
    if args.db_action == "current":
        return _current(url)
    return _upgrade(url)


def _current(url: str) -> int:
    from mailflow.store import migrate
    from mailflow.store.db import make_engine

    missing = _missing_sqlite_file(url)
    if missing is not None:
        print(f"none (no database yet at {missing}; mailflow creates it at {migrate.head()} "
              "when it first starts)")
        return os.EX_OK
    engine = make_engine(url)
    try:
        found = migrate.status(engine)
    finally:
        engine.dispose()
    revision = found.revision or "none"
    explained = {
        "head": "head",
        "empty": f"empty database; mailflow creates the schema at {found.head} when it first "
                 "starts",
        "unversioned": f"made before migrations by mailflow 0.1.0; head is {found.head}",
        "behind": f"head is {found.head}",
        "newer": f"unknown to this mailflow, whose head is {found.head}",
        "foreign": "not mailflow's database",
    }[found.kind]
    print(f"{revision} ({explained})")
    if found.runnable:
        return os.EX_OK
    print(f"mailflow: {found.problem()}", file=sys.stderr)
    return os.EX_CONFIG


def _upgrade(url: str) -> int:
    from mailflow.store import migrate

    try:
        done = migrate.upgrade(url)
    except MailflowError:
        raise  # refused (78) or the copy failed (70): main says why
    except Exception as exc:
        # A revision failed; its transaction was rolled back with everything before it.
        log.exception("schema upgrade failed")
        print(f"mailflow: the upgrade failed ({type(exc).__name__}: {exc}); nothing was "
              "changed, the database is as it was", file=sys.stderr)
        return os.EX_SOFTWARE
    before = done.before
    if not done.changed:
        print(f"{done.to_revision} -> {done.to_revision}: already at head, nothing to do")
        return os.EX_OK
    source = {
        "empty": "none (empty database)",
        "unversioned": f"none (made before migrations, taken as {migrate.BASELINE})",
    }.get(before.kind, before.revision or "none")
    print(f"{source} -> {done.to_revision}")
    if done.backup is not None:
        print(f"copy of the database before the upgrade: {done.backup}")
    elif before.kind != "empty":
        print("no copy was made (not a SQLite file): keep your own backup")
    return os.EX_OK


def _missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (looking must not create it)."""
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
    return None if path.exists() else path
