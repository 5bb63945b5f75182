"""The simulated month's script and the test's own tally (issue 9, "Done means").

What residents send and what staff do, day by day through August 2026, written down before
anything runs; and the figures that script must produce, counted here from the script and
a calendar of our own (weekdays minus the two holidays of August 2026), never by asking the
code under test. tests/e2e/test_simulated_month.py plays the script against the real
Service on Dovecot and compares what mailflow did with this tally.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from tests.e2e.support import SITI

# -- our own calendar ---------------------------------------------------------------------

HOLIDAYS = {date(2026, 8, 17), date(2026, 8, 25)}  # Kemerdekaan, Maulid Nabi
FIRST, LAST = date(2026, 8, 1), date(2026, 8, 31)
AFTER = date(2026, 9, 1)  # the month's cutoff day: the report goes out from 07:00


def workday(day: date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def nth_workday_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= workday(day)
    return day


def workdays_from(start: date, end: date) -> int:
    """Working days in (start, end]; an end on a day off counts as the next working day."""
    if end <= start:
        return 0
    count = sum(1 for d in days(start + timedelta(days=1), end) if workday(d))
    return count if workday(end) else count + 1


PROMISE = 7
REMIND = (2, 0)  # [reminders] days_before


def workdays_before(day: date, n: int) -> date:
    while n:
        day -= timedelta(days=1)
        n -= workday(day)
    return day


# -- the residents --------------------------------------------------------------------------

@dataclass(frozen=True)
class Resident:
    name: str
    nik: str
    email: str
    address: str
    phone: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.nik, self.email, self.address, self.phone)


RESIDENTS = (
    Resident("Siti Aminah", "3322114506890002", SITI, "Dusun Krajan RT 02/RW 05", "0812-3456-7890"),
    Resident("Bambang Haryanto", "3322110506890013", "bambang@warga.example",
             "Dusun Sidomulyo RT 01/RW 02", "0813-2200-1001"),
    Resident("Rina Wulandari", "3322116008950021", "rina@warga.example",
             "Dusun Gondang RT 03/RW 01", "0857-1122-3344"),
    Resident("Agus Prasetyo", "3322111203880034", "agus@warga.example",
             "Dusun Karangasem RT 04/RW 03", "0815-7788-9900"),
    Resident("Dewi Lestari", "3322114708920045", "dewi@warga.example",
             "Dusun Ngablak RT 05/RW 02", "0819-4455-6677"),
    Resident("Joko Susilo", "3322110101800056", "joko@warga.example",
             "Dusun Tegalrejo RT 01/RW 04", "0821-3344-5566"),
    Resident("Wati Rahayu", "3322115505850067", "wati@warga.example",
             "Dusun Pucung RT 02/RW 01", "0822-6677-8899"),
    Resident("Hendra Gunawan", "3322111010900078", "hendra@warga.example",
             "Dusun Watugajah RT 03/RW 05", "0823-9900-1122"),
)
BOX_NAME = "Darmo Wiyono"  # named on one suggestion-box paper


# -- the script -----------------------------------------------------------------------------

@dataclass
class Case:
    """One complaint and what staff and the resident do with it, by date. `verify`: the
    verifier's "#status diverifikasi" + "#petugas" (the first response); `assign`: only
    "#petugas" (no response); `process`/`close`: the officer's "#status diproses"/"selesai";
    `complete`: the resident mails the missing NIK. `number` is filled in as it is taken."""

    day: date
    topic: str
    text: str
    resident: int | None = None  # None: a suggestion-box entry
    nik: bool = True
    complete: date | None = None
    verify: date | None = None
    assign: date | None = None
    process: date | None = None
    close: date | None = None
    hour: int = 9
    number: str = ""

    @property
    def channel(self) -> str:
        return "email" if self.resident is not None else "kotak_saran"

    @property
    def subject(self) -> str:
        return f"Pengaduan Masyarakat - {self.topic}"

    def body(self) -> str:
        assert self.resident is not None
        who = RESIDENTS[self.resident]
        if not self.nik:
            return f"Nama: {who.name}\n\n{self.text}\n"
        return (f"Nama: {who.name}\nNIK: {who.nik}\nAlamat: {who.address}\nNo. HP: {who.phone}\n"
                f"\n{self.text}\n")


def D(day: int) -> date:  # a day of August 2026, as the script below reads
    return date(2026, 8, day)


BOX_DAY = D(10)  # Monday: the suggestion box is opened
CASES = [
    Case(D(3), "jalan berlubang", "Jalan di depan balai dusun berlubang besar dan sudah dua kali "
         "membuat pengendara motor jatuh, mohon diperbaiki.", 0, verify=D(4), process=D(6),
         close=D(11)),
    Case(D(3), "banjir", "Banjir setinggi lutut merendam rumah warga di RT 01 sejak semalam, "
         "mohon bantuan segera.", 1, verify=D(3), close=D(5)),
    Case(D(4), "lampu jalan", "Lampu penerangan jalan di perempatan dekat masjid mati sejak "
         "Jumat, jalan gelap sekali pada malam hari.", 2, assign=D(4)),  # never answered
    Case(D(5), "sampah, dari Agus Prasetyo",  # a name in the subject, for staff-wide mail to hide
         "Sampah di tempat pembuangan sementara dekat pasar menumpuk dan "
         "berbau, sudah dua minggu tidak diangkut.", 3, verify=D(19), close=D(24)),  # late
    Case(D(6), "selokan", "Selokan di gang belakang rumah mampet sehingga air meluap ke jalan "
         "setiap sore.", 4, nik=False, complete=D(10), verify=D(12)),
    Case(D(7), "kebakaran", "Kebakaran lahan kering di belakang gedung sekolah, api belum "
         "padam dan asap masuk ke kelas.", 5, verify=D(7), process=D(10), close=D(12)),
    Case(D(8), "pungutan", "Ada pungutan liar saat mengurus surat pengantar KTP di kantor "
         "desa, diminta uang dua puluh ribu.", 6, verify=D(10), hour=10),  # a Saturday
    Case(BOX_DAY, "kotak 1", "Mohon tempat sampah di pasar ditambah, sampah berserakan.",
         verify=D(11)),
    Case(BOX_DAY, "kotak 2", "Pelayanan surat di kantor desa lama sekali, antre dua jam.",
         verify=D(11)),
    Case(BOX_DAY, "kotak 3", "Jadwal posyandu sering berubah tanpa pemberitahuan.", verify=D(11)),
    Case(D(11), "air bersih", "Air bersih dari sumur bor desa tidak mengalir ke rumah kami "
         "sejak tiga hari.", 0, verify=D(13), process=D(14), close=D(20)),
    Case(D(12), "posyandu", "Balai posyandu di dusun kami atapnya bocor, kegiatan bayi "
         "terganggu saat hujan.", 7, nik=False),  # waits for data all month
    Case(D(13), "pohon tumbang", "Pohon tumbang menutup jalan menuju sawah, petani tidak bisa "
         "lewat membawa hasil panen.", 1, verify=D(14), close=D(18)),
    Case(D(18), "jembatan", "Jembatan bambu di atas sungai kecil rusak dan miring, anak-anak "
         "takut lewat.", 2, verify=D(21)),
    Case(D(19), "irigasi", "Saluran irigasi tersumbat lumpur sehingga sawah di ujung tidak "
         "kebagian air.", 3, verify=D(20), process=D(21), close=D(27)),
    Case(D(20), "bau", "Bau menyengat dari kandang ayam di dekat permukiman mengganggu warga "
         "setiap pagi.", 5, verify=D(26)),
    Case(D(24), "trotoar", "Trotoar di depan sekolah dipakai berjualan sehingga murid berjalan "
         "di badan jalan.", 6),  # not yet due at the month's end
    Case(D(26), "listrik", "Listrik padam di seluruh dusun sejak kemarin sore, kulkas warga "
         "tidak menyala.", 4, verify=D(27)),
    Case(D(28), "anjing", "Anjing liar berkeliaran di sekitar balai desa dan mengejar anak "
         "sekolah.", 7),  # not yet due at the month's end
    Case(D(31), "papan nama", "Papan nama jalan di pertigaan hilang, tamu sering tersesat "
         "mencari alamat.", 0, verify=D(31)),
]
BOX = [c for c in CASES if c.resident is None]


# -- the tally ------------------------------------------------------------------------------

def start(case: Case) -> date:
    """Where the promise counts from: receipt, or the day the missing data came."""
    return case.complete if not case.nik and case.complete else case.day


def paused_on(case: Case, day: date) -> bool:
    """Waiting for the resident's data on the morning of `day`."""
    return not case.nik and (case.complete is None or case.complete >= day)


