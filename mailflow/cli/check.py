"""`mailflow check`: everything the service needs, tried for real, one line per check.

The configuration (with its secret files) must load first; then the storage directory
is written to, the database's schema compared with this mailflow's, and both mail
servers are connected to and logged in to, exactly as the service will. The exit status
says what kind of fix is needed, so scripts can act on it (`mailflow run` runs the offline
part itself before it starts, see `checked_config`):

    0   every check passed
    78  something to fix in the configuration: a refused login, a CA file, the schema
        (`mailflow db upgrade`), or the configuration file itself
    74  the storage directory or the database cannot be written
    69  a mail server cannot be reached now (retrying later may help)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mailflow.adapters.imap import ImapSource
from mailflow.adapters.oauth import TokenSource
from mailflow.adapters.priority_words import configured_word_lists
from mailflow.adapters.smtp import SmtpSender
from mailflow.adapters.tls import tls_context
from mailflow.config import Config, load_config, load_configs
from mailflow.errors import (
    ConfigError,
    ImapUnavailable,
    LoginRefused,
    MailflowError,
    SmtpUnavailable,
    StorageUnavailable,
    TransientError,
)
from mailflow.store import migrate
from mailflow.store.db import make_engine


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    status: int = os.EX_OK  # the exit status this failure calls for


def _exit_status(exc: Exception) -> int:
    if isinstance(exc, (ConfigError, LoginRefused)):
        return os.EX_CONFIG
    if isinstance(exc, (StorageUnavailable, OSError)):
        return os.EX_IOERR
    return os.EX_UNAVAILABLE


def _attempt(name: str, probe: Callable[[], str]) -> Result:
    try:
        return Result(name, True, probe())
    except (MailflowError, OSError) as exc:
        return Result(name, False, str(exc), _exit_status(exc))


def _storage(cfg: Config) -> str:
    directory = cfg.storage_dir
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".mailflow-check-"):
            pass
    except OSError as exc:
        raise StorageUnavailable(f"[storage] directory {str(directory)!r} cannot be written: "
                                 f"{exc.strerror or exc} (create it, owned by the service user)"
                                 ) from exc
    return f"{directory} is writable"


def _schema(cfg: Config) -> str:
    engine = make_engine(cfg.database_url)
    try:
        state = migrate.status(engine)
    finally:
        engine.dispose()
    if not state.runnable:
        raise ConfigError(state.problem())
    # PostgreSQL: say which server and database answered (the URL holds no password).
    where = f"PostgreSQL {state.where}: " if engine.dialect.name == "postgresql" else ""
    if state.kind == "empty":
        return f"{where}new database, created at schema revision {state.head} on first start"
    return f"{where}schema revision {state.revision} (this mailflow's)"


def _tls(cfg: Config) -> str:
    for key, section in (("[imap] tls_ca_file", cfg.imap), ("[smtp] tls_ca_file", cfg.smtp)):
        if section.security != "plain":
            tls_context(section.tls_ca_file, key)
    return "certificates verified" + (" with the configured CA files"
                                      if cfg.imap.tls_ca_file or cfg.smtp.tls_ca_file else "")


def _priority(cfg: Config) -> str:
    lists = configured_word_lists(cfg.priority.path)
    source = str(cfg.priority.path) if cfg.priority.path else "the built-in lists"
    return (f"{len(lists.urgency)} urgency and {len(lists.impact)} impact word groups "
            f"from {source}")


def _lease(cfg: Config) -> str:
    from mailflow.adapters.clock import utc_now
    from mailflow.store.lease import describe_lease

    engine = make_engine(cfg.database_url)
    try:
        return describe_lease(engine, cfg.mailbox_key, utc_now())
    finally:
        engine.dispose()


def run_checks(cfg: Config, offline: bool = False, *, shared: bool = True) -> list[Result]:
    """Every check; `offline` leaves out the two mail servers (a start-up check must not keep
    the service from taking complaints while the SMTP server is down); `shared` False leaves
    out the storage and the database, which every mailbox of a file shares (`check_all`)."""
    loaded = (f"village {cfg.village.name!r}, {len(cfg.staff)} staff, commands proven by "
              f"{' / '.join(cfg.commands.accept)}; secret files read")
    results = [Result("configuration", True, loaded)]
    if shared:
        results += [_attempt("storage", lambda: _storage(cfg)),
                    _attempt("database", lambda: _schema(cfg))]
    results += _own_checks(cfg)
    if not offline:
        # An XOAUTH2 token is its own step: a refused refresh is told apart from a refused login.
        if cfg.imap.auth == "xoauth2":
            results.append(_attempt("imap-token", TokenSource(cfg.imap, "imap", ImapUnavailable).probe))
        results.append(_attempt("lease", lambda: _lease(cfg)))  # who polls the mailbox
        results.append(_attempt("imap", ImapSource(cfg.imap).probe))
        if cfg.smtp.auth == "xoauth2":
            results.append(_attempt("smtp-token", TokenSource(cfg.smtp, "smtp", SmtpUnavailable).probe))
        results.append(_attempt("smtp", SmtpSender(cfg.smtp).probe))
    return results


def report(results: list[Result], indent: str = "") -> int:
    """Print one line per check; the exit status of the most fundamental failure."""
    for result in results:
        print(f"{indent}{'ok  ' if result.ok else 'FAIL'} {result.name:<13} {result.detail}")
    return _worst([r.status for r in results if not r.ok])


def check_all(configs: list[Config], offline: bool = False) -> int:
    """Every mailbox of the file in turn, under its name when it has one; the worst status."""
    if len(configs) == 1 and not configs[0].name:
        return report(run_checks(configs[0], offline=offline))
    # Storage and database are the file's, not a mailbox's: checked once, not 250 times.
    print("shared by every mailbox:")
    statuses = [report([_attempt("storage", lambda: _storage(configs[0])),
                        _attempt("database", lambda: _schema(configs[0]))], indent="  ")]
    for cfg in configs:
        print(f"mailbox {cfg.name} ({cfg.village.name}, prefix {cfg.scope}):")
        statuses.append(report(run_checks(cfg, offline=offline, shared=False), indent="  "))
    return _worst(statuses)


def checked_config(path: Path, mailbox: str | None = None) -> Config:
    """The configuration at `path` once every offline check passed, else the error of the most
    fundamental failure (ConfigError: exit 78), naming each failed check.

    `mailflow run` calls this before READY and again on SIGHUP: a configuration that loads but
    names an unwritable storage directory, a missing CA file or a database needing an upgrade
    must not start, nor replace a running one.
    """
    cfg = load_config(path, mailbox)
    _refuse(path, [result for result in run_checks(cfg, offline=True) if not result.ok])
    return cfg


def checked_configs(path: Path) -> list[Config]:
    """Every mailbox of the file once the offline checks passed (`mailflow run` serving them
    all, mailflow/fleet.py): the file is read once, the shared storage and database checked
    once, each mailbox's own TLS files and word lists each."""
    configs = load_configs(path)
    failed = [result for result in run_checks(configs[0], offline=True) if not result.ok]
    for cfg in configs[1:]:
        failed += [Result(f"{cfg.name}: {result.name}", False, result.detail, result.status)
                   for result in _own_checks(cfg) if not result.ok]
    _refuse(path, failed)
    return configs


def _own_checks(cfg: Config) -> list[Result]:
    return [_attempt("tls", lambda: _tls(cfg)), _attempt("priority", lambda: _priority(cfg))]


def _refuse(path: Path, failed: list[Result]) -> None:
    """Raise the error of the most fundamental failure, naming each (nothing if none)."""
    if not failed:
        return
    detail = "\n".join(f"{path}: {result.name}: {result.detail}" for result in failed)
    worst = _worst([result.status for result in failed])
    if worst == os.EX_CONFIG:
        raise ConfigError(detail)
    if worst == os.EX_IOERR:
        raise StorageUnavailable(detail)
    raise TransientError(detail)


def _worst(statuses: list[int]) -> int:
    return next((s for s in (os.EX_CONFIG, os.EX_IOERR, os.EX_UNAVAILABLE) if s in statuses),
                os.EX_OK)
