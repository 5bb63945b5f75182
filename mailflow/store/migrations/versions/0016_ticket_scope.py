"""Each ticket's village in a column of its own, indexed with the status.

A ticket's village is the prefix of its number (store/scope.py), and every village's query
found its tickets with `number LIKE 'ADU-%'`, which neither engine can seek here (SQLite's
LIKE optimisation needs a literal pattern; PostgreSQL's a C collation). In one village's
database that filter removes nothing; in a regency's shared database the clock's question at
every poll, one village's open tickets, went through every village's open tickets: 14 ms a
village on SQLite and 50 ms on PostgreSQL over 250 villages' 100,000 tickets (7,500 open),
for each village at each poll. `scope` holds the prefix (filled from the number by the
model's default for every new ticket, and here for the existing ones), and
(status, scope) replaces the index on the status alone: a seek to one village's tickets in
each status, and still a seek by status where no village is asked.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ticket", sa.Column("scope", sa.String(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE ticket SET scope = split_part(number, '-', 1)")
    else:
        op.execute("UPDATE ticket SET scope = substr(number, 1, instr(number, '-') - 1)")
    op.create_index("ix_ticket_status_scope", "ticket", ["status", "scope"])
    op.drop_index("ix_ticket_status", table_name="ticket")


def downgrade() -> None:
    op.create_index("ix_ticket_status", "ticket", ["status"])
    op.drop_index("ix_ticket_status_scope", table_name="ticket")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later), not a batch copy of the table: with
    # the foreign keys on, dropping the old copy of a large ticket table checked every row.
    op.drop_column("ticket", "scope")
