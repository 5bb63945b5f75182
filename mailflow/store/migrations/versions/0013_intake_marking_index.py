"""An index for the marking's question, asked at every poll: which taken records are unmarked.

`queries.unmarked_intake` asks for the taken, unmarked records of one mailbox by UID. The only
index it could use was the unique (mailbox, uidvalidity, uid), so every poll, idle or not,
read every record the mailbox ever had: 19 ms a poll over 200,000 records on SQLite, growing
with the mailbox's history (issue 10: an idle pass must not). With (mailbox, uidvalidity,
marked, decision, uid) the query seeks, for each taken outcome, straight to its unmarked
records in UID order. `decision` comes before `uid`: records that are never marked (ignored,
quarantined, recorded before the first start) stay unmarked for good, and with `uid` first
every poll walked them all.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_intake_unmarked"


def upgrade() -> None:
    op.create_index(NAME, "intake", ["mailbox", "uidvalidity", "marked", "decision", "uid"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="intake")
