"""How well the priority suggester agrees with the hand-labelled complaints.

Prints, for all complaints and for the held-out part (ids divisible by 5, whose misses were not
looked at while the word lists were tuned): accuracy of priority, urgency and impact; precision,
recall and F1 per priority; the confusion matrix; every missed `darurat` with its reasons;
the time `suggest` takes per complaint and on one long text (every complaint, three times);
and how many `darurat` complaints stay `darurat` when one of their words (5 letters or more) is
mistyped, every word in turn, once with a letter dropped and once with two letters swapped.
Numbers only: the targets are asserted in tests/unit/test_priority.py.

    .venv/bin/python bench/priority_eval.py [--misses] [--words FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# Run as a script: the checkout's root (for tests/fixtures) is not on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mailflow.adapters.priority_words import load_word_lists
from mailflow.core.priority import Suggestion, suggest
from mailflow.core.priority_lists import WordLists
from mailflow.vocabulary import Priority
from tests.fixtures.priority_set import Labelled, load_labelled

LEVELS = [Priority.DARURAT, Priority.TINGGI, Priority.SEDANG, Priority.RENDAH]
Result = tuple[Labelled, Suggestion]


def per_level(results: Sequence[Result]) -> list[str]:
    lines = [f"{'level':<9} {'n':>4} {'precision':>9} {'recall':>7} {'F1':>6}"]
    for level in LEVELS:
        tp = sum(1 for c, s in results if c.priority == level and s.priority == level)
        predicted = sum(1 for _, s in results if s.priority == level)
        actual = sum(1 for c, _ in results if c.priority == level)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(f"{level.value:<9} {actual:>4} {precision:>9.2f} {recall:>7.2f} {f1:>6.2f}")
    return lines


def confusion(results: Sequence[Result]) -> list[str]:
    lines = ["expected \\ suggested " + "".join(f"{lv.value:>9}" for lv in LEVELS)]
    for expected in LEVELS:
        row = [sum(1 for c, s in results if c.priority == expected and s.priority == got)
               for got in LEVELS]
        lines.append(f"{expected.value:<20} " + "".join(f"{n:>9}" for n in row))
    return lines


def report(title: str, results: Sequence[Result]) -> None:
    n = len(results)

    def share(ok: int) -> str:
        return f"{ok}/{n} = {ok / n:.3f}"

    print(f"== {title}: {n} complaints")
    print("accuracy priority:", share(sum(c.priority == s.priority for c, s in results)))
    print("accuracy urgency: ", share(sum(c.urgency == s.urgency for c, s in results)))
    print("accuracy impact:  ", share(sum(c.impact == s.impact for c, s in results)))
    print("\n".join(per_level(results)))
    print("\n".join(confusion(results)))
    missed = [(c, s) for c, s in results
              if c.priority == Priority.DARURAT and s.priority != Priority.DARURAT]
    print(f"missed darurat: {len(missed)}")
    for c, s in missed:
        print(f"  #{c.id} -> {s.priority.value}: {c.text[:90]}\n     {s.reason_text}")
    print()


def timing(lists: WordLists, texts: Sequence[str]) -> None:
    started = time.perf_counter()
    for text in texts:
        suggest(text, lists)
    each = (time.perf_counter() - started) / len(texts)
    long_text = " ".join(texts * 3)
    started = time.perf_counter()
    suggest(long_text, lists)
    print(f"time: {each * 1000:.1f} ms per complaint; {time.perf_counter() - started:.2f} s "
          f"for one text of {len(long_text.split())} words\n")


def _mistyped(word: str, swap: bool) -> str:
    m = len(word) // 2
    return word[:m - 1] + word[m] + word[m - 1] + word[m + 1:] if swap else word[:m] + word[m + 1:]


def typo_robustness(lists: WordLists, complaints: Sequence[Labelled]) -> None:
    for swap in (False, True):
        kept = tried = 0
        lost = []
        for c in (c for c in complaints if c.priority == Priority.DARURAT):
            for word in sorted(set(re.findall(r"[^\W\d_]{5,}", c.text))):
                text = re.sub(rf"\b{word}\b", _mistyped(word, swap), c.text)
                tried += 1
                if suggest(text, lists).priority == Priority.DARURAT:
                    kept += 1
                else:
                    lost.append(f"#{c.id} {word}")
        print(f"darurat kept with one word {'swapped' if swap else 'dropped a letter'}: "
              f"{kept}/{tried} = {kept / tried:.3f}; lost: {', '.join(lost) or 'none'}")
    print()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every wrong priority")
    parser.add_argument("--words", type=Path, help="word lists to use instead of the default")
    args = parser.parse_args(argv)
    lists = load_word_lists(args.words)
    results = [(c, suggest(c.text, lists)) for c in load_labelled()]
    report("all", results)
    timing(lists, [c.text for c in load_labelled()])
    typo_robustness(lists, load_labelled())
    report("held out (id % 5 == 0)", [r for r in results if r[0].held_out])
    if args.misses:
        for c, s in results:
            if c.priority != s.priority and not c.held_out:
                print(f"#{c.id} expected {c.priority.value} ({c.urgency.value}/{c.impact.value}) "
                      f"got {s.priority.value} ({s.urgency.value}/{s.impact.value})\n"
                      f"  {c.text[:120]}\n  {s.reason_text}")


if __name__ == "__main__":
    main()
