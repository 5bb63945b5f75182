"""The reporter's own name and address wherever they recur in a text, whole or in pieces.

Each reporter's name and address become patterns: the whole value with any spacing or
punctuation between its words ("Siti Aminah", "SITI-AMINAH", "siti.aminah"), each word of the
name on its own, and the address's RT, RW, house number and street. Compiling a regular
expression costs 50 to 125 us, more than matching it, and most reporters are new: a name's
patterns were a tenth of intake's time. So the patterns of values made of ASCII letters and
digits (nearly every Indonesian name and address) are matched by `_Flexible` and `_Word` below
over the lowered text, with exactly the regular expressions' spans
(tests/fuzz/test_privacy_known.py checks them against `re`); other values, and every other
pattern, are compiled regular expressions, kept across reporters (neighbours share an
address, an RT, name words).

The matchers search in C (`str.find`, and a compiled search to skip a run of letters) and
step in Python only where the first word is found at a word's start. Their worst case is a
text written against them, a name of many like words over a text of those words: linear,
some seven times the regular expressions' time, 0.16 s over the longest text a message
keeps (100,000 characters).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Final, Protocol

from mailflow.core.identity import Identity
from mailflow.core.identity.prose import ADDRESS_MARKERS, HONORIFICS, NOT_NAME
from mailflow.core.identity.shapes import Found

__all__ = ["ADDRESS_HIDDEN", "NAME_HIDDEN", "flexible_source", "identity_words", "known_spans",
           "word_source"]

NAME_HIDDEN: Final = "[nama disembunyikan]"
ADDRESS_HIDDEN: Final = "[alamat disembunyikan]"

_RT_RW = re.compile(r"\b(rt|rw)\.?[ \t]*0*(\d{1,3})\b", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"\b(?:no|nomor)\.?[ \t]*(\d{1,4}[a-zA-Z]?)\b", re.IGNORECASE)
_STREET_MARKERS: Final = frozenset({"jl", "jln", "jalan", "gg", "gang", "perum", "perumahan", "blok",
                                    "komplek", "kompleks"})
_MIN_NAME_WORD: Final = 3
_NOT_NAME_WORDS: Final = HONORIFICS | NOT_NAME | ADDRESS_MARKERS
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_GAP: Final = 3  # at most this many characters between two words of a flexible value
_NOT_WORD = re.compile(r"\W")  # what may stand before a flexible value
_NOT_ALNUM = re.compile(r"[\W_]")  # what may stand before a name word


class _Pattern(Protocol):
    def spans(self, text: str, lowered: str | None) -> Iterator[tuple[int, int]]:
        """(start, end) of each match, left to right, not overlapping; `lowered` is
        `lowered_for_matching(text)`."""
        ...


def known_spans(text: str, identity: Identity) -> Iterator[Found]:
    """The reporter's own name and address wherever they recur, whole or in pieces."""
    lowered = lowered_for_matching(text)
    for pattern, label in _known_patterns(identity):
        for start, end in pattern.spans(text, lowered):
            yield Found(start, end, label)


def identity_words(identity: Identity) -> set[str]:
    """The words of the reporter's name that must never be shown, case-folded."""
    words: set[str] = set()
    for word in _LETTER_RUN.findall(identity.name or ""):
        folded = word.casefold()
        if len(folded) >= _MIN_NAME_WORD and folded not in _NOT_NAME_WORDS:
            words.add(folded)
    return words


def flexible_source(value: str) -> str:
    """A pattern for `value` that allows other spacing and punctuation between its words."""
    parts = [re.escape(part) for part in re.findall(r"\w+", value)]
    return r"(?<!\w)" + r"[\W_]{0,3}".join(parts) + r"(?!\w)"


def word_source(word: str) -> str:
    """A pattern for one word of a name, anywhere it stands alone between other letters."""
    return rf"(?<![^\W_]){re.escape(word)}(?![^\W_])"


@functools.lru_cache(maxsize=64)
def _known_patterns(identity: Identity) -> tuple[tuple[_Pattern, str], ...]:
    """Made once per reporter: one ticket's texts (description, reason, notices) are
    scrubbed with the same identity several times over."""
    patterns: list[tuple[_Pattern, str]] = []
    if identity.name and re.search(r"\w", identity.name):
        patterns.append((_flexible(identity.name), NAME_HIDDEN))
    for word in sorted(identity_words(identity)):
        patterns.append((_Word(word) if word.isascii() else _Regex.of(word_source(word)),
                         NAME_HIDDEN))
    address = identity.address or ""
    if re.search(r"\w", address):
        patterns.append((_flexible(address), ADDRESS_HIDDEN))
    for kind, number in _RT_RW.findall(address):
        patterns.append((_Regex.of(rf"\b{kind.lower()}\.?[ \t]*0*{number}\b"), ADDRESS_HIDDEN))
    for number in _HOUSE_NUMBER.findall(address):
        patterns.append((_Regex.of(rf"\b(?:no|nomor)\.?[ \t]*{re.escape(number)}\b"),
                         ADDRESS_HIDDEN))
    for street in _streets(address):
        patterns.append((_flexible(street), ADDRESS_HIDDEN))
    return tuple(patterns)


