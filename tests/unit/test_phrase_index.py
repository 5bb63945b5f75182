"""The text-side index (core/phrase_index.py) finds exactly what asking each list word finds:
every phrase, exception and negation, in every labelled complaint and its shouted and
accented copies, matches at the same positions with and without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.adapters.priority_words import configured_word_lists
from mailflow.core.priority import suggest
from mailflow.core.priority_lists import Family, Match, Phrase, WordLists, Words
from tests.fixtures.priority_set import load_labelled

LISTS = configured_word_lists(None)
TEXTS = [item.text for item in load_labelled()]
TEXTS += [text.upper() for text in TEXTS[:60]] + [text.replace("a", "á") for text in TEXTS[:60]]
TEXTS += ["banjiiir 15kk kebakarannya jembtan abmruk rt03 tidak ada banjir sudah surut"]


def _every_phrase(lists: WordLists) -> list[tuple[Phrase, bool]]:
    found = [(p, False) for p in (*lists.negations_before, *lists.negations_after)]
    for family in (*lists.urgency, *lists.impact):
        found += [(p, family.typos) for p in (*family.phrases, *family.exceptions)]
    return found


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_every_phrase_matches_at_the_same_places_with_the_index(text: str) -> None:
    indexed = LISTS.words(text)
    indexed.occurring(LISTS._index)
    plain = LISTS.words(text)  # never given the index: each list word looked up on its own
    for phrase, typos in _every_phrase(LISTS):
        assert indexed.matches(phrase, typos) == plain.matches(phrase, typos), phrase.source
    # A negation's window: positions of its own, filtered by the whole text's list words.
    for start in range(0, len(indexed), 7):
        window, reference = indexed.window(start - 5, start), Words(plain.tokens[max(0, start - 5):start])
        for phrase in LISTS.negations_before:
            assert window.spans(phrase) == reference.spans(phrase), phrase.source


def _find_phrase_by_phrase(lists: WordLists, words: Words, families: tuple[Family, ...]
                           ) -> list[Match]:
    """`WordLists.find` without its first-word index: every phrase of every family followed,
    in the lists' order, each found text at most once per family."""
    matches = []
    for family in families:
        seen: set[str] = set()
        for phrase in family.phrases:
            for positions in words.matches(phrase, family.typos):
                start, end = positions[0], positions[-1] + 1
                found = words.shown(positions)
                if found in seen or family.excepted(words, start, end):
                    continue
                seen.add(found)
                cancel = lists._negation(words, start, end) if family.negatable else None
                matches.append(Match(family, phrase, found, cancel))
    return matches


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_find_follows_the_phrases_a_text_starts_and_finds_what_every_phrase_finds(text: str) -> None:
    """The same matches in the same order (the reasons staff read come in it), and a text
    found by two families counts in each."""
    for families in (LISTS.urgency, LISTS.impact, LISTS.urgency[::-1]):
        assert LISTS.find(LISTS.words(text), families) == _find_phrase_by_phrase(
            LISTS, LISTS.words(text), families)


def test_the_suggestions_are_those_of_the_lists() -> None:
    """One end-to-end look: the suggester still finds an emergency and its negation."""
    assert suggest("Rumah warga kebakaran, api besar!", LISTS).urgency.value == "segera"
    assert suggest("Tidak ada kebakaran, hanya tanya jadwal.", LISTS).urgency.value != "segera"


def test_the_same_lists_are_compiled_once_and_an_edited_file_again(tmp_path: Path) -> None:
    """A regency's villages share one compiled copy (with its index) per distinct file text."""
    from mailflow.adapters.priority_words import default_text, load_word_lists

    path = tmp_path / "kata.toml"
    path.write_text(default_text(), encoding="utf-8")
    assert load_word_lists(path) is load_word_lists(path) is load_word_lists(None)
    path.write_text(default_text().replace('family = "banjir"', 'family = "banjir bandang"', 1),
                    encoding="utf-8")
    edited = load_word_lists(path)
    assert edited is not load_word_lists(None)
    assert "(banjir bandang)" in suggest("banjir", edited).reasons[0]


def test_the_same_words_found_by_two_families_count_for_each() -> None:
    """"banjir" is a flood (segera) and, in another family, an old one (biasa): both are
    reasons, in the lists' order, each family's repeat of it once."""
    from mailflow.core.priority import word_lists

    lists = word_lists({
        "settings": {"default_urgency": "biasa", "default_impact": "perorangan"},
        "urgency": [{"family": "banjir", "level": "segera", "words": ["banjir", "air naik"]},
                    {"family": "genangan", "level": "biasa", "words": ["genangan", "banjir"]}],
        "impact": []})
    text = "banjir lagi, air naik, banjir"
    found = [(m.family.name, m.found) for m in lists.find(lists.words(text), lists.urgency)]
    assert found == [("banjir", "banjir"), ("banjir", "air naik"), ("genangan", "banjir")]
    assert found == [(m.family.name, m.found) for m in _find_phrase_by_phrase(
        lists, lists.words(text), lists.urgency)]
