"""The Jinja2 templates in Bahasa Indonesia that every outgoing message is written from.

Resident text only ever enters a template as a variable, never as template
source, and the HTML alternative is autoescaped, so nothing a resident writes is
evaluated or rendered as markup.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)

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


class Renderer:
    def __init__(self, directory: Path | None = None, own: str | None = None) -> None:
        """`own` is a village's [templates] directory: a file there replaces the shipped one of
        the same name, and every other template stays as shipped."""
        folders = [*([Path(own)] if own else []), directory or default_templates_dir()]
        loader = ChoiceLoader([FileSystemLoader(folder) for folder in folders])
        self._text = Environment(
            loader=loader, autoescape=False, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        self._html = Environment(
            loader=loader, autoescape=select_autoescape(["html", "j2"]),
            undefined=StrictUndefined,
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
