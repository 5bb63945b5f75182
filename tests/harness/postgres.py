"""A throwaway PostgreSQL cluster for the tests, and the choice of database for a run.

`MAILFLOW_TEST_DB` chooses the database the harness gives mailflow: `sqlite` (the default: a
file in each test's storage directory) or `postgresql`: one private cluster per test
session (per xdist worker), made with Debian's `initdb` in a temporary directory and
listening on a Unix socket in that directory and on a free port of 127.0.0.1; every test
gets a database of its own (`database_url`). No system service is used or needed.

PostgreSQL refuses to run as root: as root (CI, this machine) the cluster's files belong
to the unprivileged `postgres` account that Debian's package creates (else the test mail
owner, tests/harness/unix.py) and initdb and postgres run as it (Popen's user/group);
as a normal user they run as that user. The cluster trusts connections on its socket (in a
0700 directory), which the harness's URLs use; over TCP on loopback a role needs its
password (scram-sha-256), so a test can prove that mailflow finds it in a password file.
It runs without fsync: its data is thrown away at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from mailflow.demo.loopback import free_port
from tests.harness.unix import mail_owner

ENV = "MAILFLOW_TEST_DB"
CHOICES = ("sqlite", "postgresql")
SUPERUSER = "postgres"
_START_TIMEOUT = 30.0


def chosen_database() -> str:
    """The database engine for this run, from MAILFLOW_TEST_DB (sqlite when unset)."""
    wanted = os.environ.get(ENV, "").strip().lower() or "sqlite"
    if wanted not in CHOICES:
        import pytest  # here, not above: the benches' measured processes import this module

        pytest.fail(f"{ENV}={wanted!r}: use 'sqlite' or 'postgresql' or leave it unset",
                    pytrace=False)
    return wanted


def on_postgresql() -> bool:
    return chosen_database() == "postgresql"


def postgres_bindir() -> Path | None:
    """Where initdb and postgres are (Debian keeps them out of PATH), newest version first."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                        reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file():
            return bindir
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _server_account() -> tuple[int, int]:
    """(uid, gid) the server runs as: ourselves, or as root an unprivileged account."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwnam("postgres")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        owner = mail_owner()
        return owner.uid, owner.gid


class PostgresCluster:
    """initdb + postgres in `workdir`; `url(name)` for a database; `kill()`/`start()`."""

    def __init__(self, workdir: Path) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL's server is not installed (scripts/install-test-deps.sh, "
                               "as root, installs Debian's postgresql)")
        self.bindir = bindir
        self.workdir = workdir
        self.data = workdir / "data"
        self.socket_dir = workdir / "socket"
        self.log_path = workdir / "postgres.log"
        self.host = "127.0.0.1"
        self.port = 0
        self.uid, self.gid = _server_account()
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    # -- the server -------------------------------------------------------------------

    def _run(self, *argv: str) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=self.workdir,
                                user=self.uid, group=self.gid, extra_groups=[],
                                env={**_clean_env(), "LC_ALL": "C.UTF-8"})
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}")

    def initdb(self) -> None:
        self.workdir.chmod(0o755)
        for directory in (self.data, self.socket_dir):
            directory.mkdir(mode=0o700)
            os.chown(directory, self.uid, self.gid)
        self.log_path.touch(0o600)
        os.chown(self.log_path, self.uid, self.gid)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8",
                  "--no-sync", "--no-instructions")

    def start(self) -> None:
        """Start (or restart after kill()) the server; returns when it accepts connections."""
        if self._process is not None:
            raise RuntimeError("this PostgreSQL is already running")
        if not self.port:
            self.port = free_port(self.host)
        settings = {
            "listen_addresses": self.host, "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            # Throwaway data: no flushes to disk. A commit is still written before it is
            # acknowledged (synchronous_commit stays on), so a killed server loses nothing
            # committed, as the crash tests need; only a crash of the machine would.
            "fsync": "off", "full_page_writes": "off",
            "max_connections": "200", "shared_buffers": "32MB",
            "logging_collector": "off", "log_min_messages": "warning",
        }
        argv = [str(self.bindir / "postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.workdir, user=self.uid, group=self.gid, extra_groups=[],
                env=_clean_env(), start_new_session=True)
        atexit.register(self.stop)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self._accepts():
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"PostgreSQL ({self.data}) did not start; its log ends:\n{self.log_tail()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.conninfo("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """SIGKILL the server and all its processes (a crash); start() brings it back."""
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        # A killed postmaster leaves its children to notice; they exit on their own, but
        # the group must be empty before a restart reuses the shared memory.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop at once (immediate shutdown); the data is thrown away next."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        self.kill()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- databases ----------------------------------------------------------------------

    def conninfo(self, database: str) -> str:
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname={database}"

    def url(self, database: str, *, user: str = SUPERUSER, tcp: bool = False) -> str:
        """mailflow's [database] url for `database`: over the socket (trusted), or over TCP
        on loopback (a password, from a password file: add ?passfile=...)."""
        if tcp:
            return f"postgresql://{user}@{self.host}:{self.port}/{database}"
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def admin(self, *statements: str) -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE) as the superuser."""
        import psycopg

        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def create_database(self, template: str = "template0") -> str:
        """A new database, a copy of `template` (empty by default); returns its name."""
        name = f"mailflow_{os.getpid()}_{next(self._names)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _clean_env() -> dict[str, str]:
    """No PG* variables from the caller's environment reach the test server."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


# -- one cluster per session, one database per test ---------------------------------------

_cluster: PostgresCluster | None = None
_databases: dict[str, str] = {}  # key (a test's tmp_path) -> database name
_migrated: str | None = None  # this session's template at mailflow's current schema


def cluster() -> PostgresCluster:
    """This session's cluster, started on first use (stopped by stop_cluster at the end)."""
    global _cluster
    if _cluster is None:
        workdir = Path(tempfile.mkdtemp(prefix="mailflow-pg-"))
        made = PostgresCluster(workdir)
        try:
            made.initdb()
            made.start()
        except BaseException:
            made.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        _cluster = made
    return _cluster


