"""Add why a ticket has its priority and who set it: ticket.priority_reason, priority_set_by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Written by autogenerate (migrate.new_revision) from models.Ticket, then given server defaults
so that tickets recorded before this revision read as before: no reason ('') and set by the
system ('system'), so a later suggestion may still replace their priority, and a staff
member's `#prioritas` still wins. down_revision is main's head when this was written (0006);
the merge re-links it after any revision merged first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority_reason", sa.Text(), nullable=False,
                                      server_default=sa.text("''")))
        batch_op.add_column(sa.Column("priority_set_by", sa.String(), nullable=False,
                                      server_default="system"))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("priority_set_by")
        batch_op.drop_column("priority_reason")
