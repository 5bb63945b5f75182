"""The `mailflow` command: the daemon, one-off passes, and views for staff and administrators.

This module holds what every subcommand shares: the parser, logging, and the mapping
of errors to exit statuses. The subcommands live beside it, one module per audience
(tickets.py for staff, admin.py for the administrator), each with a `register(add)`
that adds its parsers and sets `handler` on them.

Exit statuses follow sysexits(3) so scripts and systemd can tell failures apart:
0 ok, 2 bad arguments, 65 bad input data, 66 no such ticket, 69 a mail server was
unavailable, 70 internal error, 74 the disk or the database could not be written,
75 another mailflow process is serving the mailbox (try again), 77 a view of identity
refused, 78 bad configuration (or a database schema that needs `mailflow db upgrade`).
The subcommand modules take the same numbers from `os` (os.EX_NOINPUT and so on), so they
need nothing from here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mailflow.cli import (
    admin,
    backlog,
    db,
    ops,
    outbox,
    publish,
    report,
    suggestion_box,
    tickets,
    trace,
)
from mailflow.config import DEFAULT_CONFIG_PATH, ENV_CONFIG
from mailflow.errors import (
    ConfigError,
    MailboxBusy,
    MailflowError,
    StorageUnavailable,
    TransientError,
)

EX_OK, EX_USAGE, EX_DATAERR, EX_NOINPUT = os.EX_OK, 2, os.EX_DATAERR, os.EX_NOINPUT
EX_UNAVAILABLE, EX_SOFTWARE, EX_CONFIG = os.EX_UNAVAILABLE, os.EX_SOFTWARE, os.EX_CONFIG

#: Adds one subcommand: add(name, help, **add_parser_kwargs) -> its parser.
AddCommand = Callable[..., argparse.ArgumentParser]


class _JournalPriority(logging.Filter):
    """Adds the syslog priority that journald reads from a `<N>` line prefix (sd-daemon(3))."""

    _PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4),
                   (logging.INFO, 6))

    def filter(self, record: logging.LogRecord) -> bool:
        record.priority = next((p for level, p in self._PRIORITIES if record.levelno >= level), 7)
        return True


def setup_logging(verbose: bool) -> None:
    """Under systemd (JOURNAL_STREAM set) journald stamps each line and reads its level from a
    `<N>` prefix, so neither a second timestamp nor a level word is written; elsewhere both
    help a person reading a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.addFilter(_JournalPriority())
        handler.setFormatter(logging.Formatter("<%(priority)d>%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("asyncio", "pymap", "mail.log", "aiosmtpd"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _common_options(*, after_command: bool) -> argparse.ArgumentParser:
    """--config and -v, accepted before the subcommand and again after it.

    After it, the defaults are SUPPRESS: a subparser writes its defaults over the
    namespace, so `mailflow --config FILE tickets` would otherwise lose FILE.
    """
    options = argparse.ArgumentParser(add_help=False)
    default: Any = argparse.SUPPRESS if after_command else None
    options.add_argument("--config", metavar="FILE", default=default,
                         help=f"configuration file (default: ${ENV_CONFIG}, else {DEFAULT_CONFIG_PATH})")
    options.add_argument("--mailbox", metavar="NAME", default=default,
                         help="which [[mailboxes]] entry, when the file serves several villages")
    options.add_argument("-v", "--verbose", action="store_true",
                         default=argparse.SUPPRESS if after_command else False, help="debug logging")
    return options


def _version() -> str:
    """The installed distribution's version, so `--version` matches what pip installed."""
    try:
        return version("mailflow")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; a subcommand module joins by adding its `register` below."""
    parser = argparse.ArgumentParser(
        prog="mailflow",
        description="Complaint service for a village mailbox (Pengaduan Masyarakat).",
        parents=[_common_options(after_command=False)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options(after_command=True)

    def add(name: str, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        # `help` is required here: it is the subcommand's line in `mailflow --help`.
        return sub.add_parser(name, help=help, description=help, parents=[common], **kwargs)

    for register in (admin.register, outbox.register, tickets.register, trace.register,
                     db.register, backlog.register, ops.register, publish.register,
                     report.register, suggestion_box.register, _register_demo):
        register(add)
    return parser


def _register_demo(add: AddCommand) -> None:
    demo = add("demo", "run mailflow against embedded mail servers on loopback")
    where = demo.add_mutually_exclusive_group()
    where.add_argument("--keep", metavar="DIR",
                       help="keep the demo's state and config in DIR (a new or empty directory)")
    where.add_argument("--serve", metavar="DIR",
                       help="start the demo's mail servers again (empty) for the state kept in "
                            "DIR, until Ctrl-C")
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    # Imported only here: the demo needs its extra dependencies (pymap, aiosmtpd).
    from mailflow.demo.scenario import require_demo_servers, run_demo

    if args.serve:
        from pathlib import Path

        from mailflow.demo.serve import serve_demo

        require_demo_servers()
        return serve_demo(Path(args.serve))
    return run_demo(args.keep)


def report_failure(text: str) -> None:
    """The one line (or block) that says why mailflow stopped, on stderr.

    Under journald (JOURNAL_STREAM set) every line carries the `<3>` error priority, so a
    start-up failure of the service shows as an error in `journalctl -p err`, not as info.
    """
    prefix = "<3>" if os.environ.get("JOURNAL_STREAM") else ""
    for line in text.splitlines() or [""]:
        print(f"{prefix}{line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except ConfigError as exc:
        report_failure(f"mailflow: configuration error:\n{exc}")
        return EX_CONFIG
    except StorageUnavailable as exc:
        report_failure(f"mailflow: storage error: {exc}")
        return os.EX_IOERR
    except MailboxBusy as exc:
        print(f"mailflow: {exc}", file=sys.stderr)
        return os.EX_TEMPFAIL  # 75: nothing failed, the service is serving the mailbox
    except TransientError as exc:
        report_failure(f"mailflow: {exc}")
        return EX_UNAVAILABLE
    except MailflowError as exc:
        report_failure(f"mailflow: {exc}")
        return EX_SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
