"""The suggestion box: ticket.kind and the table of openings (suggestion_box_opening).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

ticket.kind is nullable: tickets of other channels (and every ticket recorded before this
revision) have no kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suggestion_box_opening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("ticket_numbers", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("suggestion_box_opening", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestion_box_opening_opened_on"), ["opened_on"],
                              unique=False)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("suggestion_box_opening", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestion_box_opening_opened_on"))
    op.drop_table("suggestion_box_opening")
