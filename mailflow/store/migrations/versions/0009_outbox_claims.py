"""Outbox claims: outbox.claimed_by and outbox.claimed_until, so that several instances share
the outbox and never send the same row twice.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

An instance claims a page of due rows (its id in `claimed_by`, a lease end in
`claimed_until`) before it sends them; others skip claimed rows until the lease ends (the
instance died) or the claim is released. Both nullable: unclaimed rows have neither.
`claimed_until` is indexed: the daemon asks when the earliest claimed row falls due again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_claimed_until"), ["claimed_until"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_claimed_until"))
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
