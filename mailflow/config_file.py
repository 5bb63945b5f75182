"""The configuration file's shape: one mailbox, or several villages sharing one database.

A regency serves many villages from one file. Its top-level sections are what the villages
share (the database, the storage, the metrics endpoint, and defaults for everything else);
each `[[mailboxes]]` entry is one village's mailbox, with its own `name` and whichever
sections are its own: `[mailboxes.village]`, `[mailboxes.imap]`, `[[mailboxes.staff]]` and so
on. A section an entry gives is merged key by key over the top-level one, so a village states
only what differs (its IMAP username, its prefix, its extra holidays); a list (staff, extra
holidays) is replaced whole, never merged, so no village inherits another's staff by accident.

This module only reshapes the parsed TOML into one plain table per mailbox, before pydantic
validates each as a whole Config (mailflow/config.py): it knows section names, not values.
"""

from __future__ import annotations

import re
from typing import Any

from mailflow.errors import ConfigError

ENTRIES = "mailboxes"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

#: Sections one process has once, whatever the number of villages: a village cannot have its
#: own. The database and storage are where the villages' tickets live side by side.
SHARED_ONLY = frozenset({"database", "storage", "metrics"})


def mailbox_tables(data: dict[str, Any], source: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, the whole table for that mailbox) for each mailbox the file serves.

    A file without `[[mailboxes]]` serves one mailbox, named "" (the name of a single-village
    installation, which needs none)."""
    entries = data.get(ENTRIES)
    if entries is None:
        return [("", data)]
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict)
                                                               for e in entries):
        raise ConfigError(f"{source}: [[{ENTRIES}]]: give one or more tables, one per village "
                          "mailbox (see config.example.toml)")
    shared = {key: value for key, value in data.items() if key != ENTRIES}
    tables, problems, seen = [], [], set[str]()
    for index, entry in enumerate(entries, 1):
        where = f"{source}: [[{ENTRIES}]] #{index}"
        name = entry.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(f"{where}: name: give a short name of lowercase letters, digits and "
                            "'-' (e.g. \"klero\"); it names the mailbox in logs, STATUS and "
                            "`--mailbox NAME`")
            continue
        if name in seen:
            problems.append(f"{where}: name {name!r} is given twice; each mailbox needs its own")
        seen.add(name)
        where = f"{source}: [[{ENTRIES}]] {name!r}"
        problems += [f"{where}: [{key}] is shared by every mailbox; set it at the top level only"
                     for key in sorted(SHARED_ONLY & entry.keys())]
        tables.append((name, _merged(shared, {k: v for k, v in entry.items() if k != "name"})))
    if problems:
        raise ConfigError("\n".join(problems))
    return tables


def _merged(shared: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """`own`'s sections over `shared`'s: a table key by key, anything else (a list) whole."""
    table = dict(shared)
    for key, value in own.items():
        base = table.get(key)
        table[key] = ({**base, **value} if isinstance(base, dict) and isinstance(value, dict)
                      else value)
    return table


def describe_error(source: str, err: Any) -> str:
    """Turn one pydantic error into 'FILE: [section] key: what is expected'."""
    loc = [str(part) for part in err["loc"]]
    if len(loc) > 1:
        where = f"[{loc[0]}] " + ".".join(loc[1:])
    elif loc and err["type"] != "missing":
        where = f"[{loc[0]}]"
    else:
        where = loc[0] if loc else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        what = "unknown key (check the spelling against config.example.toml)"
    elif kind == "missing":
        what = "missing; this value is required"
    else:
        given = err.get("input")
        # A database URL may hold a password: never echoed.
        secret = loc[:2] == ["database", "url"]
        shown = "" if isinstance(given, dict) or secret else f" (got {given!r})"
        what = err["msg"].removeprefix("Value error, ") + shown
    return f"{source}: {where.strip()}: {what}" if where else f"{source}: {what}"
