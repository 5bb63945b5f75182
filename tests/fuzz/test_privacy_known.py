"""The reporter's name and address are found by hand-written matchers (privacy/known.py) with
exactly the spans of the regular expressions they stand for, on any text.

`_Flexible` and `_Word` replace a compiled pattern per reporter; a span they missed would be
identity shown to staff, so each is checked against `re` itself on texts built to be hard:
the value with other case, punctuation, underscores and too-long gaps between its words,
glued to letters, digits and the characters `re` folds onto ASCII letters that `lower()`
does not (dotted and dotless i, long s, the Kelvin sign), and unrelated Unicode.
"""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailflow.core.identity import Identity
from mailflow.core.privacy.known import (
    _Flexible,
    _Word,
    flexible_source,
    known_spans,
    lowered_for_matching,
    word_source,
)
from tests.fuzz.budget import fuzz

_WORDS = st.text("abcdeiksSIKr0123", min_size=1, max_size=6)
_GLUE = st.sampled_from(["", " ", "  ", "   ", "    ", "_", "__", ".", "-", ", ", "\t", "/",
                         "é", "x", "7", "\u0130", "\u0131", "\u017f", "\u212a", "ß", "\n",
                         " . ", "–"])


@st.composite
def values(draw: st.DrawFn) -> tuple[str, ...]:
    return tuple(draw(st.lists(_WORDS, min_size=1, max_size=4)))


def _recased(draw: st.DrawFn, word: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(word, flips, strict=True))


@st.composite
def texts_around(draw: st.DrawFn, parts: tuple[str, ...]) -> str:
    """Text with the value's words, in other case, joined by anything, among other text."""
    pieces = []
    for _ in range(draw(st.integers(1, 3))):
        pieces.append(draw(_GLUE))
        taken = parts[:draw(st.integers(1, len(parts)))]
        for index, part in enumerate(taken):
            if index:
                pieces.append(draw(_GLUE))
            pieces.append(_recased(draw, part))
        pieces.append(draw(_GLUE))
        pieces.append(draw(st.text(max_size=4)))
    return "".join(pieces)


def _by_re(source: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(source, text, re.IGNORECASE)]


def _spans(matcher: _Flexible | _Word, text: str) -> list[tuple[int, int]]:
    return list(matcher.spans(text, lowered_for_matching(text)))


@fuzz(400)
@given(st.data())
def test_a_flexible_value_is_found_exactly_where_its_pattern_matches(data: st.DataObject
                                                                     ) -> None:
    parts = data.draw(values().filter(
        lambda p: all(part.isascii() and part.isalnum() for part in p)))
    text = data.draw(texts_around(parts))
    assert _spans(_Flexible(tuple(p.lower() for p in parts)), text) == _by_re(
        flexible_source(" ".join(parts)), text)


@pytest.mark.parametrize(("parts", "text"), [
    (("siti", "aminah"), "Siti    Aminah; SITI - aminah; siti_aminah2; Siti Aminah_"),
    (("aa", "aa"), "aa aa aa aa"),  # the next match starts after the last one, not inside it
    (("rt", "02"), "RT.02/RT.  02"),
    (("aaa",), "xaaa aaa aaaa_aaa -aaa"),  # the next start after a run of letters
])
def test_fixed_cases_of_a_flexible_value(parts: tuple[str, ...], text: str) -> None:
    found = _spans(_Flexible(parts), text)
    assert found and found == _by_re(flexible_source(" ".join(parts)), text)


@fuzz(300)
@given(st.data())
def test_a_name_word_is_found_exactly_where_its_pattern_matches(data: st.DataObject) -> None:
    word = data.draw(st.text("abcikrs", min_size=1, max_size=6))
    text = data.draw(texts_around((word,)))
    assert _spans(_Word(word), text) == _by_re(word_source(word), text)


@pytest.mark.parametrize("text", ["xsiti siti", "siti_siti", "xsiti_siti", "sitisiti siti",
                                  "2siti-siti", "siti"])
def test_fixed_cases_of_a_name_word(text: str) -> None:
    found = _spans(_Word("siti"), text)
    assert found and found == _by_re(word_source("siti"), text)


def test_the_characters_re_folds_onto_ascii_letters_are_matched_as_re_does() -> None:
    for text in ("S\u0131ti Am\u0131nah", "\u0130TI AMINAH", "\u017fiti aminah",
                 "\u212aasih", "siti aminah \u0130"):
        for parts in (("siti", "aminah"), ("kasih",)):
            assert _spans(_Flexible(parts), text) == _by_re(flexible_source(" ".join(parts)),
                                                            text)
        assert _spans(_Word("siti"), text) == _by_re(word_source("siti"), text)


def test_a_reporters_name_and_address_are_hidden_in_every_form_they_recur() -> None:
    identity = Identity(name="Siti Aminah", address="Dusun Krajan RT 02/RW 05, Jl. Melati No. 7")
    text = ("Saya SITI-AMINAH dari dusun krajan rt 2 rw 05. Rumah di jl melati no 7. "
            "Aminah2 tidak. DUSUN KRAJAN RT.02/RW.05 jl melati NO 7")
    hidden = {text[f.start:f.end] for f in known_spans(text, identity)}
    assert hidden == {"SITI-AMINAH", "SITI", "AMINAH", "rt 2", "rw 05", "jl melati", "no 7",
                      "DUSUN KRAJAN RT.02/RW.05 jl melati NO 7", "RT.02", "RW.05", "NO 7"}


def test_no_other_character_lowers_or_folds_onto_an_ascii_letter_or_digit() -> None:
    """`lowered_for_matching` lowers any text without those four characters; that is exact
    only if no other character of this Python's Unicode matches an ASCII letter or digit
    case-insensitively, lowers to one, or lowers to more than one character."""
    ascii_word = re.compile("[a-z0-9]", re.IGNORECASE)
    folding = []
    for point in range(0x80, sys.maxunicode + 1):
        char = chr(point)
        if 0xD800 <= point <= 0xDFFF:
            continue
        lowered = char.lower()
        if ascii_word.fullmatch(char) or len(lowered) != 1 or lowered.isascii():
            folding.append(char)
    assert folding == ["\u0130", "\u0131", "\u017f", "\u212a"]
    assert all(lowered_for_matching(f"x{char}") is None for char in folding)
