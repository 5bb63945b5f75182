"""Whose tickets a query sees: one village's, when a database holds several.

A ticket's village is the prefix of its number (ADU-2026-00042): the configuration refuses two
mailboxes with one prefix (config.py parse_configs), so the number alone says whose it is and
no column has to agree with it. Every query a village's staff, residents, reports or jobs reach
filters with `tickets_of(cfg.scope)`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import col

from mailflow.store.models import OutboxMessage, Ticket


def tickets_of(scope: str) -> ColumnElement[bool]:
    """Tickets whose number begins with `scope` and a dash (the prefix is [A-Z][A-Z0-9]*), as
    the ticket's `scope` column holds it (models.Ticket, filled from the number): an index
    finds them, where `number LIKE 'ADU-%'` read every village's (migration 0016)."""
    return col(Ticket.scope) == scope


def ticket_key(scope: str, key: str) -> str:
    """A ticket's stored message key: unique per village, so one message sent to two villages'
    mailboxes is a ticket in each (core/intake_rules.py message_key is the unscoped part)."""
    return f"{scope}:{key}"


def signature_key(scope: str, digest: str) -> str:
    """A used DKIM signature's stored key: per village, like a ticket's message key."""
    return f"{scope}:{digest}"


def outbox_of(scope: str | None) -> ColumnElement[bool]:
    """The outgoing mail one village sends and sees: its own rows, and those of no village
    (written before migration 0012 into a database without tickets, so naming no resident;
    revision 0017 gave every other row written then its village). None: every row."""
    if scope is None:
        return true()
    return or_(col(OutboxMessage.scope) == scope, col(OutboxMessage.scope).is_(None))
