"""The text-side index (core/phrase_index.py) finds exactly what asking each list word finds:
every phrase, exception and negation, in every labelled complaint and its shouted and
accented copies, matches at the same positions with and without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.adapters.priority_words import configured_word_lists
from mailflow.core.priority import suggest
from mailflow.core.priority_lists import Phrase, WordLists, Words
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
