"""The public page's data (core/public_page.py) against tickets with known answers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from mailflow.core.promise import StatusChange, Targets, Timeline, kept
from mailflow.core.public_page import PublicTicket, lookup_entry, page_data, shown_count
from mailflow.core.workdays import calendar_from
from mailflow.vocabulary import Channel, Priority, Status

WIB = ZoneInfo("Asia/Jakarta")
CAL = calendar_from(7, "Asia/Jakarta")
NOW = datetime(2026, 12, 15, 10, tzinfo=WIB)
KASI = "kasi@klero.desa.id"


def _ticket(number: str, received: datetime, *answers: tuple[datetime, Status],
            channel: Channel = Channel.EMAIL, priority: Priority = Priority.SEDANG,
            texts: tuple[str, ...] = ()) -> PublicTicket:
    changes = tuple(StatusChange(at, status, by_staff=True) for at, status in answers)
    timeline = Timeline(number, received, Status.DITERIMA, priority, changes)
    return PublicTicket(number, channel, received, kept(timeline, CAL, Targets(7), NOW), texts)


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, tzinfo=WIB)


# Received Monday 2 November: due Wednesday 11 November (7 working days, no holiday between).
TICKETS = [
    _ticket("ADU-2026-00001", _at(11, 2), (_at(11, 4), Status.DIPROSES)),  # in time
    _ticket("ADU-2026-00002", _at(11, 2), (_at(11, 16), Status.DIPROSES)),  # answered late
    _ticket("ADU-2026-00003", _at(11, 2), channel=Channel.TELEPON),  # never answered: late
    _ticket("ADU-2026-00004", _at(12, 10), priority=Priority.DARURAT),  # not yet due
    _ticket("ADU-2026-00005", _at(10, 5), (_at(10, 6), Status.DIPROSES),
            (_at(10, 9), Status.SELESAI), texts=("Lampu sudah diganti.", "  ")),
]


def test_months_count_in_time_late_and_not_yet_due_by_month_of_receipt() -> None:
    data = page_data(TICKETS, CAL, NOW, village="Desa Klero", min_count=3)
    assert data.months[0].month == "2026-01" and len(data.months) == 12
    by_month = {m.month: (m.received, m.in_time, m.late, m.pending, m.share)
                for m in data.months}
    assert by_month["2026-10"] == (1, 1, 0, 0, 100)
    assert by_month["2026-11"] == (3, 1, 2, 0, 33)
    assert by_month["2026-12"] == (1, 0, 0, 1, None)
    assert by_month["2026-09"] == (0, 0, 0, 0, None)
    assert (data.in_time, data.decided, data.total) == (2, 4, 5)


def test_the_list_has_dates_and_only_the_public_texts_newest_first() -> None:
    data = page_data(TICKETS, CAL, NOW, village="Desa Klero", min_count=3)
    assert [t.number for t in data.tickets][:2] == ["ADU-2026-00004", "ADU-2026-00003"]
    line = {t.number: t for t in data.tickets}
    assert line["ADU-2026-00001"].due == date(2026, 11, 11)
    assert (line["ADU-2026-00002"].responded, line["ADU-2026-00002"].timeliness) == (
        date(2026, 11, 16), "terlambat")
    assert line["ADU-2026-00003"].timeliness == "belum ditanggapi, melewati batas waktu"
    assert line["ADU-2026-00004"].timeliness == "belum ditanggapi"
    closed = line["ADU-2026-00005"]
    assert (closed.status, closed.resolved, closed.texts) == (
        Status.SELESAI, date(2026, 10, 9), ("Lampu sudah diganti.",))
    entry = lookup_entry(closed)
    assert entry["status_label"] == "Selesai" and entry["texts"] == ["Lampu sudah diganti."]
    assert entry["due"] == "14 Okt 2026"
    assert set(entry) == {"status", "status_label", "received", "due", "responded",
                          "timeliness", "resolved", "texts"}


def test_category_cells_under_the_threshold_show_only_that_they_are_small() -> None:
    assert [shown_count(n, 3) for n in (0, 1, 2, 3, 40)] == ["< 3", "< 3", "< 3", "3", "40"]
    data = page_data(TICKETS, CAL, NOW, village="Desa Klero", min_count=3)
    assert {c.label: c.shown for c in data.by_channel} == {
        "email": "4", "telepon": "< 3", "WhatsApp": "< 3", "kotak saran": "< 3"}
    assert {c.label: c.shown for c in data.by_priority}["Sedang"] == "4"
    assert {c.label: (c.count, c.shown) for c in data.by_priority}["Darurat"] == (1, "< 3")
    assert all(c.shown == "< 3" for c in data.by_status)  # 2 diproses, 1 selesai, 2 diterima
    loose = page_data(TICKETS, CAL, NOW, village="Desa Klero", min_count=1)
    assert {c.label: c.shown for c in loose.by_channel}["telepon"] == "1"


def test_an_empty_database_gives_a_whole_site() -> None:
    from mailflow.compose.public_site import PublicSite

    data = page_data([], CAL, NOW, village="Desa Klero", min_count=3)
    files = PublicSite().files(data)
    assert sorted(files) == ["daftar.html", "index.html", "tickets.json"]
    index = files["index.html"].decode()
    assert "Belum ada pengaduan yang dapat dinilai" in index and "<svg" in index
    assert "Belum ada pengaduan." in files["daftar.html"].decode()
    assert data.generated.utcoffset() is not None and data.generated.hour == 10  # WIB


def test_public_text_with_markup_is_shown_as_text() -> None:
    from mailflow.compose.public_site import PublicSite

    evil = _ticket("ADU-2026-00009", _at(11, 2), texts=("<script>alert(1)</script> & co",))
    files = PublicSite().files(page_data([evil], CAL, NOW, village="Desa <b>", min_count=3))
    for name in ("daftar.html", "t/ADU-2026-00009.html", "index.html"):
        page = files[name].decode()
        assert "<script>alert" not in page and "Desa <b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in files["daftar.html"].decode()
