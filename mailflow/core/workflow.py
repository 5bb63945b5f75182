"""The ticket state machine, as an explicit transition table.

Pure: it says whether a change is allowed and, when it is not, why and what is
allowed instead, in words staff understand, so a refused command can be answered
by mail without any other lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mailflow.vocabulary import VERIFIER_ROLES, Role, Status

# Where a ticket may go from each status. Re-opening is allowed where it makes sense:
# a resolved ticket goes back to follow-up, a rejected one back to verification.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DITERIMA: frozenset({Status.DIVERIFIKASI, Status.PERLU_DATA, Status.DITOLAK}),
    Status.PERLU_DATA: frozenset({Status.DITERIMA, Status.DIVERIFIKASI, Status.DITOLAK}),
    Status.DIVERIFIKASI: frozenset({Status.DIPROSES, Status.SELESAI, Status.PERLU_DATA,
                                    Status.DITOLAK}),
    Status.DIPROSES: frozenset({Status.SELESAI, Status.PERLU_DATA, Status.DITOLAK}),
    Status.SELESAI: frozenset({Status.DIPROSES}),
    Status.DITOLAK: frozenset({Status.DIVERIFIKASI}),
}

# A final status closes the ticket: the reporter is told what was done or why not.
FINAL: frozenset[Status] = frozenset({Status.SELESAI, Status.DITOLAK})
# Every other status: the ticket is open. Named, so that a query can ask for these by IN
# (an index's few open tickets) rather than NOT IN the final ones (every ticket ever made).
OPEN: tuple[Status, ...] = tuple(status for status in Status if status not in FINAL)

# Changes that need a message to the reporter, because the procedure promises an answer.
NEEDS_MESSAGE: frozenset[Status] = frozenset({Status.DITOLAK, Status.PERLU_DATA, Status.SELESAI})

# Moving a complaint into or out of verification is the verifier's call (or the head's);
# follow-up officers report progress and completion.
VERIFIER_TARGETS: frozenset[Status] = frozenset({Status.DIVERIFIKASI, Status.DITOLAK,
                                                 Status.PERLU_DATA, Status.DITERIMA})

# The statuses staff set by command, in the order the help lists them (`diterima` is where
# completed data takes a ticket, not a command staff need).
COMMAND_TARGETS: tuple[Status, ...] = (Status.DIVERIFIKASI, Status.DIPROSES, Status.SELESAI,
                                       Status.PERLU_DATA, Status.DITOLAK)

_ORDER = list(Status)


def may_set(roles: Iterable[Role], target: Status) -> bool:
    """Whether a staff member with `roles` may give a ticket the status `target`."""
    return target not in VERIFIER_TARGETS or not VERIFIER_ROLES.isdisjoint(roles)


def settable(roles: Iterable[Role]) -> list[Status]:
    """The statuses a staff member with `roles` may give by command, in the help's order."""
    held = frozenset(roles)
    return [status for status in COMMAND_TARGETS if may_set(held, status)]


@dataclass(frozen=True)
class Refusal:
    """Why a change is not allowed, in Bahasa Indonesia, and what would be."""

    reason: str


def allowed_from(current: Status) -> list[Status]:
    return sorted(TRANSITIONS[current], key=_ORDER.index)


def check_transition(current: Status, target: Status, has_message: bool) -> Refusal | None:
    if target == current:
        return Refusal(f"status tiket sudah '{current.value}'")
    if target not in TRANSITIONS[current]:
        options = ", ".join(s.value for s in allowed_from(current))
        return Refusal(
            f"status tidak dapat diubah dari '{current.value}' ({current.label}) ke "
            f"'{target.value}'; dari '{current.value}' hanya boleh ke: {options}"
        )
    if target in NEEDS_MESSAGE and not has_message:
        what = {Status.DITOLAK: "alasan penolakan", Status.PERLU_DATA: "data yang perlu dilengkapi",
                Status.SELESAI: "apa yang sudah dilakukan"}[target]
        return Refusal(f"status '{target.value}' perlu pesan untuk pelapor: tuliskan {what} "
                       "di bawah baris perintah (tanpa #internal)")
    return None


def check_box_closing(target: Status, has_note: bool) -> Refusal | None:
    """A suggestion-box entry is closed only with its follow-up recorded: the procedure
    promises that every entry is followed up. Nobody can be written to, so a note after
    `#internal` records it as well as a message."""
    if target in FINAL and not has_note:
        return Refusal("tiket kotak saran hanya dapat ditutup dengan catatan tindak lanjut: "
                       "tuliskan apa yang sudah dilakukan (atau alasan penolakannya) di bawah "
                       "baris perintah; boleh dengan #internal, karena tidak ada pelapor yang "
                       "dikirimi pesan")
    return None
