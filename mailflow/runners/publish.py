"""`mailflow publish DIR`: read the tickets, build the public page, write it into DIR.

The page's data comes from core/public_page.py (what may be shown) with each ticket judged
by core/promise.py `kept` through the clock's own timeline (runners/clock.py), so the page
says "within the promise" exactly as reminders and reports do. Public texts (#publik) are
scrubbed of the reporter's identity once more on the way out.

Writing, for a directory a web server reads while it changes:
  * DIR is created if missing; one that holds anything `mailflow publish` did not write
    (it lists what it wrote in the marker file `.mailflow-publish`) is refused, so a wrong
    path never overwrites or deletes someone else's files;
  * every file is written in full in a staging directory inside DIR, then renamed over the
    old one (a reader sees the old file or the new, never half of one): the tickets' pages
    first, then the list, tickets.json and index.html, which link to them; pages of the last
    run that are no longer needed are removed last;
  * files are 0644 and directories 0755 whatever the umask (the village website serves them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from mailflow.compose.public_site import LIST_FILE, LOOKUP_FILE, PublicSite
from mailflow.config import Config
from mailflow.core.privacy import redactor_for
from mailflow.core.promise import kept
from mailflow.core.public_page import PageData, PublicTicket, page_data
from mailflow.core.workdays import WorkCalendar, calendar_for
from mailflow.errors import PublishRefused
from mailflow.runners.clock import targets_for, timeline_of
from mailflow.store.db import Engine, Session
from mailflow.store.public_queries import tickets_for_publishing

MARKER = ".mailflow-publish"
_STAGING = ".mailflow-staging-"
_SAFE_NUMBER = re.compile(r"^[A-Z][A-Z0-9]{0,9}-\d{4}-\d{1,9}$")
_LAST = (LIST_FILE, LOOKUP_FILE, "index.html")  # moved into place after what they link to


def build_page(cfg: Config, engine: Engine, now: datetime,
               calendar: WorkCalendar | None = None) -> PageData:
    """The public page's data for every ticket of the configuration's village, at `now`."""
    calendar = calendar or calendar_for(cfg.calendar)
    targets = targets_for(cfg)
    with Session(engine) as session:
        rows = tickets_for_publishing(session, cfg.scope)
    tickets = []
    for row in rows:
        if not _SAFE_NUMBER.match(row.number):
            continue  # never a file name from an unexpected number
        hide = redactor_for(cfg, row.reporter)
        result = kept(timeline_of(row, row.events, calendar), calendar, targets, now)
        tickets.append(PublicTicket(row.number, row.channel, row.received_at, result,
                                    tuple(hide.text(note) for note in row.public_notes)))
    return page_data(tickets, calendar, now, village=cfg.village.name,
                     min_count=cfg.publish.min_count)


def publish(cfg: Config, engine: Engine, directory: Path, now: datetime) -> PageData:
    """Build the page and write it into `directory` (PublishRefused, OSError)."""
    data = build_page(cfg, engine, now)
    write_site(directory, PublicSite().files(data))
    return data


def _listed(directory: Path) -> set[str]:
    """The files `mailflow publish` wrote last time (from the marker); refuses a directory
    that holds anything else."""
    marker = directory / MARKER
    found = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                   if not p.is_dir() and not p.relative_to(directory).parts[0].startswith(_STAGING))
    if not found:
        return set()
    if not marker.is_file():
        raise PublishRefused(
            f"{directory} is not empty and was not written by `mailflow publish` (no {MARKER} "
            f"file; it holds {found[0]!r}, for example); give a new or empty directory")
    try:
        listed = set(json.loads(marker.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PublishRefused(f"{marker} is not mailflow's marker file ({exc}); give a new or "
                             "empty directory") from None
    strangers = [name for name in found if name != MARKER and name not in listed]
    if strangers:
        raise PublishRefused(
            f"{directory} holds {strangers[0]!r}, which `mailflow publish` did not write "
            f"({len(strangers)} such file(s)); move it away or give another directory")
    return listed


def _make_dir(path: Path) -> None:
    """`path` and each missing parent, 0755 whatever the umask (the web server walks them)."""
    missing = [p for p in (path, *path.parents) if not p.is_dir()]
    for folder in reversed(missing):
        folder.mkdir()
        folder.chmod(0o755)


def write_site(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` (relative path -> content) into `directory`, as the module says."""
    if directory.exists() and not directory.is_dir():
        raise PublishRefused(f"{directory} exists and is not a directory; give a directory")
    _make_dir(directory)
    previous = _listed(directory)
    for leftover in directory.glob(_STAGING + "*"):  # from a run that was killed
        shutil.rmtree(leftover, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=directory))
    try:
        # Until the stale pages are gone the marker lists both runs' files, so a run killed
        # half-way leaves a directory the next run still recognises as its own.
        _write_marker(directory, staging, previous | set(files))
        for name, content in files.items():
            path = staging / name
            _make_dir(path.parent)
            path.write_bytes(content)
            path.chmod(0o644)
        order = sorted(files, key=lambda n: (_LAST.index(n) + 1 if n in _LAST else 0, n))
        for name in order:
            _make_dir((directory / name).parent)
            os.replace(staging / name, directory / name)
        for stale in sorted(previous - set(files)):
            (directory / stale).unlink(missing_ok=True)
        _write_marker(directory, staging, set(files))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_marker(directory: Path, staging: Path, files: set[str]) -> None:
    path = staging / MARKER
    path.write_text(json.dumps({"written_by": "mailflow publish", "files": sorted(files)},
                               indent=1), encoding="utf-8")
    path.chmod(0o644)
    os.replace(path, directory / MARKER)
