"""Indexes for two lookups that read a village's whole history each time they ran.

- `ticket.source_message_id`: a message whose subject is not a complaint's but which cites
  other messages (In-Reply-To, References) is looked up as a possible reply to a ticket
  (queries.ticket_by_reference): first among mailflow's own messages, then among the
  complaints' own Message-IDs. With no index the second read every ticket, and on SQLite
  the id comes after the description, so long complaints were read whole: 27 ms over 20,000
  tickets and 99 ms over 100,000, for each such message, and most mail to a village's
  address that is not a complaint is a reply in some other thread.
- `ticket_event.at`: each forged or unproven staff command merged into a waiting security
  alert reads the security events since the alert was queued
  (queries.security_events_since); without the index, the whole audit trail, the largest
  table, once per forged message. With it, the events of the last minutes. An index on
  (kind, at) served that as well, but SQLite, which keeps no statistics here, then chose it
  for the clock's timeline of open tickets (kind IN ...) and sorted every event it read:
  0.59 s instead of 0.33 s over 50,000 tickets.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ticket_source_message_id", "ticket", ["source_message_id"])
    op.create_index("ix_ticket_event_at", "ticket_event", ["at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_event_at", table_name="ticket_event")
    op.drop_index("ix_ticket_source_message_id", table_name="ticket")
