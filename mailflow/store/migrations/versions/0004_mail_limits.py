"""Add what the mail-storm defences read: outbox.topic, ticket.content_key, two indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

Written by autogenerate (migrate.new_revision) from models.OutboxMessage and models.Ticket,
then formatted. `outbox.topic` marks coalesced mail (security alerts, limit notices);
`ix_outbox_created_at` serves the per-address counts over the last hour and day;
`ticket.content_key` (indexed) finds the same complaint again from the same sender. All new
columns are nullable: rows written before this revision simply have none. down_revision is
main's head when this was written (0003); the merge re-links it after any revision merged first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_key", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_ticket_content_key"), ["content_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_content_key"))
        batch_op.drop_column("content_key")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_created_at"))
        batch_op.drop_column("topic")
