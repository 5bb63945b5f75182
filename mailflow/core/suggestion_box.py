"""The suggestion box (kotak saran): reading an opening's entries, and when the box is due.

The team that opens the box writes one entry per block, blocks separated by a line of three
or more dashes (`---`; ten or more read as a quoted-message separator, core/reply_text.py):

    Kotak Saran                      <- the subject (any case, Re:/Fwd: tolerated)

    saran: Mohon lampu jalan di RT 03 diperbaiki, gelap sekali di malam hari.
    ---
    keluhan
    Nama: Pak Darmo
    Pelayanan surat pengantar di kantor desa lama sekali.
    lampiran: kertas2.jpg
    ---

Each block may begin with a kind word (saran, kritik, keluhan, pengaduan; `saran` when it
does not), a name the paper gave as an ordinary identity line (`Nama: ...`, read later by
core/identity like any complaint), and `lampiran:` / `foto:` lines naming attached files.
Attachments: a block that names a file gets that file; files no block names go to every
entry of the opening, so that no scan is lost and whoever follows an entry up sees them.
The body first loses what a reply quotes and the mail program's signature (core/reply_text).

Pure: no clock (the day is passed in), no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from mailflow.core.intake_rules import normalise
from mailflow.core.reply_text import new_text
from mailflow.core.workdays import WorkCalendar
from mailflow.vocabulary import EntryKind

PHRASE = "kotak saran"
MAX_ENTRIES = 200  # a bound on one opening: a hostile or mistaken mail makes no more tickets

_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_KIND_WORD = re.compile(r"^\s*(?P<word>[a-z]+)\s*[:.\-]?\s*(?P<rest>.*)$", re.IGNORECASE)
_ATTACHED = re.compile(r"^\s*(lampiran|foto|attachment|scan)\s*[:=]\s*(?P<name>\S.*?)\s*$",
                       re.IGNORECASE)
WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5,
    "minggu": 6,
}


@dataclass(frozen=True)
class Entry:
    """One paper from the box: its kind, its text (a name line included, if any), and the
    attachments it names (filenames as written, compared without case)."""

    kind: EntryKind
    text: str
    named_files: tuple[str, ...] = ()


def is_opening_subject(subject: str) -> bool:
    """Whether a subject records a box opening: it carries "kotak saran" in any form."""
    return PHRASE in normalise(subject)


def _entry(block: str) -> Entry | None:
    lines = [line.rstrip() for line in block.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    kind = EntryKind.SARAN
    first = _KIND_WORD.match(lines[0])
    if first is not None and first.group("word").lower() in {k.value for k in EntryKind}:
        kind = EntryKind(first.group("word").lower())
        lines[0] = first.group("rest")
    named: list[str] = []
    kept: list[str] = []
    for line in lines:
        attached = _ATTACHED.match(line)
        if attached is not None:
            named.append(attached.group("name"))
        else:
            kept.append(line)
    text = "\n".join(kept).strip()
    if not text and not named:
        return None
    return Entry(kind, text, tuple(named))


def parse_entries(body: str) -> list[Entry]:
    """The entries of an opening's body, in order; blank blocks and a trailing `---` make
    none; at most MAX_ENTRIES (the caller says so when there were more)."""
    text = new_text(body)
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if _SEPARATOR.match(line):
            blocks.append([])
        else:
            blocks[-1].append(line)
    entries = [e for e in (_entry("\n".join(b)) for b in blocks) if e is not None]
    return entries[:MAX_ENTRIES + 1]


def files_for(entries: Sequence[Entry], filenames: Sequence[str]) -> list[list[int]]:
    """For each entry, the indexes of the attachments it gets: those it names, and every
    attachment no entry names (shared by all). Filenames compare without case."""
    folded = [name.casefold() for name in filenames]
    named = {n.casefold() for e in entries for n in e.named_files}
    shared = [i for i, name in enumerate(folded) if name not in named]
    out: list[list[int]] = []
    for entry in entries:
        own = {n.casefold() for n in entry.named_files}
        out.append(sorted({*shared, *(i for i, name in enumerate(folded) if name in own)}))
    return out


def unknown_names(entries: Iterable[Entry], filenames: Iterable[str]) -> list[str]:
    """Files entries name that the opening does not carry (told back to the team)."""
    have = {n.casefold() for n in filenames}
    return [n for e in entries for n in e.named_files if n.casefold() not in have]


# -- the schedule ------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxSchedule:
    """`weekday` (0 = Monday) or `every_working_days`; exactly one is set."""

    weekday: int | None = None
    every_working_days: int | None = None


def opening_due(day: date, schedule: BoxSchedule, calendar: WorkCalendar,
                last_opening: date | None) -> bool:
    """Whether the team is reminded to open the box on `day` (never on a day off).

    By weekday: on that weekday, or, when it is a day off, on the first working day after it
    (before the next one), unless the box was opened since. Every N working days: when N
    working days have passed since the last recorded opening (or none was ever recorded).
    An opening recorded on `day` itself means nothing is due.
    """
    if not calendar.is_workday(day) or last_opening == day:
        return False
    if schedule.weekday is not None:
        back = (day.weekday() - schedule.weekday) % 7
        scheduled = date.fromordinal(day.toordinal() - back)
        between = [date.fromordinal(scheduled.toordinal() + i) for i in range(back)]
        if any(calendar.is_workday(d) for d in between):
            return False  # the scheduled day (or a working day after it) was the day
        return last_opening is None or last_opening < scheduled
    every = schedule.every_working_days or 1
    return last_opening is None or calendar.add_workdays(last_opening, every) <= day
