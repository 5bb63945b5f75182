"""The head schema revision read from the migration files' own lines, without Alembic.

A daemon starting on a database at head needs only "is it at head?": one SELECT of
`alembic_version` and this. Importing Alembic (with Mako and Pygments) for that cost some
11 MB of RSS for the daemon's whole life (issue 10, memory). Anything but one plain line of
history gives None, and Alembic decides (store/migrate.py).
"""

from __future__ import annotations

import re
from pathlib import Path

_REVISION_LINE = re.compile(r'^(down_revision|revision)\b[^=\n]*=\s*(None|"(\w+)")\s*$', re.M)


def plain_head(versions: Path) -> str | None:
    """The head revision read from the files' `revision` / `down_revision` lines; None
    unless they form one plain line of history (then Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        found = dict((m[1], m[3]) for m in _REVISION_LINE.finditer(path.read_text("utf-8")))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None
