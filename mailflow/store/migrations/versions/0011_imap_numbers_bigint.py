"""IMAP UIDs and UIDVALIDITY as BIGINT on PostgreSQL: they are unsigned 32-bit numbers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

RFC 9051 makes UIDs and UIDVALIDITY unsigned 32-bit numbers (up to 4,294,967,295); PostgreSQL's
INTEGER is signed (up to 2,147,483,647), so a server whose UIDVALIDITY is past that would stop
intake with "integer out of range". On PostgreSQL the columns become BIGINT; on SQLite, whose
INTEGER already holds 64 bits, this revision changes nothing (no table is rebuilt).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "mailbox_state": ("uidvalidity", "last_uid", "first_uid"),
    "intake": ("uidvalidity", "uid"),
    "skipped_message": ("uidvalidity", "uid"),
    "quarantine": ("uidvalidity", "uid"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
