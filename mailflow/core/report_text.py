"""The monthly report as people and scripts read it: text lines (Bahasa Indonesia), a JSON
object with stable keys, and the context of the HTML template (templates/report.html.j2)
with its inline SVG charts. Pure: a `MonthReport` in, strings and plain data out.

The JSON keys (README "Reports"): month, cutoff, promise_working_days, received,
by_channel, by_priority, by_status, by_kind, closed, open, resolved_in_month,
first_response_days {count, median, p90}, resolution_days {count, median, p90},
within_promise {in_time, late, pending, percent}, overdue [{number, received, promise_due,
days_late, status, priority}], trend [{month, received, within_promise_percent,
median_response_days}], suggestion_box {entries, closed, by_kind, openings}. Enum keys are
the vocabulary's values; dates ISO 8601; a figure with nothing to count is null.
"""

from __future__ import annotations

from typing import Any

from mailflow.core.notices import Outgoing
from mailflow.core.report import Durations, MonthReport
from mailflow.core.report_svg import Chart, bar_chart, line_chart
from mailflow.core.workdays import format_moment, format_tanggal
from mailflow.vocabulary import OutboxKind

NONE = "-"


def number(value: float | None, suffix: str = "") -> str:
    """7, 5,5 or 75,0 %; "-" when there is nothing to count."""
    if value is None:
        return NONE
    text = f"{value:.1f}" if isinstance(value, float) and suffix == " %" else f"{value:g}"
    return text.replace(".", ",") + suffix


def _durations(what: Durations, done: str) -> str:
    return (f"median {number(what.median)}, persentil ke-90 {number(what.p90)} "
            f"({what.count} pengaduan {done})")


def _table(title: str, rows: list[tuple[str, int]]) -> list[str]:
    width = max((len(label) for label, _ in rows), default=0)
    return [title, *(f"  {label:<{width}}  {count:>5}" for label, count in rows), ""]


def summary_rows(report: MonthReport) -> dict[str, list[tuple[str, int]]]:
    """The count tables with their Indonesian labels, shared by the text and the HTML."""
    tables = {
        "Menurut saluran": [(c.label, n) for c, n in report.by_channel.items()],
        "Menurut prioritas": [(p.label, n) for p, n in report.by_priority.items()],
        "Menurut status (per keadaan di atas)": [(s.label, n) for s, n in report.by_status.items()],
    }
    if report.by_kind:
        tables["Menurut jenis"] = list(report.by_kind.items())
    return tables


def report_lines(report: MonthReport, zone: str) -> list[str]:
    """The report as `mailflow report` prints it and the monthly mail's text part says it."""
    share = report.promise
    lines = [f"Laporan pengaduan {report.month.label}",
             f"Keadaan per {format_moment(report.cutoff, zone)}", "",
             f"Pengaduan diterima: {report.received}", ""]
    for title, rows in summary_rows(report).items():
        lines += _table(title, rows)
    closed = ", ".join(f"{s.value} {n}" for s, n in report.closed.items())
    lines += [
        f"Sudah ditutup: {sum(report.closed.values())} ({closed}); "
        f"masih terbuka: {sum(report.open.values())}",
        f"Diselesaikan dalam bulan ini (termasuk pengaduan bulan sebelumnya): "
        f"{report.resolved_in_month}", "",
        "Waktu tanggapan pertama (hari kerja): " + _durations(report.response, "sudah ditanggapi"),
        "Waktu penyelesaian (hari kerja): " + _durations(report.resolution, "sudah selesai"), "",
        f"Ditanggapi dalam batas janji ({report.promise_days} hari kerja): "
        f"{number(share.percent, ' %')} ({share.in_time} dari {share.decided}; "
        f"{share.late} terlambat; {share.pending} belum jatuh tempo)", "",
    ]
    lines += overdue_lines(report)
    box = report.suggestion_box
    opened = "belum tercatat" if box.openings is None else f"{box.openings} kali"
    lines += [f"Kotak saran: {box.entries} masukan, {box.closed} sudah ditutup; "
              f"pembukaan kotak: {opened}", ""]
    lines += trend_lines(report)
    return lines


def overdue_lines(report: MonthReport) -> list[str]:
    if not report.overdue:
        return ["Pengaduan terlambat (belum ditanggapi melewati batas waktu): tidak ada", ""]
    row = "  {:<16} {:<10} {:<12} {:>9}  {:<9} {}"
    lines = [f"Pengaduan terlambat (belum ditanggapi melewati batas waktu): {len(report.overdue)}",
             row.format("NOMOR", "DITERIMA", "BATAS WAKTU", "TERLAMBAT", "PRIORITAS", "STATUS")]
    lines += [row.format(o.number, o.received.isoformat(), o.promise_due.isoformat(),
                         f"{o.days_late} hr", o.priority.label, o.status.label)
              for o in report.overdue]
    return [*lines, ""]


