"""Reads the priority suggester's word lists: the default shipped in the package, or a file.

The matching is pure (mailflow/core/priority.py); this is the edge that reads the TOML and
turns every fault in it into a ConfigError naming the file and what to fix.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from mailflow.core.priority import word_lists
from mailflow.core.priority_lists import WordLists
from mailflow.errors import ConfigError

DEFAULT_NAME = "priority_words.toml"  # beside mailflow/core/priority.py

# Compiled lists by their text: a regency's 250 villages mostly share one file (or the
# default), and each compiled copy with its index holds about half a megabyte. An edited file
# is new text, so a reload (SIGHUP) still compiles it afresh.
_COMPILED: dict[str, WordLists] = {}
_COMPILED_LIMIT = 16


def default_text() -> str:
    """The shipped lists, as text (a starting point for a village's own file)."""
    return resources.files("mailflow.core").joinpath(DEFAULT_NAME).read_text(encoding="utf-8")


def load_word_lists(path: Path | None = None) -> WordLists:
    """The lists in `path`, or the shipped default when None; ConfigError if they are wrong."""
    where = str(path) if path is not None else f"mailflow/core/{DEFAULT_NAME} (bawaan)"
    try:
        text = path.read_text(encoding="utf-8") if path is not None else default_text()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the priority word lists ({exc.strerror}); "
                          "fix the path or remove the setting to use the default") from exc
    if text in _COMPILED:
        return _COMPILED[text]
    try:
        compiled = word_lists(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc}); fix the line it names") from exc
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[text] = compiled
    return compiled


def configured_word_lists(path: Path | None) -> WordLists:
    """The lists `[priority] words` names (None: the shipped default); a ConfigError says
    which setting named the file, the file, and the entry to fix."""
    try:
        return load_word_lists(path)
    except ConfigError as exc:
        raise ConfigError(f"[priority] words: {exc}") from exc
