"""Add the first start's boundary to mailbox_state: first_uid, first_seen_at, backlog_since.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Written by autogenerate (migrate.new_revision) from models.MailboxState, then formatted. All
three columns are nullable: a mailbox recorded before this revision has no boundary and keeps
being taken whole, as before (core/first_start.py). down_revision is main's head when this was
written (0004); the merge re-links it after any revision merged first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_uid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("backlog_since", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_state", schema=None) as batch_op:
        batch_op.drop_column("backlog_since")
        batch_op.drop_column("first_seen_at")
        batch_op.drop_column("first_uid")
