"""`mailflow ARGS` as a real process that skips the second of imports each new interpreter pays.

    run(["--config", path, "show", "KLR-2026-00001"], env=..., cwd=ROOT, timeout=60)

The end-to-end tests run about 130 short `mailflow` commands per run; each new interpreter
spent about 0.9 s of CPU importing SQLAlchemy, pydantic and mailflow before it did anything,
which on a two-core CI machine was a large part of the suite's time. This module keeps one
helper process per pytest worker (the zygote, as Android's is called), started like `python
-m` from the checkout's root so that it imports the checkout's mailflow, as `python -m
mailflow` there would. It forks a child per command. The child is a process like any other:
the caller's stdout and stderr (file descriptors passed over a Unix socket; stdin is
/dev/null), environment, working directory and umask; it runs `mailflow.cli.main` and the exit
handlers and exits with main's status.

What is the zygote's, not the command's: what Python fixes at interpreter start (the stdio
encoding, `-X` and `PYTHON*` start-up options: the tests' own, the same for every command),
and the modules imported before the fork (a `PYTHONPATH` in `env` does not change which
mailflow runs). Commands run one at a time per pytest worker, a second caller waiting its
turn within its timeout. The zygote owns each child: it kills it at the timeout, when the
caller goes away (an exception, a dead worker), and the kernel kills it when the zygote dies.
Commands that are themselves about the process (the daemon under signals, a demo server, a
wrapper such as setpriv) still start a new interpreter with subprocess.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import locale
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: What the zygote imports before it forks; the second group only where it is installed.
_PRELOAD = ("mailflow.cli", "mailflow.service", "mailflow.demo.scenario",
            "sqlalchemy.dialects.sqlite")
_PRELOAD_IF_INSTALLED = ("psycopg", "sqlalchemy.dialects.postgresql.psycopg")
_MAX_MESSAGE = 1 << 20
_PR_SET_PDEATHSIG = 1


class _Zygote:
    """The helper process of this pytest worker, started at first use, restarted if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._directory = tempfile.mkdtemp(prefix="mailflow-zygote-")
        self._path = os.path.join(self._directory, "socket")

    def socket_path(self) -> str:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._path)
                # The zygote's stdin is a pipe nobody writes: its end tells the zygote that
                # this worker is gone, however it ended.
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "tests.harness.zygote", self._path], cwd=ROOT,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                assert self._process.stdout is not None
                if self._process.stdout.readline() != b"ready\n":
                    raise RuntimeError(f"the mailflow zygote did not start "
                                       f"(exit {self._process.wait()})")
            return self._path

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(self._directory)


_ZYGOTE: list[_Zygote] = []


def _zygote() -> _Zygote:
    if not _ZYGOTE:
        _ZYGOTE.append(_Zygote())
        atexit.register(_ZYGOTE[0].stop)
    return _ZYGOTE[0]


def run(args: list[str], *, env: dict[str, str], cwd: Path | str,
        timeout: float) -> subprocess.CompletedProcess[str]:
    """As subprocess.run([python, "-m", "mailflow", *args], capture_output=True, text=True,
    stdin=DEVNULL, env=env, cwd=cwd, timeout=timeout) returns or raises, in a child forked
    from the zygote (the module's docstring says what differs)."""
    command = [sys.executable, "-m", "mailflow", *args]
    deadline = time.monotonic() + timeout
    request = {"args": list(args), "env": env, "cwd": str(cwd), "umask": _current_umask()}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(os.devnull, "rb") as stdin, \
            socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
        conn.settimeout(timeout)
        conn.connect(_zygote().socket_path())
        socket.send_fds(conn, [json.dumps(request).encode()],
                        [stdin.fileno(), out.fileno(), err.fileno()])
        try:
            conn.settimeout(max(deadline - time.monotonic(), 0.001))
            status = _status(conn.recv(_MAX_MESSAGE))
        except TimeoutError:
            conn.settimeout(None)
            # The zygote kills it and answers once it is gone; a reset says the command ended
            # on its own as the time ran out, and the zygote closed before reading this.
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                conn.sendall(b"kill")
                _status(conn.recv(_MAX_MESSAGE))
            raise subprocess.TimeoutExpired(command, timeout, _read(out), _read(err)) from None
        return subprocess.CompletedProcess(command, status, _read(out), _read(err))


def _status(message: bytes) -> int:
    if not message:
        raise RuntimeError("the mailflow zygote went away during a command")
    return int(json.loads(message)["status"])


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _read(file: Any) -> str:
    """What subprocess's text mode gives: decoded, with universal newlines."""
    file.seek(0)
    text = file.read().decode(locale.getpreferredencoding(False))
    return str(text).replace("\r\n", "\n").replace("\r", "\n")


# -- the zygote itself -----------------------------------------------------------------------

def _serve(path: str) -> None:
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    for name in _PRELOAD_IF_INSTALLED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen()
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready:  # the worker is gone: leave nothing behind
            with contextlib.suppress(OSError):
                os.unlink(path)
                os.rmdir(os.path.dirname(path))
            return
        conn, _ = listener.accept()
        with conn:
            _serve_one(listener, conn)


def _serve_one(listener: socket.socket, conn: socket.socket) -> None:
    """Fork the command, wait for it or for its caller's "kill" (or departure), answer."""
    message, fds, _, _ = socket.recv_fds(conn, _MAX_MESSAGE, 3)
    if not message or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(json.loads(message), fds, (listener, conn), zygote)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd, conn], [], [])
        if pidfd not in ready:  # "kill", or the caller closed the connection
            # Read it: a socket closed with a message unread resets its peer, whose status
            # then never arrives.
            conn.recv(_MAX_MESSAGE)
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    with contextlib.suppress(OSError):  # a caller that went away hears nothing
        conn.sendall(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())


def _child(request: dict[str, Any], fds: list[int], sockets: tuple[socket.socket, ...],
           zygote: int) -> None:
    """Become `mailflow ARGS` in the caller's stdio, environment and directory; never return."""
    code: int = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != zygote:  # it died before the line above took effect
            os._exit(1)
        for sock in sockets:
            sock.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        encoding = sys.stdout.encoding
        sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding=encoding, errors="backslashreplace",  # noqa: SIM115
                          closefd=False, buffering=1)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as `-m` puts the working directory first
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        sys.argv = [os.path.join(os.path.dirname(sys.modules["mailflow"].__file__ or ""),
                                 "__main__.py"), *request["args"]]
        from mailflow.cli import main

        code = main(request["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the child reports it as Python would, then exits
        traceback.print_exc()
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    _serve(sys.argv[1])
