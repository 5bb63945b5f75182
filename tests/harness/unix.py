"""Unix accounts, directory permissions and process groups, as the private Dovecot needs them.

Dovecot refuses to run mail processes as root, so as root the test mail belongs to
an unprivileged system user; these helpers find or make that user, check that it
can reach the mail, and list a server's processes so that none outlives a test.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: The unprivileged owner of the test mail when the tests run as root.
MAIL_USER = "mailflowtest"


@dataclass(frozen=True)
class MailOwner:
    """The Unix account that owns the test mail and runs Dovecot's mail processes."""

    uid: int
    gid: int
    name: str


def mail_owner() -> MailOwner:
    """The current user, or (as root) an unprivileged system user, created if missing."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return MailOwner(entry.pw_uid, entry.pw_gid, entry.pw_name)
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        result = subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                                 "--shell", "/usr/sbin/nologin", MAIL_USER],
                                capture_output=True, text=True, check=False)
        if result.returncode not in (0, 9):  # 9: made meanwhile by a parallel run
            raise RuntimeError(f"useradd {MAIL_USER} failed: {result.stderr.strip()}") from None
        entry = pwd.getpwnam(MAIL_USER)
    if entry.pw_uid == 0:
        raise RuntimeError(f"{MAIL_USER} must not be root")
    return MailOwner(entry.pw_uid, entry.pw_gid, entry.pw_name)


def system_user(name: str, fallback: str) -> str:
    """`name` if that account exists here, else `fallback` (distributions differ)."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def system_group(name: str, fallback: str) -> str:
    """`name` if that group exists here, else `fallback` (distributions differ)."""
    try:
        grp.getgrnam(name)
    except KeyError:
        return fallback
    return name


def check_traversable(path: Path, owner: MailOwner) -> None:
    """Dovecot's mail processes (running as `owner`) must reach the mail under `path`.

    pytest's tmp_path lives under a 0700 directory of root's, which they cannot
    enter; say so up front instead of letting every login fail with a log line.
    """
    for parent in path.resolve().parents:
        st = parent.stat()
        if st.st_uid == owner.uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid == owner.gid or owner.name in grp.getgrgid(st.st_gid).gr_mem:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            raise ValueError(f"{parent} (mode {st.st_mode & 0o777:o}) cannot be entered by "
                             f"{owner.name}, who owns the test mail; give a directory in a "
                             f"place others may enter, such as Path(tempfile.mkdtemp()) "
                             f"(opened to 0755 here), not pytest's tmp_path")


def process_group_members(pgid: int) -> list[int]:
    """Live (not yet exited) processes in process group `pgid`, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat[stat.rindex(")") + 2:].split()[:3]
        if state not in ("Z", "X") and int(group) == pgid:
            members.append(int(entry.name))
    return members
