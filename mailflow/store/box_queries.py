"""The suggestion box's queries: its openings (kept apart from queries.py, at its size limit)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from mailflow.store.models import SuggestionBoxOpening

#: At most this many openings are listed (years of weekly openings).
LISTED = 1000


def last_opening_day(session: Session) -> date | None:
    """The local day of the latest recorded opening, or None when the box was never opened."""
    query = select(SuggestionBoxOpening).order_by(
        col(SuggestionBoxOpening.opened_on).desc()).limit(1)
    latest = session.exec(query).first()
    return latest.opened_on if latest is not None else None


def openings(session: Session) -> list[SuggestionBoxOpening]:
    """The latest openings, oldest first."""
    query = select(SuggestionBoxOpening).order_by(col(SuggestionBoxOpening.opened_at).desc(),
                                                  col(SuggestionBoxOpening.id).desc()).limit(LISTED)
    return list(reversed(session.exec(query).all()))
