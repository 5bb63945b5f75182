"""The third-party messages under tests/corpus, for tests that feed every one of them in."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
_NOT_MESSAGES = {"README.md", "LICENSE.upstream", "NOTICE.upstream", ".gitattributes"}


# Reply bodies without headers and expected outputs: inputs for the reply-text tests only.
_NOT_MESSAGE_DIRS = ("github-email_reply_parser", "zapier-email-reply-parser")


def corpus_messages() -> list[Path]:
    return sorted(
        p for p in CORPUS.rglob("*")
        if p.is_file() and p.name not in _NOT_MESSAGES and p.suffix != ".tsv"
        and not p.name.endswith("_reply_text") and p.relative_to(CORPUS).parts[0] not in _NOT_MESSAGE_DIRS
    )


def with_phrase(raw: bytes, phrase: bytes = b"Pengaduan Masyarakat") -> bytes:
    """The message with the complaint phrase appended to its own subject (or a subject added).

    Robots answer a complaint by quoting its subject, so this is what a vacation notice or
    a bounce of a complaint looks like; and it sends every message down the full intake path.
    """
    head_end = min((i for i in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n"), raw.find(b"\r\r"))
                    if i >= 0), default=len(raw))
    match = re.search(rb"(?mi)^subject:[^\r\n]*", raw[:head_end])
    if match is None:
        return b"Subject: " + phrase + b"\n" + raw
    return raw[:match.end()] + b" " + phrase + raw[match.end():]
