"""A database brought to an older schema revision, as an older mailflow left it, for the tests
of what a migration does to the rows already there."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection

from mailflow.store import migrate
from mailflow.store.db import make_engine


def upgrade_to(url: str, revision: str,
               then: Callable[[Connection], None] | None = None) -> None:
    """Bring the database at `url` to `revision` with Alembic, then run `then` (the rows an
    older mailflow wrote, by plain SQL) in the same transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = AlembicConfig()
            cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            if then is not None:
                then(conn)
    finally:
        engine.dispose()
