"""Outgoing mail written before revision 0012 gets the village it was written for.

Revision 0012 gave each outbox row its village (`scope`, the ticket prefix) and left the rows
already there without one, "sent by any": a database held one village then. Once such a
database serves several villages (a village's database taken into a regency's), every
village's outbox pass sent those rows through its own SMTP settings and address, and every
village's `mailflow outbox` listed them, recipients included. Here each of them gets the
village the database held then: the prefix of the latest ticket made before the last such
row. That is the village's prefix at the time, for the rows of its tickets and for those of
no ticket (a digest, an alert, a note) alike, also when it had changed its prefix before
(its tickets of the old prefix are its own too: their pending mail stays its to send).
Rows of a database without a single ticket stay without a village: they name no resident,
and they are still sent.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE outbox SET scope = (SELECT t.scope FROM ticket t WHERE t.created_at <= "
               "(SELECT MAX(o.created_at) FROM outbox o WHERE o.scope IS NULL) "
               "ORDER BY t.created_at DESC, t.id DESC LIMIT 1) "
               "WHERE scope IS NULL")


def downgrade() -> None:
    pass  # a row's village is true under 0016 too; nothing to take back
