"""Subjects and file names for roles without identity rights: only known words survive.

"Pengaduan Masyarakat - Budi Santoso, Dusun Krajan" and "KTP_Budi_Santoso_3322....jpg"
carry no sentence that would tell a name from a topic, so the rule is an allowlist: a
word stays only when it is a common word of complaints (mailflow.core.privacy.words) and
not a word of the reporter's name; a number stays only when it is short, a year, a date
or a time and not an RT, RW or house number. Everything else becomes one marker per run,
so "Pengaduan Masyarakat - [disembunyikan], Dusun [disembunyikan]" still says what the
mail is without saying who wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

from mailflow.core.identity.shapes import Found, number_spans, replace_spans
from mailflow.core.privacy.words import COMMON_WORDS

__all__ = ["HIDDEN", "keep_known_words", "scrub_filename_words"]

HIDDEN: Final = "[disembunyikan]"

# A marker a previous pass put in ("[nama disembunyikan]"), kept as it is.
_MARKER = re.compile(r"\[[a-zA-Z ]{0,40}disembunyikan\]")
_TICKET = re.compile(r"[A-Z]{2,10}-\d{4}-\d{5}")
_WORD = re.compile(r"[^\W_]+")
# Inside a file name word: "KTPBudiSantoso" is three words, "IMG20261127" two.
_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z\u00c0-\u024f]+|[A-Z\u00c0-\u00de]+|\d+|[^\W\d_]+")
_HOUSE_WORDS: Final = frozenset({"rt", "rw", "no", "nomor", "blok", "gg", "gang", "kav"})
_GAP = re.compile(r"[ \t_\-.]*")
_MAX_SHORT_NUMBER: Final = 4
_RUN: Final = "\x00"  # stands for a hidden number while the words around it are judged


def _number_ok(digits: str, previous: str) -> bool:
    """Short counts, years, dates and times stay; RT, RW and house numbers never do."""
    if previous in _HOUSE_WORDS:
        return False
    if len(digits) <= _MAX_SHORT_NUMBER:
        return True
    if len(digits) == 8 and digits.startswith(("19", "20")):  # 20261127
        return 1 <= int(digits[4:6]) <= 12 and 1 <= int(digits[6:]) <= 31
    if len(digits) == 6:  # 101530: a camera's time of day
        return int(digits[:2]) < 24 and int(digits[2:4]) < 60 and int(digits[4:]) < 60
    return False


def _word_ok(word: str, previous: str, forbidden: Collection[str]) -> bool:
    folded = word.casefold()
    if folded in forbidden:
        return False
    if word.isdigit():
        return _number_ok(word, previous)
    return folded in COMMON_WORDS


def keep_known_words(text: str, forbidden: Collection[str]) -> str:
    """`text` with every word that is not known to be ordinary replaced by a marker.

    Markers and ticket numbers already in the text stay; runs of hidden words separated
    only by spaces, dashes, dots or underscores become one marker.
    """
    protected = [(m.start(), m.end()) for pattern in (_MARKER, _TICKET) for m in pattern.finditer(text)]
    pieces: list[str] = []
    position = 0
    previous = ""
    hidden_open = False
    for match in _WORD.finditer(text):
        if any(start <= match.start() < end for start, end in protected):
            continue
        gap = text[position:match.start()]
        word = match.group()
        if _word_ok(word, previous, forbidden):
            pieces.append(gap + word)
            hidden_open = False
        elif hidden_open and _GAP.fullmatch(gap):
            pass  # the run of hidden words goes on
        else:
            pieces.append(gap + HIDDEN)
            hidden_open = True
        previous = word.casefold()
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def scrub_filename_words(name: str, forbidden: Collection[str]) -> str:
    """A file name with its stem cut into words (camel case too) and filtered like a subject.

    The extension stays when it is a plain short one, so staff still see that a photo or a
    PDF came with the complaint.
    """
    stem, dot, extension = name.rpartition(".")
    if not dot or not (extension.isalnum() and len(extension) <= 5) or not stem:
        stem, dot, extension = name, "", ""
    # Numbers first, across the separators inside them: "0812-3456-7890" is one phone.
    runs = [Found(f.start, f.end, _RUN) for f in number_spans(stem)]
    spaced = _WORD.sub(_pieces, replace_spans(stem, runs))
    kept = keep_known_words(spaced, forbidden).replace(_RUN, f" {HIDDEN} ")
    if HIDDEN not in kept:
        return name
    words = [w for w in re.split(r"[ \t_\-.]+", kept) if w]
    joined = "_".join(_merge_markers(words))
    return f"{joined or HIDDEN}{dot}{extension}"


def _pieces(match: re.Match[str]) -> str:
    """A known word whole ("WhatsApp"), anything else cut where its case or digits change."""
    word = match.group()
    if word.casefold() in COMMON_WORDS:
        return f" {word} "
    return _PIECE.sub(lambda piece: f" {piece.group()} ", word)


def _merge_markers(words: list[str]) -> list[str]:
    merged: list[str] = []
    for word in words:
        if not (word == HIDDEN and merged and merged[-1] == HIDDEN):
            merged.append(word)
    return merged
