"""An index for the per-address mail limits, asked for every message taken.

`intake_queries.mail_counts` (and `mail_counts_many`, once per intake group) count one
address's outbox rows of the last day. With no index on the recipient, each question read
every row the whole outbox created that day, whoever it was for: on SQLite 17 us an address
over 2,000 rows and 180 us over 40,000, growing with the day's volume, which a flood (issue
10) or a regency sharing one database makes large. The addresses are compared lower-cased,
so the index is on lower(recipient), then created_at for the day's range.

With that index alone, SQLite (which keeps no statistics here) also chose it for
`queries.last_with_topic`, the newest coalesced row of one topic for one address: it took
every row ever sent to the address and sorted them, 37 ms for a verifier notified of 100,000
tickets, where the scan backwards by id had found a recent alert at once (and read the whole
table when there was none, 21 ms). (topic, lower(recipient)) answers it from the end of one
key, in both cases.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_outbox_recipient_day"
TOPIC = "ix_outbox_topic_recipient"


def upgrade() -> None:
    op.create_index(NAME, "outbox", [sa.func.lower(sa.column("recipient")), "created_at"])
    op.create_index(TOPIC, "outbox", ["topic", sa.func.lower(sa.column("recipient"))])


def downgrade() -> None:
    op.drop_index(TOPIC, table_name="outbox")
    op.drop_index(NAME, table_name="outbox")
