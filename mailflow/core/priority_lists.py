"""The priority suggester's word lists as data, and the matching of their phrases in a text.

Pure: `WordLists.from_data` compiles the parsed TOML (a plain mapping; the file is read by
mailflow/adapters/priority_words.py) and `WordLists.find` returns what matched in a text's
`Words`. The default lists are mailflow/core/priority_words.toml, which explains the syntax:

    kebakar*              a word starting with "kebakar" (kebakaran, kebakarannya)
    listrik padam         the two words in this order, next to each other
    air|banyu ... naik    "air" or "banyu", then "naik" within a few words
    # kk                  a number followed by "kk" ("15 KK", "15kk")

Text and phrases are normalised the same way: lower case, accents and punctuation removed,
letters and digits split ("rt03" -> "rt 03"), and a repeated letter written once
("banjiiir" -> "banjir", so "saat" is "sat" on both sides). A plain word also matches with
the suffixes -nya, -lah, -pun, -kah, -ne and -e ("banjirnya", "kabele"), and, in a family
marked `typos`, with one letter dropped, added, changed or two neighbours swapped. A family's
`except` phrases keep a word from counting inside them; its negations cancel a match.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mailflow.core.list_checks import (
    checked_level,
    checked_number,
    checked_strings,
    checked_table,
)
from mailflow.core.phrase_index import Occurring, PatternIndex, StartIndex, deletions, one_edit, pattern_keys

GAP_WORDS = 6  # how many words "..." may skip
_SUFFIXES = ("nya", "lah", "pun", "kah", "ne", "e")
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_REPEAT = re.compile(r"([a-z])\1+")


def normalise(text: str) -> list[str]:
    """The words of a text as matching sees them (see the module's docstring)."""
    folded = text.casefold()
    if not folded.isascii():  # accents off; plain ASCII (most mail) has none to take off
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    # A run of one letter lies inside one word, so squeezing the whole text squeezes each word.
    return _TOKEN.findall(_REPEAT.sub(r"\1", folded))


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

    def __init__(self, tokens: Sequence[str], known: frozenset[str] = frozenset(),
                 typo_min_length: int = 5) -> None:
        self.tokens = list(tokens)
        self._by_token: dict[str, list[int]] = {}
        for index, token in enumerate(self.tokens):
            self._by_token.setdefault(token, []).append(index)
        self._unions: dict[tuple[tuple[str, ...], bool], list[int]] = {}
        # Per list word: many phrases share their words, and each is looked up once a text.
        self._found: dict[tuple[str, bool], list[int]] = {}
        self._stems: dict[str, list[int]] | None = None
        self._prefixes: dict[str, list[int]] | None = None
        self._known = known  # real words, never read as a typo of another
        self._typo_min = typo_min_length
        self._near: dict[str, set[str]] | None = None
        # The list words the text holds, once `occurring` worked them out (phrase_index.py).
        self._there: Occurring | None = None
        # A window's whole text's list words: what is not among them is not in the window.
        self._within: Occurring | None = None

    def __len__(self) -> int:
        return len(self.tokens)

    def occurring(self, index: PatternIndex) -> Occurring:
        """The list words of `index` this text holds, worked out once per text; from then on
        a list word not among them is not looked for at all."""
        if self._there is None:
            self._there = index.occurring(self._by_token)
        return self._there

    def window(self, start: int, end: int) -> Words:
        """The words from `start` to `end`, for a negation's look around a match: what the
        whole text does not hold, the window does not either."""
        part = Words(self.tokens[max(0, start):end], self._known, self._typo_min)
        part._within = self._there or self._within
        return part

    def text(self, start: int, end: int) -> str:
        return " ".join(self.tokens[start:end])

    def shown(self, positions: Sequence[int]) -> str:
        """The matched words only, "..." for skipped ones (a name between them stays out of
        the reasons), a number of more than four digits as "#" (it may be a NIK or a phone)."""
        parts = []
        for index, at in enumerate(positions):
            if index and at != positions[index - 1] + 1:
                parts.append("...")
            token = self.tokens[at]
            parts.append("#" if token.isdigit() and len(token) > 4 else token)
        return " ".join(parts)

    def _positions(self, pattern: str) -> list[int]:
        """Where one list word matches: exactly (or with a suffix), as a prefix, or a number.

        Answered from indexes of the text built once (its words' stems without a suffix,
        and their prefixes), so each of the lists' hundreds of words is one lookup."""
        if pattern == "#":
            return [i for token, at in self._by_token.items() if token.isdigit() for i in at]
        if pattern.endswith("*"):
            if self._prefixes is None:
                self._prefixes = {}
                for token, at in self._by_token.items():
                    for end in range(1, len(token) + 1):
                        self._prefixes.setdefault(token[:end], []).extend(at)
            return self._prefixes.get(pattern[:-1], [])
        if self._stems is None:
            self._stems = {}
            for token, at in self._by_token.items():
                self._stems.setdefault(token, []).extend(at)
                for suffix in _SUFFIXES:
                    if len(token) > len(suffix) and token.endswith(suffix):
                        self._stems.setdefault(token[:-len(suffix)], []).extend(at)
        return self._stems.get(pattern, [])

    def _typo_positions(self, pattern: str) -> list[int]:
        """Where a word one letter away from a plain list word stands (dropped, added, changed
        or two neighbours swapped: "kebakran", "jembtan", "abmruk"), unless it is a real word."""
        if pattern[-1] in "*#" or len(pattern) < self._typo_min:
            return []
        if self._near is None:
            self._near = {}
            for token in self._by_token:
                if token.isalpha() and len(token) >= self._typo_min - 1 and token not in self._known:
                    for key in {token} | deletions(token):
                        self._near.setdefault(key, set()).add(token)
        near = self._near
        hits = [near[key] for key in pattern_keys(pattern) if key in near]
        if not hits:
            return []
        tokens = set().union(*hits)
        return [i for token in tokens if one_edit(pattern, token) for i in self._by_token[token]]

    def _union(self, alternatives: tuple[str, ...], typos: bool = False) -> list[int]:
        key = (alternatives, typos)
        union = self._unions.get(key)
        if union is None:
            if len(alternatives) == 1:
                union = self._word(alternatives[0], typos)
            else:
                union = sorted({i for p in alternatives for i in self._word(p, typos)})
            self._unions[key] = union
        return union

    def _word(self, pattern: str, typos: bool) -> list[int]:
        """Where one list word matches (with its typos when asked), sorted, once a text."""
        key = (pattern, typos)
        found = self._found.get(key)
        there = self._there
        if found is None and there is not None:
            written, typo = there.written.get(pattern, []), there.typos.get(pattern, [])
            found = self._found[key] = sorted({*written, *typo}) if typos and typo else written
        within = self._within
        if found is None and within is not None and pattern not in within.written and not (
                typos and pattern in within.typos):
            found = self._found[key] = []
        if found is None:
            found = self._positions(pattern)
            typo = self._typo_positions(pattern) if typos else []
            if typo or len(found) > 1:
                found = sorted({*found, *typo})
            self._found[key] = found
        return found

    def spans(self, phrase: Phrase, typos: bool = False) -> list[tuple[int, int]]:
        """Every (start, end) where the phrase occurs."""
        return [(found[0], found[-1] + 1) for found in self.matches(phrase, typos)]

    def matches(self, phrase: Phrase, typos: bool = False) -> list[tuple[int, ...]]:
        """The positions of the matched words, for every occurrence of the phrase; after a
        gap, the nearest word that fits is taken."""
        found = []
        for start in self._union(phrase.steps[0][0], typos):
            rest = self._follow(start + 1, phrase.steps[1:], typos)
            if rest is not None:
                found.append((start, *rest))
        return found

    def _follow(self, position: int, steps: Sequence[tuple[tuple[str, ...], bool]],
                typos: bool) -> list[int] | None:
        positions = []
        for alternatives, gap in steps:
            candidates = self._union(alternatives, typos)
            at = bisect_left(candidates, position)
            reach = position + (GAP_WORDS + 1 if gap else 1)
            if at == len(candidates) or candidates[at] >= reach:
                return None
            positions.append(candidates[at])
            position = candidates[at] + 1
        return positions


@dataclass(frozen=True)
class Family:
    """Words that point to one level of urgency or impact ("kebakaran" -> segera)."""

    name: str
    level: str  # a value of Urgency or Impact (checked by the caller that knows them)
    phrases: tuple[Phrase, ...]
    negatable: bool  # "tidak ada banjir" cancels it; "tidak ada air" must not cancel air
    # Phrases in which a match does not count ("pulang sekolah" is no school's problem).
    exceptions: tuple[Phrase, ...] = ()
    typos: bool = False  # a word one letter away from a listed word counts too

    def excepted(self, words: Words, start: int, end: int) -> bool:
        return any(s <= start and end <= e for phrase in self.exceptions
                   for s, e in words.spans(phrase))


@dataclass(frozen=True)
class Match:
    """One phrase of a family found in the text, and whether a negation cancelled it."""

    family: Family
    phrase: Phrase
    found: str  # the words of the text it matched, normalised ("..." for words skipped)
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
    typo_min_length: int  # shorter list words must be spelt right
    known: frozenset[str]  # real words that are never a typo: every plain list word, not_typos

    def words(self, text: str) -> Words:
        """The text's words, ready for `find`."""
        return Words(normalise(text), self.known, self.typo_min_length)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], urgency_levels: Sequence[str],
                  impact_levels: Sequence[str]) -> WordLists:
        """Compile the parsed lists; ValueError names the entry that is wrong."""
        settings = checked_table(data, "settings")
        default_urgency = checked_level(settings, "default_urgency", urgency_levels, "settings")
        default_impact = checked_level(settings, "default_impact", impact_levels, "settings")
        return cls(
            urgency=_families(data, "urgency", urgency_levels),
            impact=_families(data, "impact", impact_levels),
            negations_before=_phrases(settings, "negations_before", "settings"),
            negations_after=_phrases(settings, "negations_after", "settings"),
            window_before=checked_number(settings, "window_before", 3, 0, 10),
            window_after=checked_number(settings, "window_after", 3, 0, 10),
            default_urgency=default_urgency, default_impact=default_impact,
            typo_min_length=checked_number(settings, "typo_min_length", 5, 3, 20),
            known=frozenset(_plain_words(data, settings)),
        )

    @cached_property
    def _index(self) -> PatternIndex:
        """Every word of every phrase, exception and negation (core/phrase_index.py)."""
        phrases = [*self.negations_before, *self.negations_after]
        for family in (*self.urgency, *self.impact):
            phrases += [*family.phrases, *family.exceptions]
        return PatternIndex.of((p for phrase in phrases for step, _ in phrase.steps for p in step),
                               self.typo_min_length, self.known, _SUFFIXES)

    @cached_property
    def _starts(self) -> list[tuple[Sequence[Family], list[tuple[int, Family, Phrase]], StartIndex]]:
        """Urgency's and impact's phrases numbered in order, and their index (StartIndex)."""
        return [(families, *_numbered(families)) for families in (self.urgency, self.impact)]

    def find(self, words: Words, families: Sequence[Family]) -> list[Match]:
        """Every phrase of these families in the words, each at most once per family; only the
        phrases each of whose steps has a word in the text are followed (no other can match)."""
        flat, starts = next(((flat, starts) for known, flat, starts in self._starts
                             if known is families), None) or _numbered(families)
        matches, seen = [], [set[str]() for _ in families]
        for number, family, phrase in (flat[n] for n in starts.possible(words.occurring(self._index))):
            for positions in words.matches(phrase, family.typos):
                start, end = positions[0], positions[-1] + 1
                found = words.shown(positions)
                if found in seen[number] or family.excepted(words, start, end):
                    continue
                seen[number].add(found)
                cancel = self._negation(words, start, end) if family.negatable else None
                matches.append(Match(family, phrase, found, cancel))
        return matches

    def _negation(self, words: Words, start: int, end: int) -> str | None:
        before = words.window(start - self.window_before - 2, start)
        for phrase in self.negations_before:
            for s, e in before.spans(phrase):
                if e >= len(before) - self.window_before:
                    return before.text(s, e)
        after = words.window(end, end + self.window_after + 2)
        for phrase in self.negations_after:
            for s, e in after.spans(phrase):
                if s <= self.window_after:
                    return after.text(s, e)
        return None


