"""Priority from urgency and impact, and the suggestion of both from a complaint's text.

The procedure ranks complaints "berdasarkan urgensi dan dampak terhadap kepentingan umum".
Urgency is how soon harm happens if nobody acts; impact is how many people or public
facilities are affected. MATRIX turns the pair into one of the four priorities, as the
workflow's transition table turns a command into a status: every cell is written out.

`suggest` reads the text with configurable word lists (core/priority_words.toml, compiled
by core/priority_lists.py) and says which words led to which level, so staff see why and
overrule with `#prioritas` when they know better. It leans toward `darurat`: a phrase that
points to a life or safety at risk now wins over everything else in the text, because a
missed emergency costs far more than a clerk's minute spent lowering a false alarm.

Pure: no I/O; the lists come in as data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from mailflow.core.priority_lists import Match, WordLists
from mailflow.vocabulary import Priority


class Urgency(StrEnum):
    """How soon harm happens if nobody acts, from the most to the least urgent."""

    SEGERA = "segera"
    CEPAT = "cepat"
    BIASA = "biasa"
    BISA_MENUNGGU = "bisa_menunggu"

    @property
    def label(self) -> str:
        return {Urgency.SEGERA: "segera (nyawa atau keselamatan terancam sekarang)",
                Urgency.CEPAT: "cepat (kerugian nyata dalam beberapa hari)",
                Urgency.BIASA: "biasa (kerugian bertambah dalam beberapa minggu)",
                Urgency.BISA_MENUNGGU: "bisa menunggu (saran, pertanyaan, ucapan)"}[self]

    @property
    def rank(self) -> int:
        """Higher is more urgent."""
        return len(_URGENCY_ORDER) - 1 - _URGENCY_ORDER.index(self)


class Impact(StrEnum):
    """How many people or public facilities are affected, from the widest to the narrowest."""

    LUAS = "luas"
    KELOMPOK = "kelompok"
    PERORANGAN = "perorangan"

    @property
    def label(self) -> str:
        return {Impact.LUAS: "luas (satu dusun atau desa, atau fasilitas umum)",
                Impact.KELOMPOK: "kelompok (beberapa keluarga, satu RT, satu kelompok)",
                Impact.PERORANGAN: "perorangan (satu orang atau satu keluarga)"}[self]

    @property
    def rank(self) -> int:
        """Higher is wider."""
        return len(_IMPACT_ORDER) - 1 - _IMPACT_ORDER.index(self)


_URGENCY_ORDER = list(Urgency)
_IMPACT_ORDER = list(Impact)

REASONS_SHOWN = 8  # in reason_text; a long mail can match dozens of phrases

_D, _T, _S, _R = Priority.DARURAT, Priority.TINGGI, Priority.SEDANG, Priority.RENDAH


def _row(perorangan: Priority, kelompok: Priority, luas: Priority) -> dict[Impact, Priority]:
    return {Impact.PERORANGAN: perorangan, Impact.KELOMPOK: kelompok, Impact.LUAS: luas}


# Urgency x impact -> priority. Read a row across: the wider the harm, the higher (never lower).
# A life or safety at risk now is `darurat` whoever it concerns; a matter that can wait is
# `rendah` unless it concerns the whole village or a public facility.
MATRIX: dict[Urgency, dict[Impact, Priority]] = {
    #                           perorangan  kelompok  luas
    Urgency.SEGERA:        _row(_D,         _D,       _D),
    Urgency.CEPAT:         _row(_S,         _T,       _T),
    Urgency.BIASA:         _row(_R,         _S,       _T),
    Urgency.BISA_MENUNGGU: _row(_R,         _R,       _S),
}


def priority_for(urgency: Urgency, impact: Impact) -> Priority:
    return MATRIX[urgency][impact]


@dataclass(frozen=True)
class Suggestion:
    """What the text suggests, and why, in words staff read (Bahasa Indonesia)."""

    urgency: Urgency
    impact: Impact
    priority: Priority
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The suggestion in one phrase, e.g. "darurat (urgensi segera, dampak kelompok)"."""
        return f"{self.priority.value} (urgensi {self.urgency.value}, dampak {self.impact.value})"

    @property
    def reason_text(self) -> str:
        """One line for the ticket and `tickets --json`: the summary, then at most
        REASONS_SHOWN reasons (strongest first) joined by '; ', and how many more there were."""
        shown = "; ".join(self.reasons[:REASONS_SHOWN])
        more = len(self.reasons) - REASONS_SHOWN
        return f"{self.summary}: {shown}" + (f"; dan {more} alasan lain" if more > 0 else "")


def word_lists(data: Mapping[str, Any]) -> WordLists:
    """Compile parsed word lists (the TOML's tables); ValueError names what is wrong."""
    return WordLists.from_data(data, [u.value for u in Urgency], [i.value for i in Impact])


def suggest(text: str, lists: WordLists) -> Suggestion:
    """Urgency, impact and priority the text suggests: the highest level any phrase points to."""
    words = lists.words(text)
    urgency_matches = lists.find(words, lists.urgency)
    impact_matches = lists.find(words, lists.impact)
    urgency = max((Urgency(m.family.level) for m in _live(urgency_matches)),
                  key=lambda u: u.rank, default=Urgency(lists.default_urgency))
    impact = max((Impact(m.family.level) for m in _live(impact_matches)),
                 key=lambda i: i.rank, default=Impact(lists.default_impact))
    reasons = (_reasons(urgency_matches, "urgensi", lambda v: Urgency(v).rank, urgency.value)
               + _reasons(impact_matches, "dampak", lambda v: Impact(v).rank, impact.value))
    return Suggestion(urgency, impact, priority_for(urgency, impact), tuple(reasons))


def _live(matches: Sequence[Match]) -> list[Match]:
    return [m for m in matches if m.cancelled_by is None]


def _reasons(matches: Sequence[Match], what: str, rank: Callable[[str], int],
             chosen: str) -> list[str]:
    """Live matches, strongest first, then the cancelled ones; the default when none is live."""
    live = sorted(_live(matches), key=lambda m: -rank(m.family.level))
    lines = [f"'{m.found}' ({m.family.name}) -> {what} {m.family.level}" for m in live]
    if not live:
        lines.append(f"tidak ada kata penanda {what} -> {what} {chosen} (bawaan)")
    lines += [f"'{m.found}' ({m.family.name}) diabaikan karena '{m.cancelled_by}'"
              for m in matches if m.cancelled_by is not None]
    return lines
