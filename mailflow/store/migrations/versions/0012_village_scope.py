"""Several villages in one database: a ticket counter per prefix, and whose outgoing mail is whose.

The counter was one sequence per year for the whole database. With several villages (each its
own prefix), one sequence would leave gaps in every village's numbers (KLR-2026-00001, then
KLR-2026-00004), which reads as lost complaints to anyone counting. So the key becomes (scope,
year), scope being the prefix; each existing sequence carries over from the tickets themselves,
whose numbers were given in the same transaction as the counter.

`outbox.scope` says which village's SMTP settings send a row; NULL (rows written before this
revision, all of one village) is sent by any.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NUMBER = re.compile(r"^([A-Z][A-Z0-9]*)-(\d{4})-(\d+)$")


def upgrade() -> None:
    bind = op.get_bind()
    sequences: dict[tuple[str, int], int] = {}
    for (number,) in bind.execute(sa.text("SELECT number FROM ticket")):
        match = _NUMBER.match(number)
        if match:
            key = (match[1], int(match[2]))
            sequences[key] = max(sequences.get(key, 0), int(match[3]))
    prefixes = {prefix for prefix, _ in sequences}
    if len(prefixes) == 1:  # the database of one village: its counter rows are its own
        (prefix,) = prefixes
        for year, last in bind.execute(sa.text("SELECT year, last FROM ticket_counter")):
            sequences[(prefix, year)] = max(sequences.get((prefix, year), 0), last)
    op.drop_table("ticket_counter")
    counter = op.create_table(
        "ticket_counter",
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "year"),
    )
    if sequences:
        op.bulk_insert(counter, [{"scope": scope, "year": year, "last": last}
                                 for (scope, year), last in sorted(sequences.items())])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("scope", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("scope")
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT year, MAX(last) FROM ticket_counter GROUP BY year")).all()
    op.drop_table("ticket_counter")
    counter = op.create_table(
        "ticket_counter",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    if rows:
        op.bulk_insert(counter, [{"year": year, "last": last} for year, last in rows])
