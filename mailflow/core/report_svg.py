"""Small inline SVG charts for the report: a bar chart and a line chart, hand-written.

No script, no external asset, no CSS file: plain `<svg>` with presentation attributes, which
mail clients that show inline SVG (and every browser) draw. Each chart has a `<title>` and a
`<desc>` (role="img", aria-labelledby) for screen readers, and every value is also in the
table printed below it for clients that show no SVG. All text is escaped here, so the
result may be put into an HTML page as it is. Pure: values in, markup out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 28, 56
_BAR = "#2f6f9f"
_LINE = "#b5462b"
_AXIS = "#444"
_GRID = "#ddd"
_FONT = 'font-family="Arial, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Chart:
    """One chart: an id (unique in the page), its title and description, the labels of the
    x axis and one value per label (None: no value that month), and the y axis' label."""

    id: str
    title: str
    description: str
    labels: Sequence[str]
    values: Sequence[float | None]
    y_label: str
    x_label: str = "Bulan"


def _nice_max(top: float) -> float:
    """A round maximum for the y axis (1, 2, 5 times a power of ten) at or above `top`."""
    if top <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= top:
        scale *= 10
    for step in (1, 2, 5, 10):
        if step * scale >= top:
            return step * scale
    return 10 * scale


def _number(value: float) -> str:
    """A value as Indonesians write it: 12, 7,5."""
    return f"{value:g}".replace(".", ",")


def _frame(chart: Chart, top: float) -> list[str]:
    """The opening tag, title, description, grid, y ticks and axis labels."""
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    plot_h = HEIGHT - _TOP - _BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{title_id} {desc_id}">',
        f'<title id="{title_id}">{escape(chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    for step in range(5):
        value = top * step / 4
        y = _TOP + plot_h - plot_h * step / 4
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
                     f'stroke="{_GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT} '
                     f'fill="{_AXIS}">{escape(_number(round(value, 1)))}</text>')
    parts += [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="{_AXIS}"/>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{WIDTH - _RIGHT}" y2="{_TOP + plot_h}" '
        f'stroke="{_AXIS}"/>',
        f'<text x="{_LEFT}" y="{_TOP - 10}" {_FONT} fill="{_AXIS}">{escape(chart.y_label)}</text>',
        f'<text x="{(WIDTH + _LEFT) // 2}" y="{HEIGHT - 8}" text-anchor="middle" {_FONT} '
        f'fill="{_AXIS}">{escape(chart.x_label)}</text>',
    ]
    return parts


def _slot(chart: Chart) -> float:
    return (WIDTH - _LEFT - _RIGHT) / max(1, len(chart.labels))


def _x_labels(chart: Chart) -> list[str]:
    slot = _slot(chart)
    return [f'<text x="{_LEFT + slot * (i + 0.5):.1f}" y="{HEIGHT - _BOTTOM + 16}" '
            f'text-anchor="middle" {_FONT} fill="{_AXIS}">{escape(label)}</text>'
            for i, label in enumerate(chart.labels)]


def bar_chart(chart: Chart, whole: bool = True) -> str:
    """Bars of the values (None drawn as 0), each with its value above it; `whole`: the
    values are counts, so the y axis' four steps are whole numbers too."""
    top = _nice_max(max((v for v in chart.values if v is not None), default=0))
    if whole:
        top = 4.0 * math.ceil(top / 4)
    plot_h = HEIGHT - _TOP - _BOTTOM
    slot = _slot(chart)
    parts = _frame(chart, top)
    for i, value in enumerate(chart.values):
        height = plot_h * (value or 0) / top
        x = _LEFT + slot * i + slot * 0.15
        y = _TOP + plot_h - height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{height:.1f}" fill="{_BAR}"><title>{escape(chart.labels[i])}: '
                     f'{escape(_number(value or 0))}</title></rect>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                     f'{_FONT} fill="{_AXIS}">{escape(_number(value or 0))}</text>')
    return "\n".join([*parts, *_x_labels(chart), "</svg>"])


def line_chart(chart: Chart, top: float | None = None) -> str:
    """A line through the values (a gap where a value is None), with a dot and its value at
    each point; `top` fixes the y axis' maximum (100 for a percentage)."""
    top = top or _nice_max(max((v for v in chart.values if v is not None), default=0))
    plot_h = HEIGHT - _TOP - _BOTTOM
    slot = _slot(chart)
    parts = _frame(chart, top)
    points = [(_LEFT + slot * (i + 0.5), _TOP + plot_h - plot_h * value / top, value, i)
              for i, value in enumerate(chart.values) if value is not None]
    runs: list[list[tuple[float, float]]] = []
    previous = -2
    for x, y, _, i in points:
        if i != previous + 1:
            runs.append([])
        runs[-1].append((x, y))
        previous = i
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{_LINE}" '
                         f'stroke-width="2"/>')
    for x, y, value, i in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_LINE}"><title>'
                     f'{escape(chart.labels[i])}: {escape(_number(value))}</title></circle>')
        parts.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle" {_FONT} '
                     f'fill="{_AXIS}">{escape(_number(value))}</text>')
    return "\n".join([*parts, *_x_labels(chart), "</svg>"])