def trend_lines(report: MonthReport) -> list[str]:
    row = "  {:<8} {:>9} {:>12} {:>17}"
    lines = ["Tren 12 bulan", row.format("BULAN", "DITERIMA", "TEPAT WAKTU", "MEDIAN TANGGAPAN")]
    lines += [row.format(str(p.month), p.received, number(p.within_promise_percent, " %"),
                         number(p.median_response_days)) for p in report.trend]
    return lines


def _durations_json(what: Durations) -> dict[str, Any]:
    return {"count": what.count, "median": what.median, "p90": what.p90}


def report_json(report: MonthReport) -> dict[str, Any]:
    """The report for scripts (`mailflow report --json`); keys as the module says."""
    share = report.promise
    return {
        "month": str(report.month), "cutoff": report.cutoff.isoformat(),
        "promise_working_days": report.promise_days, "received": report.received,
        "by_channel": {str(k): n for k, n in report.by_channel.items()},
        "by_priority": {str(k): n for k, n in report.by_priority.items()},
        "by_status": {str(k): n for k, n in report.by_status.items()},
        "by_kind": dict(report.by_kind),
        "closed": {str(k): n for k, n in report.closed.items()},
        "open": {str(k): n for k, n in report.open.items()},
        "resolved_in_month": report.resolved_in_month,
        "first_response_days": _durations_json(report.response),
        "resolution_days": _durations_json(report.resolution),
        "within_promise": {"in_time": share.in_time, "late": share.late,
                           "pending": share.pending, "percent": share.percent},
        "overdue": [{"number": o.number, "received": o.received.isoformat(),
                     "promise_due": o.promise_due.isoformat(), "days_late": o.days_late,
                     "status": str(o.status), "priority": str(o.priority)}
                    for o in report.overdue],
        "trend": [{"month": str(p.month), "received": p.received,
                   "within_promise_percent": p.within_promise_percent,
                   "median_response_days": p.median_response_days} for p in report.trend],
        "suggestion_box": {"entries": report.suggestion_box.entries,
                           "closed": report.suggestion_box.closed,
                           "by_kind": dict(report.suggestion_box.by_kind),
                           "openings": report.suggestion_box.openings},
    }


def charts(report: MonthReport) -> tuple[str, str]:
    """The two trend charts as inline SVG: received per month (bars) and the share responded
    within the promise (a line, 0 to 100 %)."""
    labels = [p.month.short_label for p in report.trend]
    first, last = report.trend[0].month.label, report.trend[-1].month.label
    received = Chart("grafik-diterima", "Pengaduan diterima per bulan",
                     f"Jumlah pengaduan yang diterima setiap bulan, {first} sampai {last}.",
                     labels, [float(p.received) for p in report.trend], "Jumlah pengaduan")
    share = Chart("grafik-tepat-waktu", "Ditanggapi dalam batas janji (%)",
                  f"Persentase pengaduan yang ditanggapi dalam {report.promise_days} hari kerja "
                  f"setiap bulan, {first} sampai {last}; bulan tanpa data tidak bergaris.",
                  labels, [p.within_promise_percent for p in report.trend], "Persen (%)")
    return bar_chart(received), line_chart(share, top=100.0)


def html_context(report: MonthReport, zone: str, village: str) -> dict[str, Any]:
    """What templates/report.html.j2 (and .txt.j2) fill in; `text` is `report_lines`."""
    received_svg, share_svg = charts(report)
    return {
        "village": village, "month_label": report.month.label,
        "cutoff": format_moment(report.cutoff, zone), "report": report,
        "tables": summary_rows(report), "text": "\n".join(report_lines(report, zone)),
        "closed_total": sum(report.closed.values()), "open_total": sum(report.open.values()),
        "response": _durations(report.response, "sudah ditanggapi"),
        "resolution": _durations(report.resolution, "sudah selesai"),
        "share": number(report.promise.percent, " %"),
        "overdue": [{"number": o.number, "received": format_tanggal(o.received),
                     "due": format_tanggal(o.promise_due), "days_late": o.days_late,
                     "priority": o.priority.label, "status": o.status.label}
                    for o in report.overdue],
        "trend": [{"month": p.month.label, "received": p.received,
                   "share": number(p.within_promise_percent, " %"),
                   "median": number(p.median_response_days)} for p in report.trend],
        "chart_received": received_svg, "chart_share": share_svg,
    }


def report_mail(report: MonthReport, to: str, greeting: str, village: str, zone: str) -> Outgoing:
    """The monthly report to the village head: the text and the HTML (with its charts) of
    templates/report.*.j2, without identity (nothing of a ticket but its number)."""
    context = {**html_context(report, zone, village), "greeting": greeting}
    return Outgoing(OutboxKind.REPORT, to,
                    f"Laporan bulanan pengaduan {report.month.label} ({report.received} pengaduan, "
                    f"{number(report.promise.percent, ' %')} tepat waktu)", "report", context)
