"""The report's hand-written SVG charts: well-formed, accessible (title, desc, role), every
text escaped, no script or external reference, a gap in the line where a month has no
value, and whole-number steps on a count axis."""

from __future__ import annotations

import re
import xml.dom.minidom

from mailflow.core.report_svg import Chart, bar_chart, line_chart

LABELS = ["Sep 26", "Okt 26", "Nov 26", "Des 26"]


def _chart(values: list[float | None], title: str = "Pengaduan <diterima> & \"dijawab\"") -> Chart:
    return Chart("grafik", title, "Uraian grafik.", LABELS, values, "Jumlah pengaduan")


def test_bar_chart_is_well_formed_accessible_and_escaped() -> None:
    svg = bar_chart(_chart([3.0, 10.0, 0.0, None]))
    document = xml.dom.minidom.parseString(svg)  # raises on anything not well-formed
    root = document.documentElement
    assert root.tagName == "svg" and root.getAttribute("role") == "img"
    assert root.getAttribute("aria-labelledby") == "grafik-title grafik-desc"
    title = document.getElementsByTagName("title")[0]
    assert title.firstChild is not None
    assert title.firstChild.nodeValue == "Pengaduan <diterima> & \"dijawab\""
    assert "<script" not in svg and "href" not in svg and "<diterima>" not in svg
    assert len(document.getElementsByTagName("rect")) == 1 + 4  # background and four bars
    # Counts: the axis steps are whole numbers (0, 3, 6, 9, 12 for a top value of 10).
    ticks = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', svg)
    assert ticks == ["0", "3", "6", "9", "12"]
    for label in LABELS:
        assert f">{label}<" in svg


def test_line_chart_leaves_a_gap_where_a_month_has_no_value() -> None:
    svg = line_chart(_chart([50.0, None, 75.0, 80.0]), top=100.0)
    document = xml.dom.minidom.parseString(svg)
    lines = document.getElementsByTagName("polyline")
    assert len(lines) == 1  # Nov-Dec joined; Sep stands alone after the gap
    assert len(lines[0].getAttribute("points").split()) == 2
    assert len(document.getElementsByTagName("circle")) == 3
    assert ">75<" in svg and ">100<" in svg  # a value, and the fixed top of the axis
