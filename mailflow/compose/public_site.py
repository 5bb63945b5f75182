"""The public page's files, written from core/public_page.py's data with templates/public/.

Pure rendering: data in, {relative path: bytes} out; runners/publish.py writes them. Every
value enters a template as a variable of an autoescaped environment, so a public text with
markup in it is shown as text. No external asset: the CSS, the chart (inline SVG) and the
lookup's few lines of JavaScript are in the pages themselves; `tickets.json` is what the
lookup reads, and each ticket has its own page (t/NUMBER.html), so the lookup also works
without JavaScript (the form then opens the list of tickets).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from mailflow.compose.render import default_templates_dir
from mailflow.core.public_page import (
    MonthRow,
    PageData,
    TicketLine,
    lookup_entry,
    promise_words,
    tanggal,
)

LOOKUP_FILE = "tickets.json"
LIST_FILE = "daftar.html"

# The chart's geometry, in SVG user units (the SVG scales to the width of the screen).
_W, _H, _TOP, _BOTTOM, _LEFT = 360, 200, 16, 24, 34


def ticket_path(number: str) -> str:
    return f"t/{number}.html"


def chart_svg(months: tuple[MonthRow, ...]) -> Markup:
    """Bars of the share answered within the promise, month by month (no bar: none decided)."""
    plot = _H - _TOP - _BOTTOM
    step = (_W - _LEFT - 8) / max(len(months), 1)
    parts = [f'<svg id="grafik" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" '
             'role="img" aria-labelledby="grafik-judul" preserveAspectRatio="xMidYMid meet">',
             '<title id="grafik-judul">Persentase pengaduan yang ditanggapi tepat waktu per '
             'bulan</title>']
    for percent in (0, 50, 100):
        y = _TOP + plot * (1 - percent / 100)
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - 4}" y2="{y:.1f}" '
                     'class="garis"/>')
        parts.append(f'<text x="{_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" '
                     f'class="sumbu">{percent}%</text>')
    for n, month in enumerate(months):
        x = _LEFT + n * step
        share = month.share
        label = escape(month.short)
        if share is not None:
            height = max(plot * share / 100, 1.0)
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{_TOP + plot - height:.1f}" '
                         f'width="{step * 0.7:.1f}" height="{height:.1f}" class="batang">'
                         f'<title>{escape(month.label)}: {share}% tepat waktu</title></rect>')
            parts.append(f'<text x="{x + step / 2:.1f}" y="{_TOP + plot - height - 3:.1f}" '
                         f'text-anchor="middle" class="nilai">{share}</text>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{_H - _BOTTOM + 14}" '
                     f'text-anchor="middle" class="sumbu">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


class PublicSite:
    """Renders the site's files from PageData."""

    def __init__(self, directory: Path | None = None) -> None:
        folder = (directory or default_templates_dir()) / "public"
        self._env = Environment(loader=FileSystemLoader(folder), autoescape=True,
                                undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self._env.filters["tanggal"] = tanggal

    def _page(self, name: str, **context: Any) -> bytes:
        return self._env.get_template(name).render(**context).encode()

    def files(self, data: PageData) -> dict[str, bytes]:
        """Every file of the site, by its path relative to the site's directory."""
        common: dict[str, Any] = {"data": data, "promise": promise_words(data.promise_days),
                                  "list_file": LIST_FILE, "lookup_file": LOOKUP_FILE,
                                  "ticket_path": ticket_path}
        found: dict[str, bytes] = {
            ticket_path(line.number): self._ticket(line, common) for line in data.tickets}
        lookup = {"generated": data.generated.isoformat(timespec="minutes"),
                  "tickets": {line.number: lookup_entry(line) for line in data.tickets}}
        found[LOOKUP_FILE] = json.dumps(lookup, ensure_ascii=False, indent=1).encode()
        found[LIST_FILE] = self._page("daftar.html.j2", root="", **common)
        found["index.html"] = self._page("index.html.j2", root="", chart=chart_svg(data.months),
                                         **common)
        return found

    def _ticket(self, line: TicketLine, common: dict[str, Any]) -> bytes:
        return self._page("tiket.html.j2", root="../", line=line, **common)
