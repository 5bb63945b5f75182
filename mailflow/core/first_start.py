"""The first start and old mail, decided: what mailflow takes from a mailbox it has never seen.

A mailbox first seen by mailflow usually holds months of mail: old complaints (already
answered by hand, or long forgotten), staff replies, and perhaps commands that named tickets
of an earlier database. None of it is taken by default. The boundary is the mailbox's UIDNEXT
at first sight (servers hand out UIDs in order, so no clock is involved); when the mailbox's
UIDVALIDITY changes the old UIDs mean nothing, and the boundary falls back to the moment of
the first start against the server's INTERNALDATE. Taking older complaints is a choice, since
a day (`[intake] take_since`).

A complaint taken late is answered honestly: its receipt date is the day the village received
it, and its due date is never a day already past (`promise`).

A staff command or a reply that the server received before the ticket it names was created
cannot be about that ticket: its number belongs to an earlier database (`predates_ticket`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from mailflow.core.workdays import WorkCalendar, format_moment

#: The skip reason of every message that was in the mailbox before the first start.
BEFORE_START = "in the mailbox before mailflow's first start (not taken; see [intake] take_since)"

#: How far the IMAP server's clock and mailflow's may disagree: a reply received within this
#: much before its ticket's creation is given the benefit of the doubt.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Boundary:
    """Where the first start divides one mailbox.

    `first_uid`: the UIDNEXT at first sight, under the current UIDVALIDITY (None after a
    UIDVALIDITY change, or when the server did not say). `started`: the moment of the first
    start (None for a mailbox seen before mailflow recorded it: everything is taken, as then).
    `take_since`: the first moment of the day chosen in `[intake] take_since`, or None.
    """

    first_uid: int | None = None
    started: datetime | None = None
    take_since: datetime | None = None


def before_start(boundary: Boundary, uid: int, received: datetime) -> bool:
    """Whether the message was in the mailbox before mailflow's first start."""
    if boundary.first_uid is not None:
        return uid < boundary.first_uid
    if boundary.started is not None:
        return received < boundary.started
    return False


def chosen(boundary: Boundary, received: datetime) -> bool:
    """Whether an old message falls in the period the administrator chose to take."""
    return boundary.take_since is not None and received >= boundary.take_since


def skipped(boundary: Boundary, uid: int, received: datetime) -> bool:
    """Whether intake leaves this message alone: old, and not chosen."""
    return before_start(boundary, uid, received) and not chosen(boundary, received)


def day_start(day: date | None, zone: tzinfo) -> datetime | None:
    """The first moment of `day` in the village's zone (None stays None)."""
    return None if day is None else datetime.combine(day, time(0), tzinfo=zone)


# -- honest dates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Promise:
    """The due date promised to the reporter. `recorded` is set when the due date counts from
    the moment mailflow recorded the complaint instead of its receipt (received long before)."""

    due_date: date
    recorded: datetime | None = None


def promise(received: datetime, taken: datetime | None, calendar: WorkCalendar) -> Promise:
    """The due date counts from receipt, unless that day is today or already past when mailflow
    takes the complaint: then from the day it was taken, and the reporter is told both dates."""
    due = calendar.due_date(received)
    if taken is None:
        return Promise(due)
    taken_day = calendar.local_day(taken)
    if due > taken_day:
        return Promise(due)
    return Promise(calendar.add_workdays(taken_day, calendar.working_days), taken)


# -- numbers from an earlier database ---------------------------------------------------------

def predates_ticket(received: datetime, created: datetime) -> bool:
    """Whether a message naming a ticket reached the server before that ticket existed."""
    return received < created - CLOCK_SLACK


def predates_reason(number: str, received: datetime, created: datetime) -> str:
    """The log's and intake record's words (English, no identity)."""
    return (f"refused: received {received.isoformat(timespec='minutes')}, before {number} was "
            f"created {created.isoformat(timespec='minutes')}; it names a ticket of an earlier "
            "database")


def predates_problem(number: str, received: datetime, created: datetime, zone: str) -> str:
    """The staff member's words: why the command was not applied."""
    return (f"email ini diterima server pada {format_moment(received, zone)}, sebelum tiket "
            f"{number} dibuat ({format_moment(created, zone)}); nomor itu milik tiket lama dari "
            "basis data sebelumnya, jadi perintah tidak dijalankan. Kirim ulang perintah dengan "
            "membalas email tiket yang baru")