def _flexible(value: str) -> _Pattern:
    parts = re.findall(r"\w+", value)
    if all(part.isascii() and "_" not in part for part in parts):
        return _Flexible(tuple(part.lower() for part in parts))
    return _Regex.of(flexible_source(value))


def _streets(address: str) -> Iterator[str]:
    """"Jl. Melati", "Gang Mawar III": a street marker and the words that name the street."""
    words = re.findall(r"[^\W_]+", address)
    for index, word in enumerate(words):
        if word.casefold() not in _STREET_MARKERS:
            continue
        named = []
        for following in words[index + 1:index + 4]:
            if following.casefold() in ADDRESS_MARKERS or following[0].isdigit():
                break
            named.append(following)
        if named:
            yield " ".join([word, *named])


class _Regex:
    """A compiled pattern, case-insensitive, shared by every reporter whose value makes it."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern

    @staticmethod
    @functools.lru_cache(maxsize=512)
    def of(source: str) -> _Regex:
        # Not left to `re`'s own cache: that drops its oldest entry however often it is used,
        # and each new reporter's patterns would push the shared ones out.
        return _Regex(re.compile(source, re.IGNORECASE))

    def spans(self, text: str, lowered: str | None) -> Iterator[tuple[int, int]]:
        for match in self._pattern.finditer(text):
            yield match.start(), match.end()


class _Word:
    """`word_source(word)` for an ASCII word: the word, any case, with no letter or digit on
    either side."""

    def __init__(self, word: str) -> None:
        self._word = word

    def spans(self, text: str, lowered: str | None) -> Iterator[tuple[int, int]]:
        if lowered is None:
            yield from _Regex.of(word_source(self._word)).spans(text, None)
            return
        word, size = self._word, len(text)
        start = lowered.find(word)
        while start >= 0:
            if start and text[start - 1].isalnum():
                start = _after_run(_NOT_ALNUM, text, lowered, word, start)
                continue
            end = start + len(word)
            if end == size or not text[end].isalnum():
                yield start, end
                start = lowered.find(word, end)
            else:
                start = _after_run(_NOT_ALNUM, text, lowered, word, start)


class _Flexible:
    """`flexible_source(value)` for a value whose words are ASCII letters and digits: the
    words in order, any case, each next one after at most three characters that are not
    letters or digits, and no word character before the first or after the last.

    Every word starts and ends with a letter or digit and the characters allowed between
    them are neither, so those between two words are exactly the run of such characters
    after the first: whether a match starts somewhere is decided without backtracking.
    """

    def __init__(self, parts: tuple[str, ...]) -> None:
        self._parts = parts

    def spans(self, text: str, lowered: str | None) -> Iterator[tuple[int, int]]:
        if lowered is None:
            yield from _Regex.of(flexible_source(" ".join(self._parts))).spans(text, None)
            return
        first = self._parts[0]
        start = lowered.find(first)
        while start >= 0:
            if start and _is_word(text[start - 1]):
                start = _after_run(_NOT_WORD, text, lowered, first, start)
                continue
            end = self._end(text, lowered, start)
            if end is not None:
                yield start, end
                start = lowered.find(first, end)
            else:
                start = lowered.find(first, start + 1)

    def _end(self, text: str, lowered: str, start: int) -> int | None:
        """Where the match whose first word is at `start` ends; None: no match there."""
        size = len(text)
        position = start + len(self._parts[0])
        for part in self._parts[1:]:
            gap = position
            while gap < size and gap - position <= _GAP and not text[gap].isalnum():
                gap += 1
            if gap - position > _GAP or not lowered.startswith(part, gap):
                return None
            position = gap + len(part)
        if position < size and _is_word(text[position]):
            return None
        return position


def _after_run(boundary: re.Pattern[str], text: str, lowered: str, word: str, start: int) -> int:
    """The next place `word` may start after `start`, which is inside a run of letters and
    digits (or word characters): only after the run's end can the character before it be
    a boundary. Found in C, so that a text of one letter repeated costs a search, not a
    Python step per letter."""
    end = boundary.search(text, start)
    return -1 if end is None else lowered.find(word, end.end())


def _is_word(char: str) -> bool:
    """`\\w`: what `re` counts as a word character."""
    return char.isalnum() or char == "_"


def lowered_for_matching(text: str) -> str | None:
    """`text.lower()` when its positions are the text's and it equals a lower-case ASCII word
    exactly where a case-insensitive `re` pattern of that word matches; else None.

    `re` also matches "i" with dotted capital I and dotless i, "s" with long s and "k" with
    the Kelvin sign, which `lower()` keeps apart (or, for dotted I, makes two characters).
    """
    if text.isascii():
        return text.lower()
    if _FOLDED_ONTO_ASCII.search(text):
        return None
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


_FOLDED_ONTO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
