"""A private Dovecot for end-to-end tests: its own config, directories and port on 127.0.0.1.

Nothing system-wide is touched: Dovecot runs from `dovecot -c FILE` with its own
base_dir, state and log, a passwd-file of `{PLAIN}` users with Maildir homes, and
only an IMAP listener on a free high port. As root the mail belongs to an
unprivileged system user (Dovecot refuses to run mail processes as root); as a
normal user it belongs to that user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailflow.embedded import free_port, imap_append
from mailflow.imap_source import parse_internaldate

MAIL_USER = "mailflowtest"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> bool:
    return Path(DOVECOT).is_file() and os.access(DOVECOT, os.X_OK)


@dataclass(frozen=True)
class StoredMessage:
    uid: int
    flags: tuple[str, ...]
    raw: bytes
    internaldate: datetime


def fetch_all(host: str, port: int, user: str, password: str,
              folder: str = "INBOX") -> list[StoredMessage]:
    """Every message with its flags, read with BODY.PEEK so nothing changes."""
    client = imaplib.IMAP4(host, port, timeout=30)
    try:
        client.login(user, password)
        client.select(folder, readonly=True)
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        assert typ == "OK", data
        found = []
        for index, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            following = data[index + 1] if index + 1 < len(data) else b""
            meta = item[0] + (following if isinstance(following, bytes) else b"")
            uid = re.search(rb"UID (\d+)", meta)
            flags = re.search(rb"FLAGS \(([^)]*)\)", meta)
            date = re.search(rb'INTERNALDATE "([^"]+)"', meta)
            if uid is None or date is None:
                continue
            found.append(StoredMessage(
                uid=int(uid.group(1)),
                flags=tuple(f for f in (flags.group(1).decode().split() if flags else ())
                            if f != "\\Recent"),
                raw=item[1],
                internaldate=parse_internaldate(date.group(1).decode()),
            ))
        return sorted(found, key=lambda m: m.uid)
    finally:
        client.logout()


def _mail_owner() -> tuple[int, int, str]:
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_uid, entry.pw_gid, entry.pw_name
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        MAIL_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(MAIL_USER)
    return entry.pw_uid, entry.pw_gid, entry.pw_name


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


class DovecotServer:
    def __init__(self, workdir: Path, users: Mapping[str, str], host: str = "127.0.0.1",
                 tls: tuple[Path, Path] | None = None) -> None:
        """`tls` = (certificate chain, key) PEM files: STARTTLS on `port`, implicit TLS on `tls_port`."""
        self.workdir = Path(workdir)
        self.users = dict(users)
        self.host = host
        self.port = free_port(host)
        self.tls = tls
        self.tls_port = free_port(host) if tls else 0
        self.config_path = self.workdir / "dovecot.conf"
        self._uid, self._gid, self._owner = _mail_owner()

    def _write_config(self) -> None:
        base = self.workdir
        for sub in ("run", "state", "mail"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        self._write_passwd()
        login_user = "dovenull" if os.geteuid() == 0 else self._owner
        internal_user = "dovecot" if os.geteuid() == 0 else self._owner
        self.config_path.write_text(f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
protocols = imap
listen = {self.host}
{self._ssl_settings()}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = {self._uid}
last_valid_uid = {self._uid}
first_valid_gid = {self._gid}
last_valid_gid = {self._gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_privileged_group =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
""")
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{self._uid}:{self._gid}", str(base / "mail")],
                           check=True)
            os.chmod(base, 0o755)

    def _ssl_settings(self) -> str:
        if self.tls is None:
            return "ssl = no"
        cert, key = self.tls
        return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"

    def _write_passwd(self) -> None:
        lines = []
        for user, password in self.users.items():
            home = self.workdir / "mail" / user
            home.mkdir(parents=True, exist_ok=True)
            lines.append(f"{user}:{{PLAIN}}{password}:{self._uid}:{self._gid}::{home}::")
        (self.workdir / "passwd").write_text("\n".join(lines) + "\n")

    def add_user(self, user: str, password: str) -> None:
        self.users[user] = password
        self._write_passwd()
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{self._uid}:{self._gid}",
                            str(self.workdir / "mail")], check=True)

    def start(self) -> None:
        self._write_config()
        # The daemonised master keeps its stdio; a pipe would never reach EOF, so use a file.
        startup_log = self.workdir / "startup.log"
        with startup_log.open("w") as out:
            result = subprocess.run([DOVECOT, "-c", str(self.config_path)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, timeout=30)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot failed to start: {startup_log.read_text()}\n"
                               f"{self._log_tail()}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client = imaplib.IMAP4(self.host, self.port, timeout=5)
                client.logout()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.host}:{self.port}\n{self._log_tail()}")

    def _log_tail(self) -> str:
        log = self.workdir / "dovecot.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""

    def stop(self, wait: bool = True) -> int | None:
        """SIGTERM the master; it takes ~2.5 s to finish, so callers may wait later (`wait_gone`)."""
        pid_file = self.workdir / "run" / "master.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return None
        if wait:
            wait_gone(pid)
        return pid

    def deliver(self, user: str, raw: bytes, internaldate: datetime | None = None,
                folder: str = "INBOX") -> None:
        imap_append(self.host, self.port, user, self.users[user], raw, internaldate, folder)
