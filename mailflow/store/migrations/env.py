"""How Alembic runs mailflow's revisions; driven by mailflow.store.migrate, never by hand.

migrate opens the connection, begins the one transaction the whole run happens in, and
passes the connection in `config.attributes["connection"]`; it commits when every
revision has run, so nothing here begins or commits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any, Literal

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from mailflow.store import models  # noqa: F401  (the tables SQLModel.metadata holds)
from mailflow.store.column_types import EnumValue, UTCDateTime

log = logging.getLogger("mailflow.store.migrate")


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Autogenerate spells mailflow's column types in plain SQLAlchemy.

    A revision is frozen history: it must not import today's models, which will change.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString | EnumValue):
        return "sa.String()"  # an enum is stored as its value, a plain string
    return False


def log_step(ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any],
             run_args: Mapping[str, Any]) -> None:
    """One line per revision, in mailflow's log (Alembic's own INFO lines are muted)."""
    done = "stamped" if step.is_stamp else "applied"
    doc: str = getattr(step.up_revision, "doc", None) or ""  # the revision's first line
    log.info("schema revision %s %s: %s", step.up_revision_id, done, doc.partition("\n")[0])


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite alters most things only by copying the table; batch mode does that.
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
        on_version_apply=log_step,
        # migrate begins the transaction itself, on SQLite too (BEGIN IMMEDIATE).
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("mailflow's migrations run against a database, not as SQL scripts (--sql)")
_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations through mailflow.store.migrate (`mailflow db upgrade`)")
run(_connection)
