"""Which list words occur in a text, found from the text's words rather than from the lists.

The suggester's lists hold about a thousand words; a complaint has a hundred or so distinct
words. Asking every list word where it occurs (core/priority_lists.py `Words`) cost about a
thousand lookups per text, over a third of a new ticket's CPU time in an intake pass (issue
10). Asking every distinct text word which list words it can be costs a few lookups per
word; `WordLists.find` then follows only the phrases whose first word occurs, and those
exactly as before, so the suggestions are the same (tests/unit/test_phrase_index.py).

A list word occurs as written when a text word is it, or it with a suffix; `kebakar*` when a
text word starts with "kebakar"; `#` when a text word is a number; and, for a family marked
`typos`, when a text word that is no real word is one edit away from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class Occurring:
    """Where the list words a text holds stand: `written` as written (with a suffix, as a
    prefix, or a number), `typos` one edit away; each a list word -> sorted positions."""

    written: dict[str, list[int]]
    typos: dict[str, list[int]]


# At most this many distinct text words are remembered per index (a few MB at most).
_MEMO_LIMIT = 50_000


@dataclass(frozen=True)
class PatternIndex:
    plain: frozenset[str]
    prefixes: frozenset[str]  # the prefix words, without their "*"
    numbers: bool  # whether "#" is a list word
    typo_keys: dict[str, frozenset[str]]  # a deletion key -> the plain words it comes from
    typo_min: int
    known: frozenset[str]  # real words, never read as a typo of another
    suffixes: tuple[str, ...]
    # A text word -> the list words it is (as written, by a typo): texts share most words.
    _memo: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, patterns: Iterable[str], typo_min: int, known: frozenset[str],
           suffixes: Iterable[str]) -> PatternIndex:
        plain, prefixes, numbers = set(), set(), False
        keys: dict[str, set[str]] = {}
        for pattern in patterns:
            if pattern == "#":
                numbers = True
            elif pattern.endswith("*"):
                prefixes.add(pattern[:-1])
            else:
                plain.add(pattern)
                if len(pattern) >= typo_min:
                    for key in pattern_keys(pattern):
                        keys.setdefault(key, set()).add(pattern)
        return cls(frozenset(plain), frozenset(prefixes), numbers,
                   {key: frozenset(found) for key, found in keys.items()}, typo_min, known,
                   tuple(suffixes))

    def occurring(self, by_token: Mapping[str, list[int]]) -> Occurring:
        """Where the list words stand, from the text's distinct words and their positions."""
        written: dict[str, list[int]] = {}
        typos: dict[str, list[int]] = {}
        for token, at in by_token.items():
            found = self._memo.get(token)
            if found is None:
                found = self._word(token)
                if len(self._memo) >= _MEMO_LIMIT:
                    self._memo.clear()
                self._memo[token] = found
            for pattern in found[0]:
                written.setdefault(pattern, []).extend(at)
            for pattern in found[1]:
                typos.setdefault(pattern, []).extend(at)
        for positions in (*written.values(), *typos.values()):
            positions.sort()
        return Occurring(written, typos)

    def _word(self, token: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The list words one text word is: as written, and by a typo."""
        written = {token[:end] + "*" for end in range(1, len(token) + 1)
                   if token[:end] in self.prefixes}
        if self.numbers and token.isdigit():
            written.add("#")
        if token in self.plain:
            written.add(token)
        for suffix in self.suffixes:
            if len(token) > len(suffix) and token.endswith(suffix) and token[:-len(suffix)] in self.plain:
                written.add(token[:-len(suffix)])
        typos: set[str] = set()
        if token.isalpha() and len(token) >= self.typo_min - 1 and token not in self.known:
            for key in {token} | deletions(token):
                typos.update(p for p in self.typo_keys.get(key, ()) if one_edit(p, token))
        return tuple(written), tuple(typos)


class StartIndex:
    """Which phrases a text can hold, for lists of several hundred phrases of which a complaint
    starts a dozen or two: the phrases are numbered in their lists' order, each given as its
    steps' words and whether its family takes typos. A phrase can match only where every
    step has a word in the text, so those are the only ones `Words.matches` is asked about."""

    def __init__(self, phrases: Iterable[tuple[Sequence[Iterable[str]], bool]]) -> None:
        self._written: dict[str, list[int]] = {}
        self._typos: dict[str, list[int]] = {}  # only the phrases of families with typos
        self._rest: list[tuple[tuple[frozenset[str], ...], bool]] = []
        for number, (steps, typos) in enumerate(phrases):
            for word in steps[0]:
                self._written.setdefault(word, []).append(number)
                if typos:
                    self._typos.setdefault(word, []).append(number)
            self._rest.append((tuple(frozenset(step) for step in steps[1:]), typos))

    def possible(self, there: Occurring) -> list[int]:
        """The numbers of the phrases each of whose steps the text holds a word of, in order."""
        found = {n for word in there.written for n in self._written.get(word, ())}
        found.update(n for word in there.typos for n in self._typos.get(word, ()))
        written, typos = there.written.keys(), there.typos.keys()
        return [n for n in sorted(found)
                if all(not written.isdisjoint(step) or (self._rest[n][1] and not typos.isdisjoint(step))
                       for step in self._rest[n][0])]


@lru_cache(maxsize=4096)
def pattern_keys(pattern: str) -> frozenset[str]:
    """A list word and its deletions: the keys its typos are found by (bounded by the lists)."""
    return frozenset({pattern} | deletions(pattern))


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit(a: str, b: str) -> bool:
    """At most one letter dropped, added or changed, or two neighbours swapped."""
    if abs(len(a) - len(b)) == 1:
        longer, shorter = (a, b) if len(a) > len(b) else (b, a)
        return shorter in deletions(longer)
    if len(a) != len(b):
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(differ) <= 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])