def _numbered(families: Sequence[Family]) -> tuple[list[tuple[int, Family, Phrase]], StartIndex]:
    flat = [(n, family, phrase) for n, family in enumerate(families) for phrase in family.phrases]
    return flat, StartIndex(([step for step, _ in phrase.steps], family.typos) for _, family, phrase in flat)


def _plain_words(data: Mapping[str, Any], settings: Mapping[str, Any]) -> set[str]:
    """Every plain word of every list (a listed word is real, not a typo) and not_typos."""
    words = {w for w in (_compile_word(x) for x in checked_strings(settings, "not_typos", "settings")) if w}
    for key in ("urgency", "impact"):
        for entry in data.get(key, []):
            for phrase in _phrases(entry, "words", f"[[{key}]]"):
                words.update(p for alternatives, _ in phrase.steps for p in alternatives
                             if p[-1] not in "*#")
    return words


def _phrases(table: Mapping[str, Any], key: str, where: str) -> tuple[Phrase, ...]:
    words = checked_strings(table, key, where)
    try:
        return tuple(Phrase.parse(word) for word in words)
    except ValueError as exc:  # name the family or setting too, not only the phrase
        raise ValueError(f"{where}.{key}: {exc}") from exc


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
        negatable, typos = entry.get("negatable", True), entry.get("typos", False)
        if not isinstance(negatable, bool) or not isinstance(typos, bool):
            raise ValueError(f"{where}: negatable and typos must be true or false")
        phrases = _phrases(entry, "words", where)
        if not phrases:
            raise ValueError(f"{where} has no words")
        families.append(Family(entry["family"], checked_level(entry, "level", levels, where),
                               phrases, negatable, _phrases(entry, "except", where), typos))
    return tuple(families)
