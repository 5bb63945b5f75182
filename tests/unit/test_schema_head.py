"""The head revision read without Alembic (store/schema_head.py): the same as Alembic's, and a
start on a database at head does not import Alembic (issue 10, memory)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailflow.store import migrate
from mailflow.store.schema_head import plain_head


def test_plain_head_is_alembics_head() -> None:
    assert plain_head(migrate.MIGRATIONS / "versions") == migrate.head()


def _revision_file(folder: Path, rev: str, down: str | None) -> None:
    (folder / f"{rev}_x.py").write_text(
        f'revision: str = "{rev}"\ndown_revision: str | None = '
        f'{"None" if down is None else repr(down).replace(chr(39), chr(34))}\n')


def test_anything_but_one_line_of_history_is_left_to_alembic(tmp_path: Path) -> None:
    _revision_file(tmp_path, "0001", None)
    _revision_file(tmp_path, "0002", "0001")
    assert plain_head(tmp_path) == "0002"
    _revision_file(tmp_path, "0003", "0001")  # a branch: two heads
    assert plain_head(tmp_path) is None
    (tmp_path / "0004_y.py").write_text("revision = compute()\n")  # not a plain line
    assert plain_head(tmp_path) is None


def test_a_start_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    migrate.open_database(url).dispose()  # created at head (this imports Alembic)
    code = ("import sys; from mailflow.store import migrate; "
            f"e = migrate.make_engine({url!r}); s = migrate.status(e); "
            "print(s.kind, 'alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["head", "False"]
