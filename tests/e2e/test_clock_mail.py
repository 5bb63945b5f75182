"""The clock on a real mailbox: a reminder to the assigned officer, the escalation to the
village head once, daily digests with the overdue ticket first and a paused one waiting
for data, nothing on cuti bersama, nothing twice after restarts, and no reporter identity
in any of it (issue 9, "Reminders and escalation")."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from mailflow.config import Config
from mailflow.runners.parked_note import daily_jobs
from mailflow.service import Service
from tests.e2e.leaks import mail_text
from tests.e2e.support import (
    BUDI,
    INBOX,
    KADES,
    KASI,
    SEKDES,
    SITI_SECRETS,
    FixedClock,
    complaint,
    config_for,
    tickets,
)
from tests.e2e.test_workflow_mail import staff_reply

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")
BUDI_BODY = ("Nama: Budi Santoso\n\nLampu penerangan jalan di RT 03 RW 01 mati sejak seminggu "
             "yang lalu, mohon segera diperbaiki oleh desa.\n")
SECOND_BODY = ("Nama: Siti Aminah\nNIK: 3322114506890002\n\nPohon tumbang menutup jalan desa "
               "di dusun Krajan sejak subuh tadi, kendaraan tidak bisa lewat sama sekali.\n")
SECRETS = (*SITI_SECRETS, "Aminah", "Budi Santoso", BUDI)
CLOCK_KINDS = ("Pengingat:", "Eskalasi:", "Daftar pengaduan terbuka")


def _at(*when: int) -> datetime:
    return datetime(*when, tzinfo=WIB)


def _poll(cfg: Config, when: datetime) -> None:
    """One poll by a new process (a restart each time): only the database remembers."""
    service = Service(cfg, clock=FixedClock(when), jobs=daily_jobs(cfg))
    try:
        service.poll_once()
    finally:
        service.engine.dispose()


def _read(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=default))


def _mail(world: Any, user: str) -> list[EmailMessage]:
    return [_read(m.raw) for m in world.messages(user)]


def _clock_mail(world: Any, user: str) -> list[EmailMessage]:
    return [m for m in _mail(world, user) if any(k in str(m["Subject"]) for k in CLOCK_KINDS)]


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _notification(world: Any, number: str) -> EmailMessage:
    # "[ADU-...] Pengaduan baru: ...", or "[ADU-...] DARURAT - Pengaduan baru: ..." when the
    # suggested priority is darurat.
    [note] = [m for m in _mail(world, SEKDES) if str(m["Subject"]).startswith(f"[{number}] ")
              and "Pengaduan baru" in str(m["Subject"])]
    return note


def test_reminder_escalation_and_digests_reach_staff_once(mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, reminders={"enabled": True}, digest={"enabled": True})
    # Wed 12 Aug 2026 (Dovecot keeps only past arrival dates): Siti's complete complaint, due
    # Mon 24 Aug over Independence Day (Mon 17 Aug), and Budi's without a NIK (waiting for
    # his data: the clock stands still).
    mail_world.deliver(INBOX, complaint(subject="Pengaduan Masyarakat - jalan rusak, dari Siti Aminah"),
                       internaldate=_at(2026, 8, 12, 9))
    mail_world.deliver(INBOX, complaint(f"Budi Santoso <{BUDI}>", body=BUDI_BODY),
                       internaldate=_at(2026, 8, 12, 9, 5))
    _poll(cfg, _at(2026, 8, 12, 9, 30))
    first, waiting = tickets(cfg)
    assert (first.status, waiting.status) == ("diterima", "perlu_data")
    mail_world.deliver(INBOX, staff_reply(SEKDES, _notification(mail_world, first.number),
                                          f"#petugas {KASI}"))
    _poll(cfg, _at(2026, 8, 12, 10))
    assert tickets(cfg)[0].assignee == KASI

    staff = (SEKDES, KASI, KADES)
    before = {user: len(mail_world.messages(user)) for user in staff}
    _poll(cfg, _at(2026, 8, 15, 9))  # Saturday
    _poll(cfg, _at(2026, 8, 17, 9))  # Hari Kemerdekaan
    assert {user: len(mail_world.messages(user)) for user in staff} == before

    _poll(cfg, _at(2026, 8, 20, 8, 30))
    [reminder] = [m for m in _clock_mail(mail_world, KASI) if "Pengingat" in str(m["Subject"])]
    assert str(reminder["Subject"]) == (f"[{first.number}] Pengingat: batas waktu tanggapan "
                                        "2 hari kerja lagi (Senin, 24 Agustus 2026)")
    text = _text(reminder)
    assert text.startswith("Yth. Kasi Pelayanan,")
    assert "Batas waktu tanggapannya tinggal 2 hari kerja lagi." in text
    assert not [m for m in _clock_mail(mail_world, SEKDES) if "Pengingat" in str(m["Subject"])]

    # Mailflow down from 20 Aug, back on Tue 25 Aug, Maulid Nabi: the ticket is overdue, but
    # nothing goes out on a holiday; the escalation waits for the next working day.
    quiet = {user: len(mail_world.messages(user)) for user in staff}
    _poll(cfg, _at(2026, 8, 25, 9))
    assert {user: len(mail_world.messages(user)) for user in staff} == quiet
    # Early on Wed 26 Aug (before any clock work is due) a third complaint comes; the
    # verifier makes it darurat and Kasi's.
    mail_world.deliver(INBOX, complaint(body=SECOND_BODY), internaldate=_at(2026, 8, 26, 5, 50))
    _poll(cfg, _at(2026, 8, 26, 6))
    third = tickets(cfg)[2]
    mail_world.deliver(INBOX, staff_reply(SEKDES, _notification(mail_world, third.number),
                                          f"#petugas {KASI}\n#prioritas darurat"))
    _poll(cfg, _at(2026, 8, 26, 6, 30))
    assert not [m for m in _clock_mail(mail_world, KASI) if "26 Agustus" in str(m["Subject"])]
    _poll(cfg, _at(2026, 8, 26, 9))

    [escalation] = [m for m in _clock_mail(mail_world, KADES) if "Eskalasi" in str(m["Subject"])]
    assert str(escalation["Subject"]) == (f"[{first.number}] Eskalasi: belum ditanggapi, "
                                          "terlambat 1 hari kerja")
    assert _text(escalation).startswith("Yth. Kepala Desa,")
    assert "Petugas               : Kasi Pelayanan" in _text(escalation)
    [kasi_today] = [m for m in _clock_mail(mail_world, KASI)
                    if str(m["Subject"]).startswith("Daftar pengaduan terbuka Rabu, 26 Agustus 2026")]
    listing = _text(kasi_today)
    assert listing.index(first.number) < listing.index(third.number)  # overdue before darurat
    assert f"{first.number} - TERLAMBAT 1 hari kerja" in listing
    [head_today] = [m for m in _clock_mail(mail_world, KADES) if "Daftar" in str(m["Subject"])]
    assert first.number in _text(head_today) and third.number not in _text(head_today)
    [verifier_today] = [m for m in _clock_mail(mail_world, SEKDES)
                        if "26 Agustus 2026" in str(m["Subject"])]
    assert waiting.number in _text(verifier_today)
    assert "Batas waktu : menunggu data pelapor" in _text(verifier_today)

    # Restarted again the same day: nothing twice.
    sent = {user: len(mail_world.messages(user)) for user in staff}
    _poll(cfg, _at(2026, 8, 26, 12))
    assert {user: len(mail_world.messages(user)) for user in staff} == sent

    # The head answers by replying to the escalation: from the next day the ticket is
    # answered, so it leaves the head's digest and reads "sudah ditanggapi" in Kasi's.
    assert "#status diverifikasi | diproses | selesai | perlu_data | ditolak" in _text(escalation)
    mail_world.deliver(INBOX, staff_reply(KADES, escalation,
                                          "#status diverifikasi\nPetugas kami datang besok pagi."))
    _poll(cfg, _at(2026, 8, 26, 13))
    assert tickets(cfg)[0].status == "diverifikasi"
    _poll(cfg, _at(2026, 8, 27, 9))
    assert not [m for m in _clock_mail(mail_world, KADES) if "27 Agustus" in str(m["Subject"])]
    [kasi_next] = [m for m in _clock_mail(mail_world, KASI)
                   if str(m["Subject"]).startswith("Daftar pengaduan terbuka Kamis, 27 Agustus")]
    # ... and the darurat ticket, unanswered, is due today: its reminder goes to Kasi.
    [due_today] = [m for m in _clock_mail(mail_world, KASI) if "Pengingat" in str(m["Subject"])
                   and third.number in str(m["Subject"])]
    assert "hari ini (Kamis, 27 Agustus 2026)" in str(due_today["Subject"])
    level = tickets(cfg)[0].priority.label  # as suggested from its words (core/priority.py)
    assert f"{first.number}\n   Prioritas   : {level}\n   Status      : Sudah diverifikasi " \
           "(sudah ditanggapi)" in _text(kasi_next)
    assert "TERLAMBAT" not in _text(kasi_next)

    everything = [m for user in staff for m in _clock_mail(mail_world, user)]
    assert len(everything) >= 8
    for msg in everything:
        shown = mail_text(msg.as_bytes()).casefold()
        for secret in SECRETS:
            assert secret.casefold() not in shown, (msg["To"], msg["Subject"], secret)


def test_completing_the_data_moves_the_due_date_and_the_resident_is_told(
        mail_world: Any, tmp_path: Path) -> None:
    cfg = config_for(mail_world, tmp_path, reminders={"enabled": True}, digest={"enabled": True})
    mail_world.deliver(INBOX, complaint(f"Budi Santoso <{BUDI}>", body=BUDI_BODY),
                       internaldate=_at(2026, 8, 12, 9, 5))
    _poll(cfg, _at(2026, 8, 12, 9, 30))
    [ack] = _mail(mail_world, BUDI)
    assert "7 hari\nkerja dihitung sejak data lengkap kami terima" in _text(ack)
    assert "24 Agustus" not in _text(ack)  # no date is promised while the data is missing
    # The NIK comes on Tue 18 Aug: the clock stood still for 13, 14 and 18 Aug (17 Aug is
    # Independence Day), so the due date moves from Mon 24 Aug to Fri 28 Aug, 7 working
    # days after the data was complete.
    assert tickets(cfg)[0].due_date.isoformat() == "2026-08-24"
    mail_world.deliver(INBOX, complaint(f"Budi Santoso <{BUDI}>", body="NIK: 3322110506890002",
                                        subject="Re: " + str(ack["Subject"]),
                                        In_Reply_To=str(ack["Message-ID"]), to=str(ack["Reply-To"])))
    _poll(cfg, _at(2026, 8, 18, 10))
    [ticket] = tickets(cfg)
    assert (ticket.status, ticket.due_date.isoformat()) == ("diterima", "2026-08-28")
    [complete] = _mail(mail_world, BUDI)[1:]
    text = _text(complete)
    assert "data yang Bapak/Ibu kirimkan sudah lengkap" in text
    assert ("Batas waktu tanggapan: Jumat, 28 Agustus 2026 \u2014 7 hari kerja sejak data "
            "lengkap\nkami terima") in text
    # The reminders follow the moved date: two working days before 28 Aug is 26 Aug.
    _poll(cfg, _at(2026, 8, 24, 9))
    assert not [m for m in _clock_mail(mail_world, SEKDES) if "Pengingat" in str(m["Subject"])]
    _poll(cfg, _at(2026, 8, 26, 9))
    [reminder] = [m for m in _clock_mail(mail_world, SEKDES) if "Pengingat" in str(m["Subject"])]
    assert "(Jumat, 28 Agustus 2026)" in str(reminder["Subject"])