def due(case: Case) -> date:
    return nth_workday_after(start(case), PROMISE)


def status_on(case: Case, day: date) -> str:
    """The status in the morning of `day` (staff act in the afternoon)."""
    if case.day >= day:
        return "new"
    for when, status in ((case.close, "selesai"), (case.process, "diproses"),
                         (case.verify, "diverifikasi")):
        if when is not None and when < day:
            return status
    return "perlu_data" if paused_on(case, day) else "diterima"


def open_on(case: Case, day: date) -> bool:
    return status_on(case, day) not in ("new", "selesai")


def assigned_on(case: Case, day: date) -> bool:
    return any(when is not None and when < day for when in (case.verify, case.assign))


def answered_by(case: Case, day: date) -> bool:
    return case.verify is not None and case.verify < day


def overdue_on(case: Case, day: date) -> bool:
    return (open_on(case, day) and not answered_by(case, day) and not paused_on(case, day)
            and day > due(case))


def in_time(case: Case, cutoff: date) -> bool | None:
    """Responded within the promise, as of the morning of `cutoff`; None while pending."""
    if answered_by(case, cutoff):
        assert case.verify is not None
        return case.verify <= due(case)
    if paused_on(case, cutoff) or cutoff <= due(case):
        return None
    return False


def response_days(case: Case) -> int | None:
    return None if case.verify is None else workdays_from(start(case), case.verify)


