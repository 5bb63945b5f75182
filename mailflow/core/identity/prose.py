"""Names and addresses that residents write in sentences and signatures, not in form lines.

"Nama saya Joko Widodo, ...", "Saya Sri Lestari warga RT 02", "Perkenalkan, saya ..." and a
signature block ("Hormat saya," / a name / "RT 01 Dusun Lor") are how many residents say
who they are. Extraction takes a name from them only when it looks like one (capitalised
words, none of them a common word that follows "saya"), because a wrong name is worse than
none; mailflow.core.privacy uses the same triggers and blocks to hide text generously,
because there a word wrongly hidden costs little.

Every pattern is linear and examines one line at a time, so hostile text cannot stall intake.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["ADDRESS_MARKERS", "HONORIFICS", "HOUSE_MARKERS", "NOT_NAME", "Signature", "address_ok",
           "address_run", "address_triggers", "name_run", "name_triggers", "prose_address",
           "prose_name", "signature", "signature_blocks"]

# Forms of address and titles written before a name; generic ones are dropped from the value.
HONORIFICS: Final = frozenset({
    "bapak", "pak", "bpk", "ibu", "bu", "sdr", "sdri", "saudara", "saudari", "mas", "mbak", "mba",
    "kak", "hj", "h", "haji", "hajah", "hajjah", "drs", "dra", "ir", "dr", "kh", "ust", "ustadz",
})
_GENERIC_HONORIFICS: Final = frozenset({
    "bapak", "pak", "bpk", "ibu", "bu", "sdr", "sdri", "saudara", "saudari", "mas", "mbak", "mba",
    "kak",
})
_PARTICLES: Final = frozenset({"al", "bin", "binti", "bt", "bte", "de", "der", "van"})
# Words that are never (the start of) a name after "saya" and end a name run: what residents
# write after "Saya" ("Saya Warga", "Saya Mohon", "Saya Sangat kecewa"), roles and places.
NOT_NAME: Final = frozenset({
    "adalah", "agar", "akan", "aku", "anak", "asal", "atas", "bagian", "baru", "beralamat",
    "berasal", "berdomisili", "berharap", "bermaksud", "bernama", "bersama", "beserta", "bukan",
    "bupati", "camat", "dan", "dari", "datang", "dengan", "desa", "di", "domisili", "dukuh",
    "dusun", "hanya", "hendak", "ibu-ibu", "ingin", "ini", "istri", "itu", "jalan", "juga",
    "kabupaten", "kami", "kampung", "karena", "kasihan", "kecamatan", "kecewa", "kelurahan",
    "kepala", "ketua", "kira", "kota", "ke", "kurang", "lagi", "lahir", "lapor", "masih",
    "masyarakat", "mau", "melapor", "melaporkan", "memohon", "mengadu", "mengadukan",
    "menyampaikan", "merasa", "minta", "mohon", "nama", "orang", "pelapor", "pengurus",
    "penduduk", "pernah", "perwakilan", "punya", "rt", "rw", "sangat", "saya", "sebagai",
    "sedang", "sejak", "selaku", "selama", "semua", "sendiri", "sekeluarga", "sekali",
    "sekarang", "seorang", "sering", "sudah", "suami", "tadi", "telah", "tentang", "terima",
    "tersebut", "tidak", "tinggal", "tolong", "untuk", "wakil", "warga", "yang", "yg",
})
# Words that mark a place: an address run holds them, and a weak trigger ("warga", "dari")
# counts only when one of the house-level ones follows.
ADDRESS_MARKERS: Final = frozenset({
    "blok", "desa", "ds", "dsn", "dukuh", "dusun", "gang", "gg", "jalan", "jl", "kab",
    "kabupaten", "kampung", "kec", "kecamatan", "kel", "kelurahan", "komplek", "kompleks", "kota",
    "kp", "no", "nomor", "perum", "perumahan", "rt", "rw",
})
HOUSE_MARKERS: Final = frozenset({"blok", "gang", "gg", "jalan", "jl", "no", "nomor", "perum",
                                  "perumahan", "rt", "rw"})

_MAX_NAME_TOKENS: Final = 5
_MAX_ADDRESS_TOKENS: Final = 14
_MAX_SIGNATURE_LINES: Final = 5
_MAX_SIGNATURE_LINE: Final = 100
_MAX_LINE: Final = 2000  # longer lines are examined up to here only

_TOKEN = re.compile(r"[ \t]*([^\W\d_][\w'\u2019\-]*\.?)")
_ADDRESS_TOKEN = re.compile(
    r"[ \t,/]*((?:\d+[a-zA-Z]?(?:[/.\-]\d+[a-zA-Z]?)*|[^\W\d_][\w'\u2019/\-]*)\.?)")
# What introduces the writer's own name: "nama saya", "perkenalkan, saya", "saya", "bernama".
_NAME_TRIGGER = re.compile(
    r"(?<![\w-])(?:(?P<strong>nama[ \t]+(?:lengkap[ \t]+)?saya(?:[ \t]+(?:adalah|ialah|yaitu))?"
    r"|perkenalkan[ \t]*[,.]?[ \t]*(?:nama[ \t]+saya|saya)(?:[ \t]+(?:adalah|bernama))?"
    r"|(?:saya[ \t]+)?(?:yang[ \t]+)?bernama|atas[ \t]+nama|a\.?[ \t]?n\.)"
    r"|(?P<weak>saya[ \t]*,?(?:[ \t]+adalah)?))[ \t]*[:,]?[ \t]+",
    re.IGNORECASE,
)
_ADDRESS_TRIGGER = re.compile(
    r"(?<![\w-])(?:(?P<strong>(?:bertempat[ \t]+)?tinggal[ \t]+di|beralamat(?:[ \t]+di)?"
    r"|alamat(?:[ \t]+(?:saya|rumah|rumah[ \t]+saya))?(?:[ \t]+di)?|rumah[ \t]+saya[ \t]+"
    r"(?:ada[ \t]+)?di|berdomisili(?:[ \t]+di)?|domisili(?:[ \t]+di)?)"
    r"|(?P<weak>warga|dari))[ \t]*[:,]?[ \t]+",
    re.IGNORECASE,
)
# A closing line: the phrase alone, or followed by a comma and a short rest ("Salam, Budi").
_CLOSING = re.compile(
    r"[ \t]*(?:hormat[ \t]+(?:saya|kami)|salam(?:[ \t]+(?:hormat|saya|kami|sejahtera))?"
    r"|wassalam[\w'\u2019]*(?:[ \t]+[\w.]+){0,4}|terima[ \t]*kasih(?:[ \t]+\w+){0,4}"
    r"|matur[ \t]+nuwun\w*|tertanda|ttd\.?|(?:best[ \t]+|kind[ \t]+)?regards|thanks"
    r"|thank[ \t]+you|yang[ \t]+melapor(?:kan)?|pelapor)[ \t]*"
    r"(?:[.!]+[ \t]*|[,:][ \t]*(?P<rest>[^\n]{0,80}?)[ \t.]*)?",
    re.IGNORECASE,
)
_SIGNATURE_DASHES = re.compile(r"[ \t]*--[ \t]*")
_ROLE_LINE = re.compile(r"[ \t]*\(?(?:pelapor|warga|yang[ \t]+melapor(?:kan)?)\)?[ \t,.:]*",
                        re.IGNORECASE)


def _words(tokens: Sequence[str]) -> list[str]:
    return [token.rstrip(".").casefold() for token in tokens]


def name_run(text: str, start: int, *, strict: bool,
             stop: Collection[str] = frozenset()) -> tuple[int, list[str]]:
    """The name written at `start`: (its end, its words, forms of address included).

    Strict (to record a name): one to five capitalised words (particles such as "bin"
    aside), the first not a common word, ending at punctuation, a digit, the end of the
    line or a common word ("warga", "mau", "dari"); otherwise no words. Not strict (to hide
    a name): up to five words that are neither common words nor in `stop`, in any case.
    """
    tokens: list[str] = []
    end = position = start
    limit = min(len(text), start + 200)
    while True:
        match = _TOKEN.match(text, position, limit)
        if match is None:
            break
        word = match.group(1)
        folded = word.rstrip(".").casefold()
        if folded in NOT_NAME or (folded in stop and folded not in HONORIFICS):
            break
        if strict and not (word[0].isupper() or folded in _PARTICLES):
            return start, []  # "Saya Mendapat bantuan": a sentence, not a name
        tokens.append(word)
        end = position = match.end()
        if len(tokens) > _MAX_NAME_TOKENS:
            return start, []
        if word.endswith(".") and folded not in HONORIFICS:
            break  # the end of a sentence, or an abbreviated degree ("S.Pd.")
    named = [t for t in tokens if t.rstrip(".").casefold() not in HONORIFICS]
    if not named or (strict and _words(named)[0] in _PARTICLES):
        return start, []
    return end, tokens


def _name_value(tokens: Sequence[str]) -> str:
    """The name as it is stored: generic forms of address dropped, titles kept."""
    while tokens and tokens[0].rstrip(".").casefold() in _GENERIC_HONORIFICS:
        tokens = tokens[1:]
    return " ".join(tokens).rstrip(".,")


def name_triggers(line: str) -> Iterator[tuple[int, bool]]:
    """Where a self-introduced name may start in `line`, and whether the trigger is strong."""
    for match in _NAME_TRIGGER.finditer(line[:_MAX_LINE]):
        yield match.end(), match.group("strong") is not None


def prose_name(lines: Sequence[str]) -> str | None:
    """The first name a resident gives in a sentence ("Saya Sri Lestari warga RT 02")."""
    for line in lines:
        for start, _strong in name_triggers(line):
            _end, tokens = name_run(line, start, strict=True)
            if tokens:
                return _name_value(tokens)
    return None


def address_run(text: str, start: int) -> tuple[int, list[str]]:
    """The place written at `start`: markers, numbers and capitalised words (its end, words)."""
    tokens: list[str] = []
    end = position = start
    limit = min(len(text), start + 300)
    while len(tokens) < _MAX_ADDRESS_TOKENS:
        match = _ADDRESS_TOKEN.match(text, position, limit)
        if match is None:
            break
        word = match.group(1)
        folded = word.rstrip(".").casefold()
        if not (folded in ADDRESS_MARKERS or word[0].isdigit() or word[0].isupper()):
            break
        if folded in NOT_NAME and folded not in ADDRESS_MARKERS:
            break
        tokens.append(word)
        end = position = match.end()
        if word.endswith(".") and folded not in ADDRESS_MARKERS:
            break  # the end of a sentence
    return end, tokens


def _is_house_level(tokens: Sequence[str]) -> bool:
    words = set(_words(tokens))
    return bool(words & HOUSE_MARKERS) or any(token[0].isdigit() for token in tokens)


def address_triggers(line: str) -> Iterator[tuple[int, bool]]:
    """Where an address may start in `line`, and whether the trigger is strong."""
    for match in _ADDRESS_TRIGGER.finditer(line[:_MAX_LINE]):
        yield match.end(), match.group("strong") is not None


def address_ok(tokens: Sequence[str], strong: bool) -> bool:
    """An address run counts when it names a place; after "warga"/"dari", down to the house."""
    if not tokens:
        return False
    if strong:
        return bool(set(_words(tokens)) & ADDRESS_MARKERS) or _is_house_level(tokens)
    return _is_house_level(tokens)


def prose_address(lines: Sequence[str]) -> str | None:
    """The first address written in a sentence ("tinggal di RT 03 RW 01 Dusun Krajan")."""
    for line in lines:
        for start, strong in address_triggers(line):
            end, tokens = address_run(line, start)
            if address_ok(tokens, strong):
                return line[start:end].strip(" \t,.")
    return None


@dataclass(frozen=True)
class Signature:
    """A signature block: the lines after a closing, and what they say."""

    closing: int  # the index of the closing line ("Hormat saya,")
    lines: tuple[int, ...]  # the block's own lines, after the closing
    rest_start: int | None  # where a name starts on the closing line itself, if one does
    name: str | None = None
    address: str | None = None
    named: tuple[int, ...] = ()  # the lines that hold the name and the address


def signature_blocks(lines: Sequence[str]) -> Iterator[Signature]:
    """Every block of short lines after a closing ("Hormat saya,", "Salam,", "-- ")."""
    index = 0
    while index < len(lines):
        line = lines[index][:_MAX_LINE]
        closing = _CLOSING.fullmatch(line)
        if closing is None and not _SIGNATURE_DASHES.fullmatch(line):
            index += 1
            continue
        rest = (closing.group("rest") or "") if closing else ""
        rest_start = closing.start("rest") if closing and rest.strip() else None
        block = _block_after(lines, index + 1)
        yield _read_block(lines, index, block, rest_start)
        index = (block[-1] if block else index) + 1


def _block_after(lines: Sequence[str], start: int) -> tuple[int, ...]:
    """The short non-blank lines after a closing, allowing up to two blank lines first."""
    index = start
    while index < len(lines) and index < start + 2 and not lines[index].strip():
        index += 1
    block: list[int] = []
    while (index < len(lines) and lines[index].strip() and len(block) < _MAX_SIGNATURE_LINES
           and len(lines[index]) <= _MAX_SIGNATURE_LINE
           and not _CLOSING.fullmatch(lines[index])):
        block.append(index)
        index += 1
    return tuple(block)


def _read_block(lines: Sequence[str], closing: int, block: tuple[int, ...],
                rest_start: int | None) -> Signature:
    """The name (on the closing line after a comma, or the first line that is only a name)
    and the address on the line under it."""
    candidates = [(closing, rest_start or 0)] if rest_start is not None else []
    candidates += [(i, 0) for i in block if not _ROLE_LINE.fullmatch(lines[i])]
    for position, (index, start) in enumerate(candidates):
        # "Budi Santoso (Ketua RT 03)", "Hj. Siti Aminah, S.Pd": remark and degree are no name.
        text = re.split(r"[(,]", lines[index][start:], maxsplit=1)[0]
        end, tokens = name_run(text, 0, strict=True)
        if not tokens or text[end:].strip(" \t,."):
            continue
        following = candidates[position + 1][0] if position + 1 < len(candidates) else None
        address = _address_line(lines[following]) if following is not None else None
        named = (index,) if address is None or following is None else (index, following)
        return Signature(closing, block, rest_start, _name_value(tokens), address, named)
    return Signature(closing, block, rest_start)


def _address_line(line: str) -> str | None:
    _end, tokens = address_run(line, 0)
    if tokens and address_ok(tokens, strong=True) and not line[_end:].strip(" \t,."):
        return " ".join(line.split()).rstrip(".,")
    return None


def signature(lines: Sequence[str]) -> Signature | None:
    """The first signature block that names its writer, if any."""
    return next((block for block in signature_blocks(lines) if block.name), None)
