"""A private Dovecot for end-to-end tests and the benchmark.

`DovecotServer` runs `dovecot -F -c FILE` from a config of its own, with its own
base_dir, state_dir and log under the caller's directory, and only an IMAP
listener on a free high port of 127.0.0.1: nothing system-wide is read, written
or bound. Users live in passwd-files with `{PLAIN}` passwords and Maildir homes.
As root, the mail belongs to an unprivileged system user (Dovecot refuses to run
mail processes as root); as a normal user it belongs to that user, and Dovecot
runs entirely as them.

Dovecot is our child here, in a session of its own, so stop() can reap it at
once and kill its whole process group: nothing is left behind, even when a test
fails half-way (an atexit hook covers a run that never reaches teardown).

What Dovecot 2.3 does that tests must know (see test_servers.py): UIDs start at 1;
private keywords such as $MailflowTaken are kept (PERMANENTFLAGS has `\\*`);
INTERNALDATE keeps the instant but not the offset, and is answered in Dovecot's
local time zone; an APPEND date more than 2 h ahead is silently replaced by the
arrival time; a failed login is answered after 2 s; at most 10 connections per
user and IP (mail_max_userip_connections).
"""

from __future__ import annotations

import atexit
import grp
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

from mailflow.demo.loopback import AppendDelivery, free_port, require_loopback
from tests.harness.unix import (
    check_traversable,
    mail_owner,
    process_group_members,
    system_group,
    system_user,
)

#: Where distributions put Dovecot's helper binaries (`imap` comes with dovecot-imapd).
_LIBEXEC_DIRS = ("/usr/lib/dovecot", "/usr/libexec/dovecot", "/usr/local/libexec/dovecot",
                 "/usr/local/lib/dovecot")
_START_TIMEOUT = 20.0
_STOP_TIMEOUT = 10.0
_PORT_ATTEMPTS = 5


def dovecot_binary() -> str | None:
    """The `dovecot` master binary; /usr/sbin is often not on a normal user's PATH."""
    found = shutil.which("dovecot")
    if found:
        return found
    for candidate in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def dovecot_available() -> bool:
    """True if Dovecot and its IMAP server (Debian: dovecot-imapd) are installed.

    The master alone (dovecot-core) starts but cannot serve IMAP, so the `imap`
    binary is looked for too.
    """
    binary = dovecot_binary()
    if binary is None:
        return False
    prefix = Path(binary).resolve().parent.parent
    dirs = (*_LIBEXEC_DIRS, str(prefix / "lib/dovecot"), str(prefix / "libexec/dovecot"))
    return any(os.access(Path(d) / "imap", os.X_OK) for d in dirs)