def expected_reminders(until: date) -> set[tuple[str, date, str]]:
    """(number, day, to): each stage's working day, after receipt, while unanswered and
    not waiting for data; to the officer once assigned, else the verifier."""
    from tests.e2e.support import KASI, SEKDES

    found = set()
    for case in CASES:
        for n in REMIND:
            day = workdays_before(due(case), n)
            if (case.day < day <= until and open_on(case, day) and not answered_by(case, day)
                    and not paused_on(case, day)):
                found.add((case.number, day, KASI if assigned_on(case, day) else SEKDES))
    return found


def expected_escalations(until: date) -> dict[str, date]:
    """Each overdue ticket once, on the first working day it is overdue."""
    found: dict[str, date] = {}
    for case in CASES:
        late = [d for d in days(FIRST, until) if workday(d) and overdue_on(case, d)]
        if late:
            found[case.number] = late[0]
    return found


def expected_digest_days(until: date) -> dict[str, set[date]]:
    """Per staff member, the working days with something in their digest: the verifier's
    unassigned open tickets, the officer's assigned ones, the head's overdue ones. A digest
    found empty at the digest hour is not sent, and the day's digest goes out at the first
    poll that day with something to list: so what was there in the morning, or by the day's
    last poll (tickets taken and assigned during the day), counts for the verifier and the
    officer (the head's overdue tickets change only at midnight)."""
    from tests.e2e.support import KADES, KASI, SEKDES

    out: dict[str, set[date]] = {SEKDES: set(), KASI: set(), KADES: set()}
    for day in (d for d in days(FIRST, until) if workday(d)):
        for state in (day, day + timedelta(days=1)):  # the morning, the day's end
            live = [c for c in CASES if open_on(c, state)]
            if any(not assigned_on(c, state) for c in live):
                out[SEKDES].add(day)
            if any(assigned_on(c, state) for c in live):
                out[KASI].add(day)
        if any(overdue_on(c, day) for c in CASES):  # overdue starts at midnight, not by day
            out[KADES].add(day)
    return out


def box_reminder_days() -> list[date]:
    """The box is opened on Mondays: the team (the verifier) is reminded on each Monday of
    the month, or on the first working day after a Monday off."""
    found = []
    for monday in (d for d in days(FIRST, LAST) if d.weekday() == 0):
        while not workday(monday):
            monday += timedelta(days=1)
        found.append(monday)
    return found


def expected_digest(user_role: str, day: date) -> set[str]:
    """The numbers in a digest sent on the morning of `day` to "verifier", "officer" or
    "head" (the head's: every overdue ticket, until it is answered)."""
    live = [c for c in CASES if open_on(c, day)]
    if user_role == "verifier":
        return {c.number for c in live if not assigned_on(c, day)}
    if user_role == "officer":
        return {c.number for c in live if assigned_on(c, day)}
    return {c.number for c in live if overdue_on(c, day)}


@dataclass(frozen=True)
class Tally:
    received: int
    by_channel: dict[str, int]
    by_status: dict[str, int]
    in_time: int
    late: int
    pending: int
    overdue: list[str]
    response_median: float | None


def tally(cutoff: date = AFTER) -> Tally:
    """The month's figures as of the morning of `cutoff`, from the script alone."""
    mine = [c for c in CASES if FIRST <= c.day <= LAST]
    verdicts = [in_time(c, cutoff) for c in mine]
    statuses: dict[str, int] = {}
    for case in mine:
        statuses[status_on(case, cutoff)] = statuses.get(status_on(case, cutoff), 0) + 1
    channels: dict[str, int] = {}
    for case in mine:
        channels[case.channel] = channels.get(case.channel, 0) + 1
    responses = [r for c in mine if (r := response_days(c)) is not None]
    return Tally(received=len(mine), by_channel=channels, by_status=statuses,
                 in_time=verdicts.count(True), late=verdicts.count(False),
                 pending=verdicts.count(None),
                 overdue=sorted(c.number for c in mine if overdue_on(c, cutoff)),
                 response_median=float(statistics.median(responses)) if responses else None)
