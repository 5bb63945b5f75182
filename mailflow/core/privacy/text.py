"""Where identity stands in free text (a description, a reply, a note), as spans to hide.

Each finder errs towards hiding: a signature block is hidden whole, a word after "nama
saya" is hidden whatever its case, an address after "tinggal di" is hidden to the end of
the place, and the reporter's own name and address are hidden wherever they recur, word
by word (privacy/known.py). What stays is the complaint: what is wrong, where, since when.
One exception is deliberate: the name of a hamlet or village on its own ("dusun Krajan")
stays, because it is usually where the problem is and hundreds of people live there; the
RT, the street and the house number, which narrow it to a household, are hidden.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from typing import Final

from mailflow.core.identity import Identity, form_lines
from mailflow.core.identity.prose import (
    NOT_NAME,
    address_ok,
    address_run,
    address_triggers,
    name_run,
    name_triggers,
    signature_blocks,
)
from mailflow.core.identity.shapes import Found, email_spans, number_spans
from mailflow.core.privacy.known import ADDRESS_HIDDEN, NAME_HIDDEN, identity_words, known_spans
from mailflow.core.privacy.words import COMMON_WORDS

__all__ = ["ADDRESS_HIDDEN", "DATA_HIDDEN", "NAME_HIDDEN", "SIGNATURE_HIDDEN", "identity_words",
           "text_spans"]

SIGNATURE_HIDDEN: Final = "[tanda tangan disembunyikan]"
DATA_HIDDEN: Final = "[data pelapor disembunyikan]"
_LINE_LABELS: Final = frozenset({SIGNATURE_HIDDEN, DATA_HIDDEN})

# Labelled lines that identity extraction does not read but that are identity all the same:
# the other fields of a KTP, and accounts.
_OTHER_LABELS = re.compile(
    r"[ \t>*_\-\u2022]*(?:ttl|tempat[ \t,/]*(?:dan[ \t]+)?(?:tanggal|tgl\.?)[ \t]*lahir|"
    r"(?:tanggal|tgl\.?)[ \t]*lahir|lahir|pekerjaan|umur|usia|agama|jenis[ \t]+kelamin|"
    r"status[ \t]+perkawinan|kewarganegaraan|e-?mail|surel|ig|instagram|facebook|fb|"
    r"tiktok|twitter|rekening|no\.?[ \t]*rek(?:ening)?)[ \t*_]*[:=\uff1a]",
    re.IGNORECASE,
)
# "anak saya Rina", "suami saya bernama Slamet": relatives identify the writer too.
_KIN_TRIGGER = re.compile(
    r"(?<![\w-])(?:anak|suami|istri|ayah|bapak|ibu|adik|kakak|mertua|cucu|keponakan|menantu|"
    r"orang[ \t]+tua)[ \t]+saya[ \t]+(?:yang[ \t]+)?(?:bernama[ \t]+|namanya[ \t]+)?",
    re.IGNORECASE,
)
_MIN_AFFIXED: Final = 6
_PREFIXES: Final = ("me", "be", "te", "di", "pe", "ke")
_MAX_SENTENCE_WORDS: Final = 5  # a signature line with more words, mostly lower-case, is prose
_MAX_TRAILING_LINES: Final = 4


def text_spans(text: str, identity: Identity, keep: Collection[str]) -> list[Found]:
    """Every span of `text` that is, or may be, the reporter's identity."""
    lines = text.split("\n")
    starts = _line_starts(lines)
    spans: list[Found] = []
    spans += _form_spans(lines, starts)
    spans += _signature_spans(lines, starts)
    for index, line in enumerate(lines):
        spans += _prose_spans(line, starts[index])
    spans += known_spans(text, identity)
    spans += number_spans(text)
    spans += email_spans(text, keep)
    return _joined(text, spans)


def _joined(text: str, spans: list[Found]) -> list[Found]:
    """Whole hidden lines one after another become one marker, so a hidden form block or
    signature reads as one line instead of four identical ones."""
    joined: list[Found] = []
    for found in sorted(spans, key=lambda f: (f.start, -f.end)):
        last = joined[-1] if joined else None
        if last is not None and found.end <= last.end:
            continue  # inside a span already hidden (a NIK inside a hidden form line)
        if (last is not None and found.label == last.label and found.label in _LINE_LABELS
                and found.start >= last.end and not text[last.end:found.start].strip(" \t\n>")):
            joined[-1] = Found(last.start, max(last.end, found.end), last.label)
        else:
            joined.append(found)
    return joined


def _line_starts(lines: Sequence[str]) -> list[int]:
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    return starts


