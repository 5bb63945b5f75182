"""Add used_signature: the DKIM signatures of proven messages, so a copy cannot act again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Written by autogenerate (migrate.new_revision) from models.UsedSignature, then formatted.
A new table only: existing rows are untouched, and a database upgraded to it starts with
no signature remembered (a message applied before the upgrade could be replayed once).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "used_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )


def downgrade() -> None:
    op.drop_table("used_signature")