# Dovecot's whole configuration for one test server; _config_text() fills it in.
_CONFIG_TEMPLATE = """# Written by tests/harness/servers.py for one test server; nothing is system-wide.
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
instance_name = mailflow-test-{token}
protocols = imap
listen = {host}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# A refused login answers at once (Dovecot waits 2 s by default): the daemon's paced
# retries after a wrong password are then tested in a fraction of a second each.
auth_failure_delay = 0
login_greeting = Dovecot mailflow-test {token} ready.
mail_location = maildir:~/Maildir
# The mail is thrown away after each test: durability is not worth the fsyncs.
mail_fsync = never
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_privileged_group =
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd.d/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/passwd.d/%u
}}
# Login and imap processes serve one connection after another instead of one each
# (Dovecot's "high-performance" mode): a login then costs ~3 ms instead of ~11 ms.
service imap-login {{
  # No chroot: it needs root and a root-owned login directory.
  chroot =
  service_count = 0
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
service imap {{
  service_count = 0
}}
service anvil {{
  chroot =
  # No growing penalty (2, 4, 8, 15 s) for repeated failed logins: tests that try a
  # wrong password would slow every later one.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class _PortTaken(RuntimeError):
    """Dovecot could not bind its port: someone took it after free_port() chose it."""


class DovecotServer(AppendDelivery):
    """A private Dovecot serving IMAP on `host`:`port` for the given users.

    A LoopbackIMAP like EmbeddedIMAP (start/stop/host/port/users/add_user, and the
    same `deliver`), plus `log_tail()`, `processes()`, `pid` and, with `tls`, an
    implicit-TLS `tls_port`.
    """

    def __init__(self, workdir: Path, users: Mapping[str, str], host: str = "127.0.0.1", *,
                 port: int = 0, tls: tuple[Path, Path] | None = None,
                 oauth2_introspection_url: str | None = None) -> None:
        """`workdir` will hold config, run/state dirs, log and mail (made if missing).

        `tls` = (certificate chain, key) PEM files: STARTTLS on `port`, implicit
        TLS on `tls_port`. A `port` of 0 picks a free one (and another, should it
        be taken before Dovecot binds it). `oauth2_introspection_url` adds AUTHENTICATE
        XOAUTH2, each token checked there (RFC 7662, by POST; tests/harness/oauth.py).
        """
        self.oauth2_introspection_url = oauth2_introspection_url
        self.workdir = Path(workdir).absolute()
        self.users: dict[str, str] = {}
        for user, password in users.items():
            _check_credentials(user, password)
            self.users[user] = password
        self.host = require_loopback(host)
        self._auto_port = port == 0
        self.port = port or free_port(host)
        self.tls = tls
        self.tls_port = free_port(host) if tls else 0
        self.config_path = self.workdir / "dovecot.conf"
        self.log_path = self.workdir / "dovecot.log"
        self.owner = mail_owner()
        self._process: subprocess.Popen[bytes] | None = None
        # In the greeting, so start() knows that *this* Dovecot answers on the port.
        self._token = secrets.token_hex(6)

    # -- files ------------------------------------------------------------------------

    def _write_files(self) -> None:
        root = os.geteuid() == 0
        for sub in ("run", "state", "mail"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        if root:
            self.workdir.chmod(0o755)
            check_traversable(self.workdir / "mail", self.owner)
            os.chown(self.workdir / "mail", self.owner.uid, self.owner.gid)
        self._write_passwd()
        self.config_path.write_text(self._config_text(root))

    def _write_passwd(self) -> None:
        """One passwd-file per user, so that add_user() takes effect at once.

        Dovecot re-reads a changed passwd-file at most once a second, so a user
        added to a shared file right after a login would stay unknown for up to a
        second; a new file for a new name is read on first use. Names are
        lowercased like Dovecot's default auth_username_format (%Lu) does.
        """
        directory = self.workdir / "passwd.d"
        directory.mkdir(exist_ok=True)
        for user, password in self.users.items():
            login = user.lower()
            home = self.workdir / "mail" / login
            if not home.exists():
                home.mkdir(mode=0o700)
                if os.geteuid() == 0:
                    os.chown(home, self.owner.uid, self.owner.gid)
            line = f"{login}:{{PLAIN}}{password}:{self.owner.uid}:{self.owner.gid}::{home}::\n"
            path = directory / login
            if path.exists() and path.read_text() == line:
                continue
            fresh = path.with_name(f".{login}.new")
            fresh.write_text(line)
            fresh.chmod(0o644)  # read by the auth process (user dovecot); throwaway passwords
            fresh.replace(path)  # in one step: Dovecot may be reading it right now

    def _config_text(self, root: bool) -> str:
        base = self.workdir
        # As root, login and internal processes run as Debian's dovenull and dovecot;
        # without root Dovecot cannot switch users, so all of it runs as the caller.
        owner_group = grp.getgrgid(self.owner.gid).gr_name
        login_user = system_user("dovenull", "nobody") if root else self.owner.name
        internal_user = system_user("dovecot", self.owner.name) if root else self.owner.name
        # Some services' sockets (stats, dict, imap-hibernate) belong to this group.
        internal_group = system_group("dovecot", owner_group) if root else owner_group
        if self.tls is None:
            ssl = "ssl = no"
        else:
            cert, key = self.tls
            ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
        text = _CONFIG_TEMPLATE.format(
            base=base, host=self.host, port=self.port, tls_port=self.tls_port, ssl=ssl,
            token=self._token, uid=self.owner.uid, gid=self.owner.gid, login_user=login_user,
            internal_user=internal_user, internal_group=internal_group)
        return text.replace("auth_mechanisms = plain login\n", self._oauth2(base))

    def _oauth2(self, base: Path) -> str:
        """Settings that make XOAUTH2 a mechanism, its tokens checked by an oauth2 passdb
        (for XOAUTH2 only); the plain settings without oauth2."""
        if self.oauth2_introspection_url is None:
            return "auth_mechanisms = plain login\n"
        ext = base / "dovecot-oauth2.conf.ext"
        ext.write_text(f"introspection_url = {self.oauth2_introspection_url}\n"
                       "introspection_mode = post\nusername_attribute = username\n"
                       "active_attribute = active\nactive_value = true\n")
        ext.chmod(0o644)  # read by the auth process; holds no secret
        return ("auth_mechanisms = plain login xoauth2\n"
                f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2\n  args = {ext}\n}}\n")

    # -- life cycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        """The master's pid, which is also its process group's id, while running."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start Dovecot; returns once it greets on `port`, raises with its log if not."""
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("Dovecot is not installed (scripts/install-test-deps.sh, as root)")
        if self._process is not None:
            raise RuntimeError("this Dovecot is already running")
        for attempt in range(_PORT_ATTEMPTS):
            self._write_files()
            try:
                self._launch(binary)
                return
            except _PortTaken:
                if not self._auto_port or attempt == _PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port(self.host)
                if self.tls:
                    self.tls_port = free_port(self.host)

    def _launch(self, binary: str) -> None:
        startup = self.workdir / "startup.log"
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with startup.open("wb") as out:
            # -F: stay in the foreground as our child, so we reap it the moment it ends;
            # a session of its own keeps Ctrl-C away and makes one process group to kill.
            process = subprocess.Popen([binary, "-F", "-c", str(self.config_path)],
                                       stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self._process = process
        atexit.register(self._kill_at_exit)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if self._greets():
                return
            time.sleep(0.02)
        status = process.poll()
        self.stop(graceful=False)
        report = (f"{startup.read_text(errors='replace').strip()}\n"
                  f"{self.log_tail(since=log_offset)}").strip()
        what = (f"exited with status {status}" if status is not None
                else f"did not greet on {self.host}:{self.port} within {_START_TIMEOUT:.0f} s")
        failure = _PortTaken if "Address already in use" in report else RuntimeError
        raise failure(f"Dovecot ({self.config_path}) {what}; its output and log end:\n{report}")

    def _greets(self) -> bool:
        """True once *this* Dovecot answers on the port (not whoever else might hold it)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                greeting = sock.recv(512)
                sock.sendall(b"a LOGOUT\r\n")
        except OSError:
            return False
        return self._token.encode() in greeting

    def log_tail(self, lines: int = 30, since: int = 0) -> str:
        """The end of Dovecot's log (from byte `since` on), for error messages."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(since)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def processes(self) -> list[int]:
        """Live processes of this Dovecot (master and children), for leak checks."""
        return process_group_members(self._process.pid) if self._process is not None else []

    def stop(self, *, graceful: bool = True) -> None:
        """Stop Dovecot and make sure that none of its processes is left.

        Graceful: SIGTERM; the master ends its children and exits (about 1.1 s,
        1 s of which it waits for its log process). Not graceful: SIGKILL to the
        whole process group (milliseconds), for throwaway servers whose mail is
        deleted right after. Either way the group is then swept with SIGKILL, the
        master reaped, and stop() returns only when no process of the group runs.
        """
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self._kill_at_exit)
        if graceful and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(_STOP_TIMEOUT)
        # The group outlives the master while any member lives, so its id is not reused.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(_STOP_TIMEOUT)
        deadline = time.monotonic() + _STOP_TIMEOUT
        while survivors := process_group_members(process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot processes survived SIGKILL: {survivors}")
            time.sleep(0.01)

    def _kill_at_exit(self) -> None:
        self.stop(graceful=False)

    # -- mail -------------------------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        """Add (or re-password) an account; a running Dovecot re-reads its passwd-file."""
        _check_credentials(user, password)
        self.users[user] = password
        if self._process is not None:
            self._write_passwd()


def _check_credentials(user: str, password: str) -> None:
    """Refuse what would corrupt a passwd-file line (':'-separated) or its file name."""
    if not user or user.startswith(".") or any(c in user for c in ":/\n\r\0"):
        raise ValueError(f"unusable as a Dovecot test user: {user!r}")
    if not password or any(c in password for c in ":\n\r\0"):
        raise ValueError(f"unusable as a passwd-file password: {password!r}")