def _whole_line(lines: Sequence[str], starts: Sequence[int], index: int, label: str) -> Found:
    line = lines[index]
    indent = len(line) - len(line.lstrip(" \t>"))
    return Found(starts[index] + indent, starts[index] + len(line), label)


def _form_spans(lines: Sequence[str], starts: Sequence[int]) -> Iterator[Found]:
    """Form lines ("Nama: ...", "NIK ...", "TTL: ...") are hidden whole."""
    labelled = form_lines("\n".join(lines))
    for index, line in enumerate(lines):
        if index in labelled or _OTHER_LABELS.match(line[:200]):
            yield _whole_line(lines, starts, index, DATA_HIDDEN)


def _signature_spans(lines: Sequence[str], starts: Sequence[int]) -> Iterator[Found]:
    """Everything under a closing ("Hormat saya,"), and a last paragraph that is a name."""
    for block in signature_blocks(lines):
        if block.rest_start is not None and _may_be_name(lines[block.closing][block.rest_start:]):
            line = lines[block.closing]
            yield Found(starts[block.closing] + block.rest_start,
                        starts[block.closing] + len(line), SIGNATURE_HIDDEN)
        for index in block.lines:
            if _reads_as_prose(lines[index]):
                break
            yield _whole_line(lines, starts, index, SIGNATURE_HIDDEN)
    yield from _trailing_signature(lines, starts)


def _may_be_name(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].rstrip(".,").casefold() not in NOT_NAME


def _reads_as_prose(line: str) -> bool:
    """A sentence ("Mohon segera ditindaklanjuti karena berbahaya") is not a signature line."""
    words = line.split()
    lower = sum(1 for word in words if word[0].islower())
    return len(words) > _MAX_SENTENCE_WORDS and lower * 2 > len(words)


def _trailing_signature(lines: Sequence[str], starts: Sequence[int]) -> Iterator[Found]:
    """A last short paragraph that starts with a name ("Budi Santoso" / "RT 03 Dusun Lor")."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip() and end - start < _MAX_TRAILING_LINES + 1:
        start -= 1
    if start == 0 or end - start > _MAX_TRAILING_LINES:
        return  # the whole text, or a paragraph too long to be a signature
    first = re.split(r"[(,\-]", lines[start], maxsplit=1)[0]
    run_end, tokens = name_run(first, 0, strict=True)
    if tokens and not first[run_end:].strip(" \t.") and not _reads_as_prose(lines[start]):
        for index in range(start, end):
            yield _whole_line(lines, starts, index, SIGNATURE_HIDDEN)


def _prose_spans(line: str, offset: int) -> Iterator[Found]:
    """Self-introductions, relatives' names and addresses written in a sentence."""
    for start, strong in name_triggers(line):
        end = _trimmed(line, start, _name_end(line, start, strong))
        if end > start:
            yield Found(offset + start, offset + end, NAME_HIDDEN)
    for match in _KIN_TRIGGER.finditer(line[:2000]):
        end, tokens = name_run(line, match.end(), strict=False, stop=COMMON_WORDS)
        if tokens and not _ordinary(tokens[0]):
            yield Found(offset + match.end(), offset + _trimmed(line, match.end(), end), NAME_HIDDEN)
    for start, strong in address_triggers(line):
        end, tokens = address_run(line, start)
        if address_ok(tokens, strong) or (strong and tokens):
            yield Found(offset + start, offset + _trimmed(line, start, end), ADDRESS_HIDDEN)


def _trimmed(line: str, start: int, end: int) -> int:
    """The end of a span without the sentence's own punctuation after it."""
    while end > start and line[end - 1] in " \t.,;:":
        end -= 1
    return end


def _name_end(line: str, start: int, strong: bool) -> int:
    """Where a self-introduced name ends; `start` when nothing after the trigger may be one.

    After "nama saya", "perkenalkan, saya", "bernama", "a.n." any word that is not a common
    one is hidden, whatever its case; after a bare "saya", a capitalised name, or words
    that are not common ones ("saya budi santoso warga ..." written all in lower case).
    """
    end, tokens = name_run(line, start, strict=True)
    if tokens:
        return end
    end, tokens = name_run(line, start, strict=False, stop=COMMON_WORDS)
    if not tokens or (not strong and _ordinary(tokens[0])):
        return start
    return end


def _ordinary(word: str) -> bool:
    """A lower-case word that is common, or made like one: a suffix ("sampaikan",
    "rumahnya") or a verb prefix on a long word ("melihat", "kebanjiran", "terpaksa")."""
    folded = word.rstrip(".").casefold()
    if folded in COMMON_WORDS:
        return True
    return word.islower() and (folded.endswith(("kan", "lah", "nya"))
                               or (len(folded) >= _MIN_AFFIXED and folded.startswith(_PREFIXES)))


