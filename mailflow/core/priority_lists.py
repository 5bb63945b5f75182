"""The priority suggester's word lists as data, and the matching of their phrases in a text.

Pure: `WordLists.from_data` takes the parsed TOML (a plain mapping; the file is read by
mailflow/adapters/priority_words.py) and `find` takes a text and returns what matched. The
default lists are mailflow/core/priority_words.toml, which explains the phrase syntax:

    kebakar*              a word starting with "kebakar" (kebakaran, kebakarannya)
    listrik padam         the two words in this order, next to each other
    air|banyu ... naik    "air" or "banyu", then "naik" within a few words
    # kk                  a number followed by "kk" ("15 KK", "15kk")

Text and phrases are normalised the same way: lower case, accents and punctuation removed,
letters and digits split ("rt03" -> "rt 03"), and a repeated letter written once
("banjiiir" -> "banjir", so "saat" is "sat" on both sides). A plain word also matches with
the suffixes -nya, -lah, -pun, -kah, -ne and -e ("banjirnya", "kabele").
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GAP_WORDS = 6  # how many words "..." may skip
_SUFFIXES = ("nya", "lah", "pun", "kah", "ne", "e")
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_REPEAT = re.compile(r"([a-z])\1+")


def normalise(text: str) -> list[str]:
    """The words of a text as matching sees them (see the module's docstring)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [_REPEAT.sub(r"\1", token) for token in _TOKEN.findall(plain)]


@dataclass(frozen=True)
class Phrase:
    """One entry of a list, compiled: a sequence of steps, each a set of alternatives."""

    source: str  # as written in the list, for the reasons staff read
    steps: tuple[tuple[tuple[str, ...], bool], ...]  # (alternatives, may follow a gap)

    @classmethod
    def parse(cls, source: str) -> Phrase:
        steps: list[tuple[tuple[str, ...], bool]] = []
        gap = False
        for part in source.split():
            if part == "...":
                gap = True
                continue
            alternatives = tuple(_compile_word(word) for word in part.split("|"))
            if not all(alternatives):
                raise ValueError(f"phrase '{source}': '{part}' needs letters or digits, "
                                 "not both in one word ('rt 03', not 'rt03')")
            steps.append((alternatives, gap))
            gap = False
        if not steps or gap:
            raise ValueError(f"phrase '{source}' is empty or ends with '...'")
        return cls(source, tuple(steps))


def _compile_word(word: str) -> str:
    """A list word as matching compares it: normalised, keeping `*` (prefix) and `#` (number)."""
    if word == "#":
        return "#"
    star = word.endswith("*")
    tokens = normalise(word.rstrip("*"))
    if len(tokens) != 1:
        return ""  # no letters, or letters and digits mixed ("rt03": write "rt #" or "rt 03")
    return tokens[0] + ("*" if star else "")


class Words:
    """A text's normalised words, indexed so that every phrase is found in about linear time.

    Positions are looked up per distinct word, never per word of the text, so a long mail
    costs little more than a short one per phrase.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        self._by_token: dict[str, list[int]] = {}
        for index, token in enumerate(self.tokens):
            self._by_token.setdefault(token, []).append(index)
        self._unions: dict[tuple[str, ...], list[int]] = {}

    def __len__(self) -> int:
        return len(self.tokens)

    def text(self, start: int, end: int) -> str:
        return " ".join(self.tokens[start:end])

    def _positions(self, pattern: str) -> list[int]:
        """Where one list word matches: exactly (or with a suffix), as a prefix, or a number."""
        if pattern == "#":
            return [i for token, at in self._by_token.items() if token.isdigit() for i in at]
        if pattern.endswith("*"):
            stem = pattern[:-1]
            return [i for token, at in self._by_token.items() if token.startswith(stem) for i in at]
        return [i for form in (pattern, *(pattern + s for s in _SUFFIXES))
                for i in self._by_token.get(form, ())]

    def _union(self, alternatives: tuple[str, ...]) -> list[int]:
        if alternatives not in self._unions:
            self._unions[alternatives] = sorted({i for p in alternatives for i in self._positions(p)})
        return self._unions[alternatives]

    def spans(self, phrase: Phrase) -> list[tuple[int, int]]:
        """Every (start, end) where the phrase occurs; each later step takes the nearest word."""
        found = []
        for start in self._union(phrase.steps[0][0]):
            end = self._follow(start + 1, phrase.steps[1:])
            if end is not None:
                found.append((start, end))
        return found

    def _follow(self, position: int, steps: Sequence[tuple[tuple[str, ...], bool]]) -> int | None:
        for alternatives, gap in steps:
            candidates = self._union(alternatives)
            at = bisect_left(candidates, position)
            reach = position + (GAP_WORDS + 1 if gap else 1)
            if at == len(candidates) or candidates[at] >= reach:
                return None
            position = candidates[at] + 1
        return position


@dataclass(frozen=True)
class Family:
    """Words that point to one level of urgency or impact ("kebakaran" -> segera)."""

    name: str
    level: str  # a value of Urgency or Impact (checked by the caller that knows them)
    phrases: tuple[Phrase, ...]
    negatable: bool  # "tidak ada banjir" cancels it; "tidak ada air" must not cancel air
    # Phrases in which a match does not count ("pulang sekolah" is no school's problem).
    exceptions: tuple[Phrase, ...] = ()

    def excepted(self, words: Words, start: int, end: int) -> bool:
        return any(s <= start and end <= e for phrase in self.exceptions
                   for s, e in words.spans(phrase))


@dataclass(frozen=True)
class Match:
    """One phrase of a family found in the text, and whether a negation cancelled it."""

    family: Family
    phrase: Phrase
    found: str  # the words of the text it matched, normalised
    cancelled_by: str | None = None


@dataclass(frozen=True)
class WordLists:
    """Every list the suggester uses, compiled."""

    urgency: tuple[Family, ...]
    impact: tuple[Family, ...]
    negations_before: tuple[Phrase, ...]  # "tidak", "bukan", "tahun lalu" ... before a match
    negations_after: tuple[Phrase, ...]  # "sudah surut", "sudah padam" ... after a match
    window_before: int  # how many words before a match a negation may end
    window_after: int  # how many words after a match a negation may start
    default_urgency: str
    default_impact: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any], urgency_levels: Sequence[str],
                  impact_levels: Sequence[str]) -> WordLists:
        """Compile the parsed lists; ValueError names the entry that is wrong."""
        settings = _table(data, "settings")
        default_urgency = _level(settings, "default_urgency", urgency_levels, "settings")
        default_impact = _level(settings, "default_impact", impact_levels, "settings")
        return cls(
            urgency=_families(data, "urgency", urgency_levels),
            impact=_families(data, "impact", impact_levels),
            negations_before=_phrases(settings, "negations_before", "settings"),
            negations_after=_phrases(settings, "negations_after", "settings"),
            window_before=_window(settings, "window_before"),
            window_after=_window(settings, "window_after"),
            default_urgency=default_urgency, default_impact=default_impact,
        )

    def find(self, words: Words, families: Sequence[Family]) -> list[Match]:
        """Every phrase of these families in the words, each at most once per family."""
        matches = []
        for family in families:
            seen: set[str] = set()
            for phrase in family.phrases:
                for start, end in words.spans(phrase):
                    found = words.text(start, end)
                    if found in seen or family.excepted(words, start, end):
                        continue
                    seen.add(found)
                    cancel = self._negation(words, start, end) if family.negatable else None
                    matches.append(Match(family, phrase, found, cancel))
        return matches

    def _negation(self, words: Words, start: int, end: int) -> str | None:
        before = Words(words.tokens[max(0, start - self.window_before - 2):start])
        for phrase in self.negations_before:
            for s, e in before.spans(phrase):
                if e >= len(before) - self.window_before:
                    return before.text(s, e)
        after = Words(words.tokens[end:end + self.window_after + 2])
        for phrase in self.negations_after:
            for s, e in after.spans(phrase):
                if s <= self.window_after:
                    return after.text(s, e)
        return None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ValueError(f"[{key}] is missing or not a table")
    return value


def _level(table: Mapping[str, Any], key: str, levels: Sequence[str], where: str) -> str:
    value = table.get(key)
    if value not in levels:
        raise ValueError(f"{where}.{key} = {value!r}: choose one of {', '.join(levels)}")
    return str(value)


def _window(settings: Mapping[str, Any], key: str) -> int:
    value = settings.get(key, 3)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
        raise ValueError(f"settings.{key} must be a whole number from 0 to 10")
    return value


def _phrases(table: Mapping[str, Any], key: str, where: str) -> tuple[Phrase, ...]:
    words = table.get(key, [])
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ValueError(f"{where}.{key} must be a list of strings")
    return tuple(Phrase.parse(word) for word in words)


def _families(data: Mapping[str, Any], key: str, levels: Sequence[str]) -> tuple[Family, ...]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise ValueError(f"[[{key}]] must be an array of tables")
    families = []
    for number, entry in enumerate(entries, start=1):
        where = f"[[{key}]] number {number}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("family"), str):
            raise ValueError(f"{where} needs a 'family' name")
        where = f"[[{key}]] '{entry['family']}'"
        negatable = entry.get("negatable", True)
        if not isinstance(negatable, bool):
            raise ValueError(f"{where}: negatable must be true or false")
        phrases = _phrases(entry, "words", where)
        if not phrases:
            raise ValueError(f"{where} has no words")
        families.append(Family(entry["family"], _level(entry, "level", levels, where),
                               phrases, negatable, _phrases(entry, "except", where)))
    return tuple(families)
