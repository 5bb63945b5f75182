"""Reading a suggestion-box opening (core/suggestion_box.py), its schedule, and its plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from mailflow.core.box_opening import may_open, opening_reply, plan_entry, team_of
from mailflow.core.identity import Identity
from mailflow.core.parse import Attachment
from mailflow.core.replies import plan_staff_reply
from mailflow.core.suggestion_box import (
    BoxSchedule,
    Entry,
    files_for,
    is_opening_subject,
    opening_due,
    parse_entries,
    unknown_names,
)
from mailflow.core.tickets import TicketFacts
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import Channel, EntryKind, OutboxKind, Status
from tests.unit.plan_support import KADES, KASI, SEKDES, WIB, config, member, staff_mail, ticket

BODY = """saran: Mohon lampu jalan di RT 03 diperbaiki, gelap sekali di malam hari.
---
Keluhan
Nama: Pak Darmo
Pelayanan surat pengantar di kantor desa lama sekali, antre dua jam.
lampiran: kertas2.jpg
---

---
kritik. Jadwal posyandu sering berubah tanpa pemberitahuan.
---
"""


def test_blocks_kinds_names_and_blank_blocks() -> None:
    entries = parse_entries(BODY)
    assert [e.kind for e in entries] == [EntryKind.SARAN, EntryKind.KELUHAN, EntryKind.KRITIK]
    assert entries[0].text.startswith("Mohon lampu jalan")
    assert "Nama: Pak Darmo" in entries[1].text and "lampiran" not in entries[1].text
    assert entries[1].named_files == ("kertas2.jpg",)
    assert entries[2].text == "Jadwal posyandu sering berubah tanpa pemberitahuan."


def test_default_kind_is_saran_and_a_word_that_is_not_a_kind_stays() -> None:
    [entry] = parse_entries("Tolong perbaiki jembatan bambu di Dusun Krajan.")
    assert entry.kind is EntryKind.SARAN
    assert entry.text.startswith("Tolong perbaiki")


def test_signature_and_quoted_text_are_removed() -> None:
    body = ("pengaduan: Ada pungutan liar saat mengurus KTP di kantor desa.\n---\n"
            "saran: Perbanyak tempat sampah di pasar.\n\n-- \nSekretaris Desa Klero\n"
            "Pada Sen, 30 Nov 2026 pukul 09.00, Pemerintah Desa <pengaduan@klero.desa.id> "
            "menulis:\n> saran: lama\n> ---\n> keluhan: lama sekali\n")
    entries = parse_entries(body)
    assert [e.kind for e in entries] == [EntryKind.PENGADUAN, EntryKind.SARAN]
    assert "Sekretaris" not in entries[1].text and "lama" not in entries[1].text


def test_only_separators_and_blanks_make_no_entries() -> None:
    assert parse_entries("\n---\n\n---\n   \n---") == []
    assert parse_entries("") == []


def test_subject_in_any_case_with_reply_prefixes() -> None:
    assert is_opening_subject("KOTAK SARAN")
    assert is_opening_subject("Fwd: Re: kotak  saran 30 Nov")
    assert not is_opening_subject("Pengaduan Masyarakat")


def test_named_files_go_to_their_entry_and_the_rest_to_all() -> None:
    entries = [Entry(EntryKind.SARAN, "a"), Entry(EntryKind.KRITIK, "b", ("Kertas2.JPG",))]
    assert files_for(entries, ["kertas1.jpg", "kertas2.jpg"]) == [[0], [0, 1]]
    assert unknown_names([Entry(EntryKind.SARAN, "a", ("x.jpg",))], ["y.jpg"]) == ["x.jpg"]


CAL = WorkCalendar()


def test_weekly_opening_day_moves_past_a_holiday_and_stops_once_opened() -> None:
    monday = BoxSchedule(weekday=0)
    assert opening_due(date(2026, 11, 30), monday, CAL, None)  # a Monday
    assert not opening_due(date(2026, 12, 1), monday, CAL, None)  # Tuesday: Monday was working
    assert not opening_due(date(2026, 11, 29), monday, CAL, None)  # Sunday
    assert not opening_due(date(2026, 11, 30), monday, CAL, date(2026, 11, 30))  # opened today
    # Monday 2026-08-17 is Independence Day: the reminder goes on Tuesday instead.
    assert not opening_due(date(2026, 8, 17), monday, CAL, None)
    assert opening_due(date(2026, 8, 18), monday, CAL, None)
    assert not opening_due(date(2026, 8, 18), monday, CAL, date(2026, 8, 17))


def test_every_n_working_days_counts_from_the_last_opening() -> None:
    every3 = BoxSchedule(every_working_days=3)
    assert opening_due(date(2026, 12, 2), every3, CAL, None)
    assert not opening_due(date(2026, 12, 2), every3, CAL, date(2026, 11, 30))
    assert opening_due(date(2026, 12, 3), every3, CAL, date(2026, 11, 30))


def test_the_team_is_the_verifikators_unless_configured() -> None:
    cfg = config()
    assert [m.address for m in team_of(cfg)] == [SEKDES]  # not the village head
    assert not may_open(cfg, member(cfg, KADES))
    assert not may_open(cfg, member(cfg, KASI))
    cfg = config(suggestion_box={"team": [KASI, "kepala_desa"]})
    assert [m.address for m in team_of(cfg)] == [KASI, KADES]


def test_an_entry_ticket_has_no_reporter_but_keeps_a_named_person_from_staff_mail() -> None:
    cfg = config()
    opened = datetime(2026, 11, 30, 9, tzinfo=WIB)
    entry = parse_entries("keluhan\nNama: Pak Darmo\nPelayanan surat pengantar lama sekali, "
                          "antre dua jam di kantor desa.")[0]
    photo = Attachment("kertas.jpg", "image/jpeg", b"\xff\xd8jpeg", False)
    plan = plan_entry(cfg, CAL, entry, "ADU-2026-00003", opened, opened, SEKDES, [photo], None)
    assert plan.ticket.channel is Channel.KOTAK_SARAN and plan.kind is EntryKind.KELUHAN
    assert plan.ticket.status is Status.DITERIMA and plan.ticket.due_date == date(2026, 12, 9)
    assert plan.identity.name == "Pak Darmo" and plan.identity.email is None
    assert "Darmo" not in plan.ticket.description
    assert [o.to for o in plan.outgoing] == [SEKDES]  # the verifier, nobody else
    reply = opening_reply(cfg, member(cfg, SEKDES), [("ADU-2026-00003", EntryKind.KELUHAN)], "<m@x>")
    text = "\n".join(reply.context["paragraphs"])
    assert "1. ADU-2026-00003 \u2013 Keluhan" in text and "Darmo" not in text


# -- every entry is followed up ------------------------------------------------------------

def _box_ticket(status: Status) -> TicketFacts:
    return replace(ticket(status), channel=Channel.KOTAK_SARAN)


def test_a_box_entry_is_not_closed_without_a_follow_up_note() -> None:
    cfg = config()
    before = _box_ticket(Status.DIPROSES)
    plan = plan_staff_reply(before, Identity(), member(cfg, KASI), staff_mail(KASI, "#status selesai"),
                            "signed_reply", cfg)
    assert plan.outcome == "command refused" and plan.ticket == before
    [note] = [o for o in plan.outgoing if o.kind is OutboxKind.STAFF_NOTE]
    assert "hanya dapat ditutup dengan catatan tindak lanjut" in "\n".join(note.context["paragraphs"])


def test_a_box_entry_closes_with_a_note_even_an_internal_one() -> None:
    cfg = config()
    for body in ("#status selesai\nLampu jalan RT 03 sudah diganti.",
                 "#status selesai\n#internal\nDibahas di rapat perangkat, lampu diganti."):
        plan = plan_staff_reply(_box_ticket(Status.DIPROSES), Identity(), member(cfg, KASI),
                                staff_mail(KASI, body), "signed_reply", cfg)
        assert plan.ticket.status is Status.SELESAI, body
    # An ordinary complaint still needs a message for the reporter: #internal is not enough.
    plan = plan_staff_reply(ticket(Status.DIPROSES), Identity(), member(cfg, KASI),
                            staff_mail(KASI, "#status selesai\n#internal\nsudah"), "signed_reply", cfg)
    assert plan.outcome == "command refused"


def test_the_config_section_checks_its_weekday_and_its_one_schedule() -> None:
    import pytest

    from mailflow.errors import ConfigError

    assert config().suggestion_box.enabled is False
    assert config(suggestion_box={"every": "Kamis"}).suggestion_box.every == "Kamis"
    with pytest.raises(ConfigError, match=r"\[suggestion_box\].*not a weekday name"):
        config(suggestion_box={"every": "mondag"})
    with pytest.raises(ConfigError, match="not both"):
        config(suggestion_box={"every": "monday", "every_working_days": 5})
    assert config(suggestion_box={"every_working_days": 5}).suggestion_box.every_working_days == 5


def test_a_team_entry_must_be_staff_or_a_role() -> None:
    import pytest

    from mailflow.errors import ConfigError

    assert config(suggestion_box={"team": ["SEKDES@klero.desa.id", "petugas"]})
    with pytest.raises(ConfigError, match=r"team: 'sekdes@klero\.desa' is neither"):
        config(suggestion_box={"team": ["sekdes@klero.desa"]})
