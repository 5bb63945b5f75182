"""The Jinja2 templates in Bahasa Indonesia that every outgoing message is written from.

Resident text only ever enters a template as a variable, never as template
source, and the HTML alternative is autoescaped, so nothing a resident writes is
evaluated or rendered as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)
from jinja2.bccache import Bucket

from mailflow.errors import ConfigError


def default_templates_dir() -> Path:
    """The checkout's `templates/`, else the copy installed under `share/mailflow`."""
    candidates = (
        Path(__file__).resolve().parents[2] / "templates",
        Path(sys.prefix) / "share" / "mailflow" / "templates",
    )
    for candidate in candidates:
        if (candidate / "ack.txt.j2").is_file():
            return candidate
    raise ConfigError("templates not found; looked in " + ", ".join(map(str, candidates)))


class CompiledTemplates(BytecodeCache):
    """The compiled code of each template file, shared by every Renderer of the process.

    A fleet builds one Renderer per village, and again at each reload: compiling the same
    templates once per village was a sixth of a regency instance's CPU (bench/README.md,
    round 6). Jinja keys a template's code on its name and file and hands over its source's
    checksum: code compiled from other text is never used, so an edited template is compiled
    afresh. Kept as code objects (immutable; each Template runs its own copy of the module
    namespace), not marshalled bytes. One cache per kind of Environment, since the text and
    the HTML environments compile the same source differently.
    """

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        found = self._code.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        self._code.clear()


TEXT_CODE = CompiledTemplates()
HTML_CODE = CompiledTemplates()


class Renderer:
    def __init__(self, directory: Path | None = None, own: str | None = None) -> None:
        """`own` is a village's [templates] directory: a file there replaces the shipped one of
        the same name, and every other template stays as shipped."""
        folders = [*([Path(own)] if own else []), directory or default_templates_dir()]
        loader = ChoiceLoader([FileSystemLoader(folder) for folder in folders])
        self._text = Environment(
            loader=loader, autoescape=False, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
            bytecode_cache=TEXT_CODE,
        )
        self._html = Environment(
            loader=loader, autoescape=select_autoescape(["html", "j2"]),
            undefined=StrictUndefined, bytecode_cache=HTML_CODE,
        )

        # Each template compiled once and kept: get_template looks at the file again (a
        # stat) on every call, four times per new ticket (issue 10).
        self._templates: dict[str, tuple[Template, Template]] = {}

    def render(self, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        pair = self._templates.get(name)
        if pair is None:
            pair = (self._text.get_template(f"{name}.txt.j2"),
                    self._html.get_template(f"{name}.html.j2"))
            self._templates[name] = pair
        return pair[0].render(context), pair[1].render(context)
