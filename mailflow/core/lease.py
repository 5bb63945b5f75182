"""The rules of a mailbox's lease: which instance may poll a mailbox, and until when.

Several `mailflow run` instances share one database; each mailbox is polled by one of them
at a time. The one that polls holds the mailbox's lease (a row in the database: holder,
expires_at) and renews it every `renew` seconds while it lives; another instance may take
it only once it has expired, so an instance that dies (SIGKILL, power cut, a lost network)
is replaced within `length` seconds, and one that stops cleanly releases it at once.

These are plain functions over plain data; the store (mailflow/store/lease.py) applies the
same rule in one guarded UPDATE, so that two instances can never both take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: What a released lease's expiry is set to: expired for any clock.
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LeaseRules:
    """`length`: how long a lease lasts without renewal (the takeover time after a crash);
    `renew`: how often the holder renews it (well inside `length`, so that a slow renewal
    or two does not lose it)."""

    length: float = 15.0
    renew: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.renew < self.length:
            raise ValueError(f"renew ({self.renew:g}s) must be positive and shorter than the "
                             f"lease ({self.length:g}s)")

    def expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.length)


@dataclass(frozen=True)
class LeaseRow:
    """The stored lease of one mailbox."""

    holder: str  # "" once released
    expires_at: datetime


def may_take(row: LeaseRow | None, me: str, now: datetime) -> bool:
    """Whether instance `me` may take (or renew) the lease `row` at `now`: there is none yet,
    it is its own (even past its expiry: nobody took it meanwhile), or it has expired."""
    return row is None or row.holder == me or row.expires_at <= now


def held_by_other(row: LeaseRow | None, me: str, now: datetime) -> str | None:
    """The other instance that holds the lease at `now`, if any (for messages and metrics)."""
    if row is None or may_take(row, me, now) or not row.holder:
        return None
    return row.holder


def holder_process(holder: str) -> tuple[str, int] | None:
    """The host and pid named in a holder ("host:pid:random"), or None if it names none."""
    parts = holder.split(":")
    if len(parts) < 3 or not parts[-2].isdigit():
        return None
    return ":".join(parts[:-2]), int(parts[-2])


def renewal_due(last_renewed: float | None, now: float, rules: LeaseRules) -> bool:
    """Whether the holder should renew now (`last_renewed`/`now`: a monotonic clock)."""
    return last_renewed is None or now - last_renewed >= rules.renew
