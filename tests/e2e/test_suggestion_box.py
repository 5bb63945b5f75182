"""The suggestion box end to end: a "Kotak Saran" mail from the team, proven, becomes one
ticket per entry on Dovecot; a forged one makes nothing and alerts the administrator."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.notices import record_address
from mailflow.service import Service
from mailflow.store.models import Attachment, SuggestionBoxOpening, TicketEvent
from tests.e2e.support import ADMIN, INBOX, KADES, KASI, SEKDES, FixedClock, config_for, rows, tickets

pytestmark = pytest.mark.e2e
OPENED = datetime(2026, 11, 27, 9, tzinfo=ZoneInfo("Asia/Jakarta"))  # a Friday
BODY = ("saran: Mohon lampu jalan di RT 03 diperbaiki, gelap sekali di malam hari.\n"
        "---\n"
        "keluhan\nNama: Pak Darmo Wiyono\n"
        "Pelayanan surat pengantar di kantor desa lama sekali, antre dua jam.\n"
        "lampiran: kertas2.jpg\n"
        "---\n"
        "kritik: Jadwal posyandu sering berubah tanpa pemberitahuan kepada warga.\n"
        "---\n\n-- \nSekretaris Desa Klero\n")
PHOTO = b"\xff\xd8\xff\xe0 a scanned paper " * 20


def _opening(sender: str, to: str, body: str = BODY) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "kotak saran"
    msg["Date"] = format_datetime(OPENED)
    msg["Message-ID"] = make_msgid(domain="klero.desa.id")
    msg.set_content(body)
    msg.add_attachment(PHOTO, maintype="image", subtype="jpeg", filename="kertas2.jpg")
    return msg.as_bytes()


def _poll(cfg: Any) -> None:
    service = Service(cfg, clock=FixedClock(OPENED + timedelta(minutes=5)))
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _texts(world: Any, address: str) -> list[tuple[str, str]]:
    out = []
    for stored in world.messages(address):
        msg = message_from_bytes(stored.raw, policy=default)
        out.append((str(msg["Subject"]), str(msg.get_body(("plain",)).get_content())))
    return out


def test_a_proven_opening_makes_one_ticket_per_entry_and_answers_the_team(mail_world: Any,
                                                                         tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    member = cfg.staff_member(SEKDES)
    assert member is not None
    to = record_address(cfg, member)
    assert to is not None
    mail_world.deliver(INBOX, _opening(f"Sekretaris Desa <{SEKDES}>", to), internaldate=OPENED)
    _poll(cfg)

    made = tickets(cfg)
    assert [(t.number, t.channel, t.kind) for t in made] == [
        ("ADU-2026-00001", "kotak_saran", "saran"), ("ADU-2026-00002", "kotak_saran", "keluhan"),
        ("ADU-2026-00003", "kotak_saran", "kritik")]
    assert {t.status for t in made} == {"diterima"}
    assert {str(t.due_date) for t in made} == {"2026-12-08"}
    assert "Sekretaris Desa Klero" not in made[2].description  # the signature is not an entry
    # The photo named by the second entry is its only; no entry left it for all.
    assert [a.ticket_id for a in rows(cfg, Attachment)] == [made[1].id]
    [opening] = rows(cfg, SuggestionBoxOpening)
    assert (opening.entries, opening.opened_by, str(opening.opened_on)) == (3, SEKDES, "2026-11-27")
    assert opening.ticket_numbers == "ADU-2026-00001,ADU-2026-00002,ADU-2026-00003"

    team = [t for s, t in _texts(mail_world, SEKDES) if s.startswith("Kotak Saran")]
    assert len(team) == 1
    assert "1. ADU-2026-00001 \u2013 Saran" in team[0]
    assert "2. ADU-2026-00002 \u2013 Keluhan" in team[0]
    assert "3. ADU-2026-00003 \u2013 Kritik" in team[0]
    # The verifier is notified of each ticket; the named person appears only there, never in
    # mail to staff without identity rights nor in the team's list.
    assert sum(1 for s, _ in _texts(mail_world, SEKDES) if "ADU-2026-0000" in s) == 3
    for address in (KASI, KADES, ADMIN):
        assert all("Darmo" not in s + t for s, t in _texts(mail_world, address))
    assert "Darmo" not in team[0]
    assert mail_world.messages(ADMIN) == []


def test_a_forged_opening_makes_nothing_and_alerts_the_administrator(mail_world: Any,
                                                                    tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    mail_world.deliver(INBOX, _opening(SEKDES, INBOX), internaldate=OPENED)  # no proof at all
    _poll(cfg)
    assert tickets(cfg) == [] and rows(cfg, SuggestionBoxOpening) == []
    [(subject, text)] = _texts(mail_world, ADMIN)
    assert "kotak saran" in subject and "tanpa bukti" in subject
    assert "pembukaan kotak saran" in text
    [(subject, _)] = _texts(mail_world, SEKDES)
    assert subject == "Kotak Saran - pencatatan tidak dijalankan"
    assert [e for e in rows(cfg, TicketEvent)] == []


def test_a_staff_member_outside_the_team_is_told_and_nothing_is_made(mail_world: Any,
                                                                     tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path)
    member = cfg.staff_member(KASI)
    assert member is not None
    to = record_address(cfg, member)
    assert to is not None
    mail_world.deliver(INBOX, _opening(KASI, to), internaldate=OPENED)
    _poll(cfg)
    assert tickets(cfg) == []
    [(subject, text)] = _texts(mail_world, KASI)
    assert subject == "Kotak Saran - pencatatan tidak dijalankan"
    assert "tidak termasuk tim kotak saran" in text


def test_mailflow_kotak_saran_records_an_opening_from_a_file_and_lists_it(mail_world: Any,
                                                                          tmp_path: Path) -> None:
    from tests.e2e.test_cli import mailflow, write_config

    cfg = config_for(mail_world, tmp_path)
    path = str(write_config(cfg, tmp_path / "config.toml"))
    entries = tmp_path / "kotak.txt"
    entries.write_text("pengaduan\nNama: Bu Warsini\nAda pungutan liar saat mengurus surat "
                       "keterangan usaha di kantor desa.\n---\nMohon tempat sampah di pasar "
                       "ditambah, sampah berserakan.\n---\n")
    scan = tmp_path / "kertas.jpg"
    scan.write_bytes(PHOTO)

    refused = mailflow("--config", path, "kotak-saran", "--by", KASI, str(entries))
    assert refused.returncode == 65 and "not in the suggestion-box team" in refused.stderr
    done = mailflow("--config", path, "kotak-saran", "--by", SEKDES, "--attach", str(scan),
                    str(entries))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["ADU-2026-00001  pengaduan", "ADU-2026-00002  saran"]
    assert "Warsini" not in done.stdout + done.stderr
    made = tickets(cfg)
    assert [(t.channel, t.kind) for t in made] == [("kotak_saran", "pengaduan"),
                                                  ("kotak_saran", "saran")]
    assert sorted(a.ticket_id for a in rows(cfg, Attachment)) == [made[0].id, made[1].id]

    rows_json = json.loads(mailflow("--config", path, "tickets", "--json").stdout)
    assert sorted(r["kind"] for r in rows_json) == ["pengaduan", "saran"]
    listed = mailflow("--config", path, "kotak-saran", "--list", "--json")
    [row] = json.loads(listed.stdout)
    assert (row["by"], row["entries"], row["tickets"], row["by_mail"]) == (
        SEKDES, 2, ["ADU-2026-00001", "ADU-2026-00002"], False)
    text = mailflow("--config", path, "kotak-saran", "--list").stdout
    assert f"{SEKDES}  2 entri  ADU-2026-00001 .. ADU-2026-00002" in text
    empty = tmp_path / "kosong.txt"
    empty.write_text("\n---\n")
    assert mailflow("--config", path, "kotak-saran", "--by", SEKDES, str(empty)).returncode == 65


def test_an_entry_closes_only_with_its_follow_up_and_thanks_make_no_entry(
        mail_world: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from tests.e2e.test_workflow_mail import staff_reply

    cfg = config_for(mail_world, tmp_path)
    member = cfg.staff_member(SEKDES)
    assert member is not None
    to = record_address(cfg, member)
    assert to is not None
    body = ("keluhan\nNama: Pak Darmo Wiyono\nLampu jalan di gang masjid RT 03 mati sejak "
            "dua minggu, warga takut lewat malam hari.\n")
    mail_world.deliver(INBOX, _opening(SEKDES, to, body), internaldate=OPENED)
    with caplog.at_level(logging.DEBUG):
        _poll(cfg)
        mails = {str(m["Subject"]): m for m in (message_from_bytes(s.raw, policy=default)
                                                for s in mail_world.messages(SEKDES))}
        note = mails["[ADU-2026-00001] Pengaduan baru: Kotak saran: Keluhan"]
        listing = mails["Kotak Saran: pembukaan tercatat"]
        mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status diverifikasi"))
        _poll(cfg)
        mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status selesai"))
        _poll(cfg)
        assert [t.status for t in tickets(cfg)] == ["diverifikasi"]
        said = [" ".join(t.split()) for _, t in _texts(mail_world, SEKDES)]
        assert any("hanya dapat ditutup dengan catatan tindak lanjut" in t for t in said)
        mail_world.deliver(INBOX, staff_reply(SEKDES, note, "#status selesai\n#internal\n"
                                              "Lampu sudah diganti petugas pada hari Senin."))
        # Thanks to the team's list: its subject carries "Kotak Saran", yet it is no opening.
        # Sent to the member's record address, so it is proven: only the thread rules it out.
        mail_world.deliver(INBOX, staff_reply(SEKDES, listing, "Terima kasih, sudah kami terima.",
                                              to=to))
        _poll(cfg)
    [done] = tickets(cfg)
    assert done.status == "selesai"
    assert len(rows(cfg, SuggestionBoxOpening)) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "suggestion box opening recorded" in logged and "Darmo" not in logged


def test_answering_the_opening_day_reminder_records_the_opening(mail_world: Any,
                                                               tmp_path: Path) -> None:
    from mailflow.runners.parked_note import daily_jobs
    from tests.e2e.test_workflow_mail import staff_reply

    cfg = config_for(mail_world, tmp_path, suggestion_box={"enabled": True, "every": "monday",
                                                           "team": [SEKDES]})
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
    service = Service(cfg, clock=FixedClock(monday), jobs=daily_jobs(cfg))
    try:
        service.poll_once()
        [reminder] = [message_from_bytes(s.raw, policy=default) for s in mail_world.messages(SEKDES)]
        assert str(reminder["Subject"]) == "Pengingat: jadwal membuka kotak saran hari ini"
        assert mail_world.messages(KADES) == []  # the team is only SEKDES
        mail_world.deliver(INBOX, staff_reply(SEKDES, reminder, "kritik: Kantor desa sering "
                                              "tutup sebelum jam pelayanan berakhir."))
        service.poll_once()
        service.poll_once()  # the same day again: no second reminder
    finally:
        service.engine.dispose()
    [made] = tickets(cfg)
    assert (made.channel, made.kind) == ("kotak_saran", "kritik")
    subjects = [s for s, _ in _texts(mail_world, SEKDES)]
    assert subjects.count("Pengingat: jadwal membuka kotak saran hari ini") == 1
    assert "Kotak Saran: pembukaan tercatat" in subjects
