"""A large message made small before it is parsed: long base64 runs decoded to files.

The email package holds a part's text as a list of lines, then joined, then decoded: a
25 MB photo costs well over 100 MB at once (issue 10). Read line by line instead, every
run of base64 lines longer than `min_run` characters is decoded as it streams into a file
(a `Sink`) and replaced by one token line. The small message that is left is parsed as
usual, and the walker (core/parse/body.py) takes a part whose whole payload is a token as
that file.

This is a guess about the MIME structure, and a guess may be wrong (a huge text part written
in base64 letters, a run that is only part of a payload). The parser therefore checks that
every token it made became a whole attachment (`SpillUnresolved` otherwise), and the intake
then reads the message the ordinary way: the guess never changes what a message says.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

from mailflow.core.parse.model import Spilled

__all__ = ["MIN_RUN", "Reduced", "Sink", "SpillUnresolved", "reduce_message"]

# Runs shorter than this (base64 characters) stay in the message: a photo of a few hundred
# kilobytes costs the parser little, and it can still ride along with a staff notice.
MIN_RUN = 1024 * 1024
# Decoded in slices of this many characters, a multiple of 4 (a base64 quantum).
_SLICE = 256 * 1024
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/]+={0,2}(?:\r?\n)?")


class Sink(Protocol):
    """Where one run's decoded bytes go (store/files.py SpillFile)."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> Spilled: ...


class SpillUnresolved(Exception):
    """A token did not turn out to be a whole base64 attachment: read the message whole."""


@dataclass(frozen=True)
class Reduced:
    data: bytes  # the message, each long base64 run replaced by a token line
    spills: dict[str, Spilled]  # token -> the file its run was decoded to


@dataclass
class _Run:
    """The base64 lines seen in a row so far; a sink once they are long enough to spill."""

    lines: list[bytes] = field(default_factory=list)
    chars: int = 0
    pending: bytearray = field(default_factory=bytearray)
    sink: Sink | None = None
    ending: bytes = b"\n"
    padded: bool = False  # a line ended in "=": base64 after it is not one encoding
    exact: bool = True


def _decode(text: bytes | bytearray | memoryview) -> tuple[bytes, bool]:
    """Whole quanta of base64 letters; False (and nothing) for what does not decode, which
    only an inexact run holds: its file is never used (`Spilled.exact`)."""
    try:
        return binascii.a2b_base64(text), True
    except binascii.Error:
        return b"", False


def _decode_tail(tail: bytes) -> tuple[bytes, bool]:
    """The run's last characters; True when that is what the email package makes of them
    (it decodes a part as `base64.b64decode(text + missing padding, validate=True)` first)."""
    try:
        return binascii.a2b_base64(tail, strict_mode=True), True
    except binascii.Error:
        pass
    if len(tail) % 4 in (2, 3):
        try:
            return binascii.a2b_base64(tail + b"=" * (-len(tail) % 4), strict_mode=True), True
        except binascii.Error:
            pass
    return b"", False


def _flush(run: _Run, sink: Sink) -> None:
    """Decode what is pending once a slice has gathered, whole quanta only."""
    if len(run.pending) < _SLICE:
        return
    cut = len(run.pending) - len(run.pending) % 4
    with memoryview(run.pending) as view:
        data, decoded = _decode(view[:cut])
    run.exact = run.exact and decoded
    sink.write(data)
    del run.pending[:cut]


def reduce_message(lines: Iterable[bytes], open_sink: Callable[[], Sink], *, nonce: str,
                   min_run: int = MIN_RUN) -> Reduced:
    """`lines` (a binary file's lines, possibly cut at a length limit) with every base64 run
    of at least `min_run` characters decoded into a sink of its own. `nonce` makes the
    tokens unguessable, so a sender cannot write one that names another message's file."""
    out = bytearray()
    spills: dict[str, Spilled] = {}
    run = _Run()

    def close_run() -> None:
        nonlocal run
        if run.sink is None:
            out.extend(b"".join(run.lines))
        else:
            data, exact = _decode_tail(bytes(run.pending))
            run.sink.write(data)
            token = f"MAILFLOWSPILL{nonce}N{len(spills)}"
            spilled = run.sink.finish()
            spills[token] = spilled if exact and run.exact else replace(spilled, exact=False)
            out.extend(token.encode("ascii") + run.ending)
        run = _Run()

    for line in lines:
        if not _BASE64_LINE.fullmatch(line):
            if run.chars:
                close_run()
            out.extend(line)
            continue
        text = line.rstrip(b"\r\n")
        run.chars += len(text)
        run.exact = run.exact and not run.padded
        run.padded = text.endswith(b"=")
        if line.endswith(b"\n"):
            run.ending = line[len(text):]
        if run.sink is not None:
            run.pending.extend(text)
            _flush(run, run.sink)
            continue
        run.lines.append(line)
        if run.chars >= min_run:
            sink = run.sink = open_sink()
            for buffered in run.lines:
                run.pending.extend(buffered.rstrip(b"\r\n"))
                _flush(run, sink)
            run.lines = []
    if run.chars:
        close_run()
    return Reduced(bytes(out), spills)
