"""`mailflow publish DIR`: the public page for the village website (runners/publish.py).

Exit statuses (sysexits(3), from `os`): 0 written; 73 (EX_CANTCREAT) DIR is not a directory
or holds files `mailflow publish` did not write (nothing is changed); 74 (EX_IOERR) DIR
could not be written (permissions, disk full); 78 configuration, as every command.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from mailflow.adapters.clock import utc_now
from mailflow.config import load_config, resolve_path
from mailflow.errors import PublishRefused
from mailflow.runners.publish import publish
from mailflow.store.migrate import open_database


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `publish` through mailflow.cli's `add(name, help)`."""
    command = add("publish", "write the public page (static, anonymised, in Bahasa Indonesia) "
                  "into DIR for the village website: the promise and how well it was kept, "
                  "counts, and each ticket's status and dates with only text marked #publik")
    command.add_argument("dir", metavar="DIR",
                         help="the site's directory (created if missing; refused if it holds "
                              "files mailflow publish did not write)")
    command.set_defaults(handler=cmd_publish)


def cmd_publish(args: argparse.Namespace) -> int:
    cfg = load_config(resolve_path(args.config), args.mailbox)
    engine = open_database(cfg.database_url)
    directory = Path(args.dir)
    try:
        data = publish(cfg, engine, directory, utc_now())
    except PublishRefused as exc:
        print(f"mailflow: public page not written: {exc}", file=sys.stderr)
        return os.EX_CANTCREAT
    except OSError as exc:
        where = exc.filename or directory
        print(f"mailflow: public page not written: {where}: {exc.strerror or exc}; check that "
              "this user may write there", file=sys.stderr)
        return os.EX_IOERR
    finally:
        engine.dispose()
    print(f"Halaman publik ditulis ke {directory}: {data.total} tiket.")
    return os.EX_OK
