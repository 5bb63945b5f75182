"""The suggestion box's queries: its openings (kept apart from queries.py, at its size limit).

An opening belongs to the village of its tickets: every recorded opening made one or more
(runners/box_opening.py records none without entries), all numbered with the village's
prefix, so the first number in `ticket_numbers` says whose it is (store/scope.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from mailflow.store.models import SuggestionBoxOpening

#: At most this many openings are listed (years of weekly openings).
LISTED = 1000


def openings_of(scope: str) -> ColumnElement[bool]:
    """The openings of the village `scope` (a where-clause)."""
    return col(SuggestionBoxOpening.ticket_numbers).startswith(f"{scope}-", autoescape=True)


def last_opening_day(session: Session, scope: str) -> date | None:
    """The local day of the village's latest recorded opening, or None when its box was never
    opened."""
    query = select(SuggestionBoxOpening).where(openings_of(scope)).order_by(
        col(SuggestionBoxOpening.opened_on).desc()).limit(1)
    latest = session.exec(query).first()
    return latest.opened_on if latest is not None else None


def openings(session: Session, scope: str) -> list[SuggestionBoxOpening]:
    """The village's latest openings, oldest first."""
    query = (select(SuggestionBoxOpening).where(openings_of(scope))
             .order_by(col(SuggestionBoxOpening.opened_at).desc(),
                       col(SuggestionBoxOpening.id).desc()).limit(LISTED))
    return list(reversed(session.exec(query).all()))
