"""The new text of a reply: quoted history and signatures cut off.

Staff and residents answer from Gmail, Outlook, Thunderbird and phones, in English
or Indonesian settings. What they wrote is everything above the first attribution
line ("On ... wrote:", "Pada ... menulis:"), forwarded/original-message separator,
Outlook header block ("From:/Dari:" followed by "Sent:/Dikirim:"), quote marker, or
signature ("-- ", "Sent from my ...", "Dikirim dari ..."). Pure and linear in time.
"""

from __future__ import annotations

import re

# "On <date>, <name> <address> wrote:" in several languages; the line must carry a digit
# or an address, so a sentence such as "Pak RT menulis:" is not taken for one.
_ATTRIBUTION = re.compile(
    r"^(?=.*[\d@]).{0,500}(wrote|menulis|написал|schrieb|a écrit|escribió|scrisse)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_END = re.compile(r"(wrote|menulis|написал|schrieb|a écrit|escribió|scrisse)\s*:\s*$",
                              re.IGNORECASE)
_ATTRIBUTION_LEAD = re.compile(r"^\s*(on|pada|le|am|el|il)\b|^\s*\d|@", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|pesan asli|forwarded message|pesan yang diteruskan|"
    r"pesan terusan)\s*-{2,}|_{10,}|-{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\**(from|dari)\**\s*:\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\**(sent|dikirim|date|tanggal|to|kepada|subject|subjek|cc)\**\s*:",
                          re.IGNORECASE)
_SIGNATURE = re.compile(
    r"^\s*(--\s*|sent from my\b.*|sent from (mail|outlook|yahoo)\b.*|dikirim dari\b.*|"
    r"get outlook for\b.*|diketik dari\b.*)$",
    re.IGNORECASE,
)
_MAX_LINE = 2000


def _attribution_start(lines: list[str], end: int) -> int | None:
    """The first line of an attribution ending at `end`; mail programs wrap it over up to 3 lines."""
    for start in range(max(0, end - 2), end + 1):
        block = lines[start:end + 1]
        if not all(n.strip() for n in block) or not _ATTRIBUTION_LEAD.search(block[0][:_MAX_LINE]):
            continue
        if _ATTRIBUTION.match(" ".join(n[:_MAX_LINE].strip() for n in block)):
            return start
    return None


def _cut_index(lines: list[str]) -> int:
    for index, raw in enumerate(lines):
        line = raw[:_MAX_LINE]
        if line.lstrip().startswith(">"):
            return index
        if _SEPARATOR.match(line) or _SIGNATURE.match(line):
            return index
        if _ATTRIBUTION_END.search(line):
            start = _attribution_start(lines, index)
            if start is not None:
                return start
        if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(n[:_MAX_LINE])
                                            for n in lines[index + 1:index + 5]):
            return index
    return len(lines)


def new_text(body: str) -> str:
    """The part of a reply its writer typed, without what it quotes or signs off with."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut_index(lines)
    kept = "\n".join(lines[:cut]).strip()
    if kept or cut >= len(lines):
        return kept
    # Nothing above the quote: the writer answered below it (Thunderbird's bottom-posting).
    below = [n for n in lines[cut + 1:] if not n.lstrip().startswith(">")]
    return "\n".join(below[:_cut_index(below)]).strip()