def stop_cluster() -> None:
    global _cluster, _migrated
    made, _cluster, _migrated = _cluster, None, None
    _databases.clear()
    if made is not None:
        made.stop()
        shutil.rmtree(made.workdir, ignore_errors=True)


def database_url(key: Path | str, *, migrated: bool = False) -> str:
    """The URL of an empty database that belongs to `key` (a test's tmp_path): the same
    database for every call with the same key, so a test's configs share it as they would
    share the SQLite file under tmp_path. `migrated`: made at mailflow's current schema, a
    copy of a template its own migrations built once per test process; the end-to-end tests
    start there, which spares each of them the 0.6 s the twelve migrations take on
    PostgreSQL (the store tests and those of `mailflow db` still migrate empty databases)."""
    name = _databases.get(str(key))
    if name is None:
        name = cluster().create_database(_migrated_template() if migrated else "template0")
        _databases[str(key)] = name
    return cluster().url(name)


def _migrated_template() -> str:
    global _migrated
    if _migrated is None:
        from mailflow.store.db import make_engine
        from mailflow.store.migrate import prepare

        name = cluster().create_database()
        engine = make_engine(cluster().url(name))
        try:
            prepare(engine)
        finally:
            engine.dispose()  # a template must have no connection when it is copied
        _migrated = name
    return _migrated


def drop_databases() -> None:
    """Drop the databases made since the last call (after each test)."""
    if _cluster is None or not _databases:
        return
    names = list(_databases.values())
    _databases.clear()
    if _cluster.pid is None:
        return  # a test killed the server and did not bring it back
    for name in names:
        _cluster.drop_database(name)


def store_url(tmp_path: Path, filename: str = "db.sqlite3") -> str:
    """A new, empty database for a store test: the SQLite file `filename` under tmp_path,
    or (MAILFLOW_TEST_DB=postgresql) the test's own PostgreSQL database."""
    if on_postgresql():
        return database_url(tmp_path)
    return f"sqlite:///{tmp_path / filename}"


def lose_database(tmp_path: Path) -> None:
    """The database config_for gave the test at tmp_path is lost: the SQLite file deleted,
    or the PostgreSQL database dropped and made again, empty, under the same name."""
    if not on_postgresql():
        (tmp_path / "state" / "mailflow.sqlite3").unlink()
        return
    name = _databases[str(tmp_path)]
    cluster().drop_database(name)
    cluster().admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
