"""Add what `mailflow trace` finds a message by: intake.message_id, received_at, sender_digest,
and the table skipped_message.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Written by autogenerate (migrate.new_revision) from models.IntakeRecord and
models.SkippedMessage, then formatted. The three intake columns are nullable and indexed:
rows written before this revision have none (trace finds them by the day they were
recorded). `sender_digest` is a keyed HMAC of the sender's address, never the address.
`skipped_message` keeps messages whose subject is not a complaint's, so that a skipped mail
is findable without debug logs.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("skipped_message",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("mailbox", sa.String(), nullable=False),
    sa.Column("uidvalidity", sa.Integer(), nullable=False),
    sa.Column("uid", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(), nullable=False),
    sa.Column("message_id", sa.String(), nullable=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sender_digest", sa.String(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("skipped_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skipped_message_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_skipped_message_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_skipped_message_sender_digest"), ["sender_digest"], unique=False)

    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sender_digest", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_intake_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_sender_digest"), ["sender_digest"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_sender_digest"))
        batch_op.drop_index(batch_op.f("ix_intake_received_at"))
        batch_op.drop_index(batch_op.f("ix_intake_message_id"))
        batch_op.drop_column("sender_digest")
        batch_op.drop_column("received_at")
        batch_op.drop_column("message_id")

    with op.batch_alter_table("skipped_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skipped_message_sender_digest"))
        batch_op.drop_index(batch_op.f("ix_skipped_message_received_at"))
        batch_op.drop_index(batch_op.f("ix_skipped_message_message_id"))

    op.drop_table("skipped_message")
