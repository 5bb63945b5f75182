"""Whose tickets a query sees: one village's, when a database holds several.

A ticket's village is the prefix of its number (ADU-2026-00042): the configuration refuses two
mailboxes with one prefix (config.py parse_configs), so the number alone says whose it is and
no column has to agree with it. Every query a village's staff, residents, reports or jobs reach
filters with `tickets_of(cfg.scope)`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import col

from mailflow.store.models import Ticket


def tickets_of(scope: str) -> ColumnElement[bool]:
    """Tickets whose number begins with `scope` and a dash (the prefix is [A-Z][A-Z0-9]*)."""
    return col(Ticket.number).startswith(f"{scope}-", autoescape=True)


def number_in_scope(number: str, scope: str) -> bool:
    """The same test on a number in hand, e.g. one a staff reply names."""
    return number.upper().startswith(f"{scope}-")
